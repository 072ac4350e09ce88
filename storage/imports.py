"""Writing parsed imports: an upsert by key, all in one transaction.

A file with any bad row writes nothing. Re-importing the same file changes
nothing. A child missing from a full children import is de-allocated, never
deleted, so its history stays.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.census import CensusFile, CensusRow
from bot.imports import ChildRow, ImportFailed, Problem, StaffRow
from bot.sources import SourceChild, SourceFile
from storage.children import Allocation, Child, reallocate
from storage.mapping import resolve_workers
from storage.org import Staff, Team

Progress = Callable[[int, int], None]


@dataclass
class Report:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deallocated: int = 0
    teams_created: int = 0
    changed_refs: list[str] = field(default_factory=list)
    # Council data files (Annex A, SSDA903, census): rows refused, and notes for the person.
    rejected: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    def summary(self, noun: str) -> str:
        parts = [f"{self.created} new", f"{self.updated} updated", f"{self.unchanged} unchanged"]
        if self.deallocated:
            parts.append(f"{self.deallocated} de-allocated (no longer in the file)")
        if self.teams_created:
            parts.append(f"{self.teams_created} new team(s)")
        if self.rejected:
            parts.append(f"{len(self.rejected)} rejected")
        return f"{noun}: " + ", ".join(parts)


def _apply(obj: Any, values: dict[str, Any]) -> bool:
    changed = False
    for key, value in values.items():
        if getattr(obj, key) != value:
            setattr(obj, key, value)
            changed = True
    return changed


def _channel_name(team: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in team.lower()).strip("-")


async def import_staff(
    session: AsyncSession,
    workspace_id: str,
    rows: list[tuple[int, StaffRow]],
    progress: Progress | None = None,
) -> Report:
    report = Report()
    teams = {t.name: t for t in await session.scalars(select(Team).where(Team.workspace_id == workspace_id))}
    existing = {s.user_id: s for s in await session.scalars(select(Staff).where(Staff.workspace_id == workspace_id))}
    slack_owner = {s.slack_user_id: s.user_id for s in existing.values()}
    problems: list[Problem] = []
    for n, (line, row) in enumerate(rows, 1):
        team = teams.get(row.team)
        if team is None:
            team = Team(workspace_id=workspace_id, name=row.team, office=row.office, kind=_team_kind(row))
            session.add(team)
            await session.flush()
            teams[row.team] = team
            report.teams_created += 1
        elif row.office and team.office != row.office:
            team.office = row.office
        slack_id = row.slack_id or row.user_id
        owner = slack_owner.get(slack_id)
        if owner is not None and owner != row.user_id:
            problems.append(Problem(line, f"slack_id {slack_id} already belongs to staff {owner}"))
            continue
        slack_owner[slack_id] = row.user_id
        values = {
            "name": row.name,
            "team_id": team.id,
            "role": row.role,
            "fte": row.fte,
            "qualified_on": row.qualified_on,
            "joined_on": row.joined_on,
            "slack_user_id": slack_id,
            "email": row.email,
        }
        staff = existing.get(row.user_id)
        if staff is None:
            staff = Staff(workspace_id=workspace_id, user_id=row.user_id, **values)
            session.add(staff)
            existing[row.user_id] = staff
            report.created += 1
        elif _apply(staff, values):
            report.updated += 1
        else:
            report.unchanged += 1
        if progress is not None:
            progress(n, len(rows))
    if problems:
        raise ImportFailed(problems)
    await session.flush()
    return report


def _team_kind(row: StaffRow) -> str:
    return "early_help" if row.role == "early_help" or "early help" in row.team.lower() else "social_work"


CHILD_FACTS = (
    "status",
    "status_since",
    "placement_start",
    "placement_type",
    "last_visit_on",
    "last_review_on",
)


async def import_children(
    session: AsyncSession,
    workspace_id: str,
    rows: list[tuple[int, ChildRow]],
    today: date,
    *,
    columns: tuple[str, ...],
    full: bool = True,
    progress: Progress | None = None,
) -> Report:
    """Upsert children; optional columns absent from the file leave stored values alone."""
    report = Report()
    staff = {s.user_id: s.id for s in await session.scalars(select(Staff).where(Staff.workspace_id == workspace_id))}
    problems = [
        Problem(line, f"unknown worker '{row.allocated_to}' in allocated_to (not in the staff list)")
        for line, row in rows
        if row.allocated_to is not None and row.allocated_to not in staff
    ]
    # A visit or review can't have happened yet: a future date is a typo or a
    # US-style date, and would silence reminders until then.
    problems += [
        Problem(line, f"{name} {getattr(row, name)} is in the future")
        for line, row in rows
        for name in ("last_visit_on", "last_review_on")
        if getattr(row, name) is not None and getattr(row, name) > today
    ]
    problems.sort(key=lambda p: p.line)
    if problems:
        raise ImportFailed(problems)
    children = {c.child_ref: c for c in await session.scalars(select(Child).where(Child.workspace_id == workspace_id))}
    present = [c for c in CHILD_FACTS if c in columns]
    seen: set[str] = set()
    for n, (_line, row) in enumerate(rows, 1):
        seen.add(row.child_ref)
        values = {c: getattr(row, c) for c in present}
        child = children.get(row.child_ref)
        target = staff[row.allocated_to] if row.allocated_to else None
        if child is None:
            child = Child(workspace_id=workspace_id, child_ref=row.child_ref, **values)
            session.add(child)
            await session.flush()
            await reallocate(session, child, target, today)
            report.created += 1
            report.changed_refs.append(row.child_ref)
        else:
            changed = _apply(child, values)
            moved = await reallocate(session, child, target, today)
            if changed or moved:
                report.updated += 1
                report.changed_refs.append(row.child_ref)
            else:
                report.unchanged += 1
        if progress is not None:
            progress(n, len(rows))
    if full:
        for ref, child in children.items():
            if ref not in seen and child.allocated_to is not None:
                await reallocate(session, child, None, today)
                report.deallocated += 1
    await session.flush()
    return report


# --- council data files: Annex A, SSDA903, workforce census -------------------


async def import_annex_a(
    session: AsyncSession,
    workspace_id: str,
    parsed: SourceFile,
    today: date,
    *,
    full: bool = True,
    strict: bool = True,
    progress: Progress | None = None,
) -> Report:
    """Children from an Annex A workbook (bot/annex_a.py), allocated to matched workers.

    `full`: children stored with a status the workbook lists (cin/cp/cla, per
    the lists present) who are not in it are de-allocated. `strict`: any
    rejected row (a bad cell, an unmatched worker) raises ImportFailed before
    anything is written; a dry run passes False to see the whole picture.
    """
    return await _import_source_children(
        session, workspace_id, parsed, today, full=full, strict=strict, progress=progress
    )


async def import_ssda903(
    session: AsyncSession,
    workspace_id: str,
    parsed: SourceFile,
    today: date,
    *,
    strict: bool = True,
    progress: Progress | None = None,
) -> Report:
    """Looked-after children from an SSDA903 return: facts only, allocation left alone.

    The return names no workers, so it neither allocates nor de-allocates; new
    children arrive unallocated, for a manager to allocate.
    """
    return await _import_source_children(
        session, workspace_id, parsed, today, full=False, strict=strict, progress=progress
    )


async def _import_source_children(
    session: AsyncSession,
    workspace_id: str,
    parsed: SourceFile,
    today: date,
    *,
    full: bool,
    strict: bool,
    progress: Progress | None,
) -> Report:
    report = Report(rejected=list(parsed.problems), warnings=list(parsed.warnings))
    matching = None
    if parsed.has_workers:
        matching = await resolve_workers(session, workspace_id, parsed.workers())
    staff = {s.user_id: s.id for s in await session.scalars(select(Staff).where(Staff.workspace_id == workspace_id))}
    accepted: list[tuple[SourceChild, int | None]] = []
    for item in parsed.children:
        target: int | None = None
        if matching is not None and item.worker is not None:
            user_id = matching.user_id_of(item.worker)
            if user_id is None:
                report.rejected.append(
                    Problem(
                        item.row,
                        f"allocated worker '{item.worker}' is not matched to the staff list "
                        f"({matching.reason_for(item.worker)}): "
                        "run `practice-bot import map-workers` to resolve",
                        item.sheet,
                    )
                )
                continue
            target = staff[user_id]
        accepted.append((item, target))
    report.rejected.sort(key=lambda p: (p.sheet or "", p.line))
    if strict and report.rejected:
        raise ImportFailed(report.rejected)

    children = {c.child_ref: c for c in await session.scalars(select(Child).where(Child.workspace_id == workspace_id))}
    # Rejected children count as present, so a dry run does not report them de-allocated.
    seen = {c.child_ref for c in parsed.children}
    new: dict[str, tuple[dict[str, Any], int | None]] = {}
    for n, (row, target) in enumerate(accepted, 1):
        values: dict[str, Any] = {"status": row.status, **row.facts}
        child = children.get(row.child_ref)
        if child is None:
            new[row.child_ref] = (values, target)
            report.created += 1
            report.changed_refs.append(row.child_ref)
        else:
            changed = _apply(child, values)
            moved = parsed.has_workers and await reallocate(session, child, target, today)
            if changed or moved:
                report.updated += 1
                report.changed_refs.append(row.child_ref)
            else:
                report.unchanged += 1
        if progress is not None:
            progress(n, len(accepted))
    await _insert_new_children(session, workspace_id, new, today)
    if full and parsed.has_workers:
        for ref, child in children.items():
            if ref not in seen and child.status in parsed.covers and child.allocated_to is not None:
                await reallocate(session, child, None, today)
                report.deallocated += 1
    await session.flush()
    return report


async def _insert_new_children(
    session: AsyncSession,
    workspace_id: str,
    new: dict[str, tuple[dict[str, Any], int | None]],
    today: date,
) -> None:
    """New children and their first allocations as two bulk inserts.

    The same as creating each Child and calling reallocate(), but a 10,000-row
    workbook is a few statements rather than 20,000 round trips.
    """
    if not new:
        return
    facts = ("status_since", "placement_start", "placement_type", "last_visit_on", "last_review_on")
    await session.execute(
        insert(Child),
        [
            {
                "workspace_id": workspace_id,
                "child_ref": ref,
                "allocated_to": target,
                **{f: values.get(f) for f in facts},
                "status": values["status"],
            }
            for ref, (values, target) in new.items()
        ],
    )
    rows = await session.execute(select(Child.child_ref, Child.id).where(Child.workspace_id == workspace_id))
    ids: dict[str, int] = {ref: child_id for ref, child_id in rows}
    allocations = [
        {"workspace_id": workspace_id, "child_id": ids[ref], "staff_id": target, "start_on": today}
        for ref, (_values, target) in new.items()
        if target is not None
    ]
    if allocations:
        await session.execute(insert(Allocation), allocations)


async def import_census(
    session: AsyncSession,
    workspace_id: str,
    parsed: CensusFile,
    *,
    strict: bool = True,
    progress: Progress | None = None,
) -> Report:
    """Update FTE, role and dates of staff already on the list, joined by `parsed.key`."""
    report = Report(rejected=list(parsed.problems), warnings=list(parsed.warnings))
    matching = await resolve_workers(session, workspace_id, [r.key for r in parsed.rows], methods=(parsed.key,))
    accepted: list[tuple[CensusRow, str]] = []
    for row in parsed.rows:
        user_id = matching.user_id_of(row.key)
        if user_id is None:
            report.rejected.append(
                Problem(
                    row.row,
                    f"'{row.key}' is not matched to the staff list ({matching.reason_for(row.key)})",
                    "census",
                )
            )
            continue
        accepted.append((row, user_id))
    report.rejected.sort(key=lambda p: p.line)
    if strict and report.rejected:
        raise ImportFailed(report.rejected)
    staff = {s.user_id: s for s in await session.scalars(select(Staff).where(Staff.workspace_id == workspace_id))}
    claimed: dict[str, int] = {}
    for n, (row, user_id) in enumerate(accepted, 1):
        if user_id in claimed:
            problem = Problem(row.row, f"'{row.key}' is the same person as row {claimed[user_id]}", "census")
            if strict:
                raise ImportFailed([problem])
            report.rejected.append(problem)
            continue
        claimed[user_id] = row.row
        person = staff[user_id]
        values = dict(row.values)
        if person.role == "admin":
            values.pop("role", None)  # the bot's permission, not a job: the census doesn't change it
        if _apply(person, values):
            report.updated += 1
        else:
            report.unchanged += 1
        if progress is not None:
            progress(n, len(accepted))
    await session.flush()
    return report
