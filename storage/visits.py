"""Recorded visits, and the queries behind reminders, digests and compliance.

A child's current facts are the `children` row, with `last_visit_on` taken as
the later of the row's value (from the case system's import) and the latest
statutory visit recorded here: an import lagging behind the bot never moves a
due date backwards. Every query is one statement however many workers or
teams it covers (no N+1): a digest for all teams costs a constant number.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncGenerator, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from operator import attrgetter
from typing import Any, Literal

from sqlalchemy import (
    Date,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    func,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.selectable import Select, Subquery

from bot.imports import ImportFailed, Problem, VisitRow
from bot.visits import ChildFacts, PlacementType, Status
from storage.children import Child
from storage.db import Base, UTCDateTime, WorkspaceScoped
from storage.imports import Report
from storage.org import Staff, Team
from storage.streams import STREAM_CHUNK
from storage.upsert import insert_ignore

# "statutory" visits count towards the visit rhythm; "review" is a review held
# that day (it moves last_review_on); "other" is kept as history only.
STATUTORY = "statutory"
KINDS = ("statutory", "review", "other")

# The longest visit interval is 3 months (CLA reg 28(2)(c), long-term) and
# 12 weeks (private fostering after year one): compliance needs the visit
# before a 4-week window plus this much.
HISTORY_DAYS = 28 + 120


class Visit(WorkspaceScoped, Base):
    __tablename__ = "visits"
    __table_args__ = (
        UniqueConstraint("workspace_id", "child_id", "visited_on", "kind"),
        Index("ix_visits_workspace_id_visited_on", "workspace_id", "visited_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"), index=True)
    visited_on: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(20))
    # Null for history imported from a case system.
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


@dataclass(frozen=True, slots=True)
class Held:
    """A child with its facts, who holds it, and in which team."""

    child_id: int
    facts: ChildFacts
    staff_id: int
    worker: str
    slack_user_id: str
    team_id: int


def _facts(child: Child, latest_visit: date | None) -> ChildFacts:
    return _facts_of(
        child.child_ref,
        child.status,
        child.status_since,
        child.placement_start,
        child.placement_type,
        child.last_visit_on,
        child.last_review_on,
        latest_visit,
    )


_STATUSES = {s.value: s for s in Status}
_PLACEMENTS = {p.value: p for p in PlacementType}


def _facts_of(
    child_ref: str,
    status: str,
    status_since: date | None,
    placement_start: date | None,
    placement_type: str | None,
    last_visit_on: date | None,
    last_review_on: date | None,
    latest_visit: date | None,
) -> ChildFacts:
    last = last_visit_on
    if latest_visit is not None and (last is None or latest_visit > last):
        last = latest_visit
    return ChildFacts(
        child_ref,
        _STATUSES[status],
        status_since,
        placement_start,
        _PLACEMENTS[placement_type] if placement_type else None,
        last,
        last_review_on,
    )


def _latest_visits(workspace_id: str) -> Subquery:
    return (
        select(Visit.child_id, func.max(Visit.visited_on).label("latest"))
        .where(Visit.workspace_id == workspace_id, Visit.kind == STATUTORY)
        .group_by(Visit.child_id)
        .subquery()
    )


# The facts columns, in `_facts_of` order: plain rows, no ORM objects to build and track
# (a run over every child in a large authority reads tens of thousands).
_FACT_COLUMNS = (
    Child.child_ref,
    Child.status,
    Child.status_since,
    Child.placement_start,
    Child.placement_type,
    Child.last_visit_on,
    Child.last_review_on,
)


async def held_children(
    session: AsyncSession,
    workspace_id: str,
    staff_ids: Sequence[int] | None = None,
    team_id: int | None = None,
) -> list[Held]:
    """Allocated children with their facts, in one query: for some workers, a team, or all."""
    if staff_ids is None and team_id is None:
        # Everyone: one pass over the visits, grouped.
        latest_sq = _latest_visits(workspace_id)
        latest: Any = latest_sq.c.latest
    else:
        # A few workers or a team: each child's latest visit from the index, rather than
        # grouping the whole authority's history to keep a few dozen rows.
        latest = (
            select(func.max(Visit.visited_on))
            .where(
                Visit.workspace_id == workspace_id,
                Visit.child_id == Child.id,
                Visit.kind == STATUTORY,
            )
            .correlate(Child)
            .scalar_subquery()
        )
    query = _held_query(workspace_id, latest).order_by(Child.child_ref)
    if staff_ids is None and team_id is None:
        query = query.outerjoin(latest_sq, latest_sq.c.child_id == Child.id)
    if staff_ids is not None:
        if not staff_ids:
            return []
        query = query.where(Child.allocated_to.in_(staff_ids))
    if team_id is not None:
        query = query.where(Staff.team_id == team_id)
    rows = await session.execute(query)
    return _held_rows(rows)


def _held_query(workspace_id: str, latest: Any) -> Select[Any]:
    return (
        select(Child.id, *_FACT_COLUMNS, latest, Staff.id, Staff.name, Staff.slack_user_id, Staff.team_id)
        .join(Staff, Staff.id == Child.allocated_to)
        .where(Child.workspace_id == workspace_id, Staff.workspace_id == workspace_id)
    )


def _held_rows(rows: Iterable[Any]) -> list[Held]:
    # Unpacked as plain tuples: a large authority has tens of thousands of rows.
    return [
        Held(child_id, _facts_of(ref, status, since, start, kind, visit, review, latest), staff, name, user, team)
        for child_id, ref, status, since, start, kind, visit, review, latest, staff, name, user, team in rows
    ]


async def held_by(
    session: AsyncSession, workspace_id: str, group: Literal["team", "worker"]
) -> AsyncGenerator[list[Held], None]:
    """Every allocated child with its facts, one team's (or one worker's) at a time.

    One query however many teams, streamed (storage/streams.py): a job over a large
    authority holds one team's children, not all 40,000 at once. Teams come in team id
    order, workers in staff id order; each group's children in case reference order.
    Close it (`contextlib.aclosing`) or read it to the end: its cursor holds the connection.
    """
    latest_sq = _latest_visits(workspace_id)
    key = Staff.team_id if group == "team" else Staff.id
    query = (
        _held_query(workspace_id, latest_sq.c.latest)
        .outerjoin(latest_sq, latest_sq.c.child_id == Child.id)
        .order_by(key, Child.child_ref)
        .execution_options(yield_per=STREAM_CHUNK)
    )
    result = await session.stream(query)
    try:
        key_of = attrgetter("team_id" if group == "team" else "staff_id")
        items: list[Held] = []
        async for rows in result.partitions():
            for item in _held_rows(rows):
                if items and key_of(item) != key_of(items[0]):
                    yield items
                    items = []
                items.append(item)
        if items:
            yield items
    finally:
        await result.close()  # closed early too: the connection is free for what follows


async def child_facts(session: AsyncSession, workspace_id: str, child_ref: str) -> tuple[Child, ChildFacts] | None:
    child = await session.scalar(select(Child).where(Child.workspace_id == workspace_id, Child.child_ref == child_ref))
    if child is None:
        return None
    latest = await session.scalar(
        select(func.max(Visit.visited_on)).where(
            Visit.workspace_id == workspace_id, Visit.child_id == child.id, Visit.kind == STATUTORY
        )
    )
    return child, _facts(child, latest)


async def visit_history(
    session: AsyncSession, workspace_id: str, since: date, child_ids: Sequence[int] | None = None
) -> dict[int, list[date]]:
    """Statutory visits on or after `since`, per child, in one query."""
    query = select(Visit.child_id, Visit.visited_on).where(
        Visit.workspace_id == workspace_id,
        Visit.kind == STATUTORY,
        Visit.visited_on >= since,
    )
    if child_ids is not None:
        if not child_ids:
            return {}
        query = query.where(Visit.child_id.in_(child_ids))
    out: dict[int, list[date]] = defaultdict(list)
    for child_id, visited_on in await session.execute(query):
        out[child_id].append(visited_on)
    return out


async def visit_texts(session: AsyncSession, workspace_id: str, since: date) -> dict[int, str]:
    """Statutory visits on or after `since`, per child, each child's as one short text.

    "2026-07-11,2026-08-13,...": read them with `visit_dates`, a team at a time. One query,
    grouped by child: a large authority's 150,000 visits come back as 25,000 short strings
    (a few MB, not the 35 MB of rows and dates), and SQLite answers it from the
    (workspace, child, date, kind) unique index alone, six times faster than the rows.
    """
    if session.get_bind().dialect.name == "postgresql":
        day: Any = func.to_char(Visit.visited_on, "YYYY-MM-DD")  # whatever the server's DateStyle
    else:
        day = Visit.visited_on  # SQLite keeps a date as its ISO text
    query = (
        select(Visit.child_id, func.aggregate_strings(day, ","))
        .where(Visit.workspace_id == workspace_id, Visit.kind == STATUTORY, Visit.visited_on >= since)
        .group_by(Visit.child_id)
    )
    return {child_id: text for child_id, text in await session.execute(query)}


def visit_dates(texts: dict[int, str], child_ids: Iterable[int]) -> dict[int, list[date]]:
    """`visit_texts` turned back into dates, for these children: `visit_history`'s shape."""
    return {c: [date.fromisoformat(d) for d in texts[c].split(",")] for c in child_ids if c in texts}


def history_with_last(held: Held, history: dict[int, list[date]], since: date) -> list[date]:
    """Recorded visits plus the imported last visit date (itself a visit, often the only record)."""
    visits = list(history.get(held.child_id, []))
    last = held.facts.last_visit_on
    if last is not None and last >= since:
        visits.append(last)
    return visits


async def teams_by_id(session: AsyncSession, workspace_id: str) -> dict[int, Team]:
    rows = await session.scalars(select(Team).where(Team.workspace_id == workspace_id))
    return {t.id: t for t in rows}


async def managers_by_team(session: AsyncSession, workspace_id: str) -> dict[int, list[Staff]]:
    rows = await session.scalars(select(Staff).where(Staff.workspace_id == workspace_id, Staff.role == "manager"))
    out: dict[int, list[Staff]] = defaultdict(list)
    for manager in rows:
        out[manager.team_id].append(manager)
    return out


async def workspaces(session: AsyncSession) -> list[str]:
    return list(await session.scalars(select(Staff.workspace_id).distinct()))


# --- recording -----------------------------------------------------------------


async def record_visit(
    session: AsyncSession,
    workspace_id: str,
    child: Child,
    visited_on: date,
    kind: str,
    recorded_by: int | None,
    at: datetime,
) -> bool:
    """Add a visit (True) unless that visit is already recorded (False).

    A statutory visit moves the child's last visit forward, never back; a
    review moves the last review forward.
    """
    added = await insert_ignore(
        session,
        Visit,
        {
            "workspace_id": workspace_id,
            "child_id": child.id,
            "visited_on": visited_on,
            "kind": kind,
            "recorded_by": recorded_by,
            "recorded_at": at,
        },
        ["workspace_id", "child_id", "visited_on", "kind"],
    )
    if kind == STATUTORY and (child.last_visit_on is None or visited_on > child.last_visit_on):
        child.last_visit_on = visited_on
    if kind == "review" and (child.last_review_on is None or visited_on > child.last_review_on):
        child.last_review_on = visited_on
    return added


async def import_visits(
    session: AsyncSession,
    workspace_id: str,
    rows: list[tuple[int, VisitRow]],
    today: date,
    at: datetime,
) -> Report:
    """Bulk visit history (child_ref,visited_on,kind): all or nothing, idempotent.

    Every problem is reported with its line number before anything is
    written: an unknown child, or a visit dated after today.
    """
    children = {c.child_ref: c for c in await session.scalars(select(Child).where(Child.workspace_id == workspace_id))}
    problems: list[Problem] = []
    for line, row in rows:
        if row.child_ref not in children:
            problems.append(Problem(line, f"unknown child_ref '{row.child_ref}' (import children first)"))
        elif row.visited_on > today:
            problems.append(Problem(line, f"visited_on {row.visited_on} is in the future"))
    if problems:
        raise ImportFailed(problems)
    existing = {
        (child_id, visited_on, kind)
        for child_id, visited_on, kind in await session.execute(
            select(Visit.child_id, Visit.visited_on, Visit.kind).where(Visit.workspace_id == workspace_id)
        )
    }
    report = Report()
    seen: set[tuple[int, date, str]] = set()
    for _line, row in rows:
        child = children[row.child_ref]
        key = (child.id, row.visited_on, row.kind)
        if key in existing or key in seen:
            report.unchanged += 1
            continue
        seen.add(key)
        session.add(
            Visit(
                workspace_id=workspace_id,
                child_id=child.id,
                visited_on=row.visited_on,
                kind=row.kind,
                recorded_by=None,
                recorded_at=at,
            )
        )
        if row.kind == STATUTORY and (child.last_visit_on is None or row.visited_on > child.last_visit_on):
            child.last_visit_on = row.visited_on
        if row.kind == "review" and (child.last_review_on is None or row.visited_on > child.last_review_on):
            child.last_review_on = row.visited_on
        report.created += 1
        report.changed_refs.append(row.child_ref)
    await session.flush()
    return report


def history_start(today: date) -> date:
    return today - timedelta(days=HISTORY_DAYS)
