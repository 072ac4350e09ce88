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

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.imports import ChildRow, ImportFailed, Problem, StaffRow
from storage.children import Child, reallocate
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

    def summary(self, noun: str) -> str:
        parts = [f"{self.created} new", f"{self.updated} updated", f"{self.unchanged} unchanged"]
        if self.deallocated:
            parts.append(f"{self.deallocated} de-allocated (no longer in the file)")
        if self.teams_created:
            parts.append(f"{self.teams_created} new team(s)")
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
    teams = {
        t.name: t for t in await session.scalars(select(Team).where(Team.workspace_id == workspace_id))
    }
    existing = {
        s.user_id: s for s in await session.scalars(select(Staff).where(Staff.workspace_id == workspace_id))
    }
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


CHILD_FACTS = ("status", "status_since", "placement_start", "placement_type", "last_visit_on", "last_review_on")


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
    staff = {
        s.user_id: s.id for s in await session.scalars(select(Staff).where(Staff.workspace_id == workspace_id))
    }
    problems = [
        Problem(line, f"unknown worker '{row.allocated_to}' in allocated_to (not in the staff list)")
        for line, row in rows
        if row.allocated_to is not None and row.allocated_to not in staff
    ]
    if problems:
        raise ImportFailed(problems)
    children = {
        c.child_ref: c for c in await session.scalars(select(Child).where(Child.workspace_id == workspace_id))
    }
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
