"""Caseload queries: what each worker holds now and held on a past day, and breaches."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncGenerator, Sequence
from datetime import date

from sqlalchemy import Date, String, UniqueConstraint, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bot.caseload import CaseloadStatus, Holding, TeamSummary, Worker, assess, summarise_team
from bot.policy import CaseloadPolicy
from storage.children import Allocation, Child
from storage.db import Base, WorkspaceScoped
from storage.org import Staff, Team
from storage.streams import STREAM_CHUNK


class CaseloadBreach(WorkspaceScoped, Base):
    """A stretch of time a worker (or team) is over a limit: alerted once, at its start."""

    __tablename__ = "caseload_breaches"
    __table_args__ = (UniqueConstraint("workspace_id", "subject", "kind", "started_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(64))  # "staff:<id>" or "team:<id>"
    kind: Mapped[str] = mapped_column(String(20))  # over_cap | fast_rise | team_average
    started_on: Mapped[date] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)


def as_worker(staff: Staff) -> Worker:
    return Worker(
        user_id=staff.user_id,
        name=staff.name,
        role=staff.role,
        fte=staff.fte,
        team=staff.team.name,
        qualified_on=staff.qualified_on,
        joined_on=staff.joined_on,
    )


async def holdings(session: AsyncSession, workspace_id: str, staff_ids: Sequence[int]) -> dict[int, list[Holding]]:
    """Children each worker holds now, in one query however many workers."""
    if not staff_ids:
        return {}
    rows = await session.execute(
        select(Child.allocated_to, Child.child_ref, Child.status, Allocation.start_on)
        .outerjoin(
            Allocation,
            and_(
                Allocation.child_id == Child.id,
                Allocation.staff_id == Child.allocated_to,
                Allocation.end_on.is_(None),
            ),
        )
        .where(Child.workspace_id == workspace_id, Child.allocated_to.in_(staff_ids))
        .order_by(Child.child_ref)
    )
    out: dict[int, list[Holding]] = defaultdict(list)
    for staff_id, ref, status, start in rows:
        assert staff_id is not None  # filtered by the IN above
        out[staff_id].append(Holding(child_ref=ref, status=status, allocated_on=start))
    return out


async def holdings_by_team(
    session: AsyncSession, workspace_id: str
) -> AsyncGenerator[tuple[int, dict[int, list[Holding]]], None]:
    """What each worker holds now, one team at a time: (team id, {staff id: holdings}).

    In team id order, each worker's children in case reference order, as `holdings` gives
    them: one query, streamed (storage/streams.py), so the morning check of a large
    authority holds one team's children at a time. Close it or read it to the end.
    """
    query = (
        select(Staff.team_id, Child.allocated_to, Child.child_ref, Child.status, Allocation.start_on)
        .join(Staff, Staff.id == Child.allocated_to)
        .outerjoin(
            Allocation,
            and_(
                Allocation.child_id == Child.id,
                Allocation.staff_id == Child.allocated_to,
                Allocation.end_on.is_(None),
            ),
        )
        .where(Child.workspace_id == workspace_id, Staff.workspace_id == workspace_id)
        .order_by(Staff.team_id, Child.child_ref)
        .execution_options(yield_per=STREAM_CHUNK)
    )
    result = await session.stream(query)
    try:
        team: int | None = None
        held: dict[int, list[Holding]] = defaultdict(list)
        async for rows in result.partitions():
            for team_id, staff_id, ref, status, start in rows:
                if team_id != team:
                    if team is not None:
                        yield team, held
                    team, held = team_id, defaultdict(list)
                assert staff_id is not None  # joined to its worker
                held[staff_id].append(Holding(child_ref=ref, status=status, allocated_on=start))
        if team is not None:
            yield team, held
    finally:
        await result.close()  # closed early too: the connection is free for what follows


async def counts_on(session: AsyncSession, workspace_id: str, staff_ids: Sequence[int], day: date) -> dict[int, int]:
    """How many children each worker held at the end of `day`."""
    if not staff_ids:
        return {}
    rows = await session.execute(
        select(Allocation.staff_id, func.count())
        .where(
            Allocation.workspace_id == workspace_id,
            Allocation.staff_id.in_(staff_ids),
            Allocation.start_on <= day,
            or_(Allocation.end_on.is_(None), Allocation.end_on > day),
        )
        .group_by(Allocation.staff_id)
    )
    return {staff_id: n for staff_id, n in rows}


async def team_staff(session: AsyncSession, workspace_id: str, team_id: int) -> list[Staff]:
    rows = await session.scalars(
        select(Staff).where(Staff.workspace_id == workspace_id, Staff.team_id == team_id).order_by(Staff.name)
    )
    return list(rows)


async def open_breaches(session: AsyncSession, workspace_id: str) -> dict[tuple[str, str], CaseloadBreach]:
    rows = await session.scalars(
        select(CaseloadBreach).where(CaseloadBreach.workspace_id == workspace_id, CaseloadBreach.ended_on.is_(None))
    )
    return {(b.subject, b.kind): b for b in rows}


async def worker_status(
    session: AsyncSession, workspace_id: str, staff: Staff, policy: CaseloadPolicy, today: date
) -> CaseloadStatus:
    held = (await holdings(session, workspace_id, [staff.id])).get(staff.id, [])
    return assess(as_worker(staff), held, policy, today)


async def team_summary(
    session: AsyncSession, workspace_id: str, team: Team, policy: CaseloadPolicy, today: date
) -> TeamSummary:
    members = await team_staff(session, workspace_id, team.id)
    held = await holdings(session, workspace_id, [m.id for m in members])
    statuses = [assess(as_worker(m), held.get(m.id, []), policy, today) for m in members]
    return summarise_team(team.name, statuses, policy)
