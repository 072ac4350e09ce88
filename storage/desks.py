"""Desks, bookings, the waitlist and desk preferences.

Never a double booking: the database holds one live booking per desk per
half-day and one per worker per half-day (two UNIQUE constraints). A booking
is claimed by INSERT ... ON CONFLICT DO NOTHING and whoever's row lands has
the desk; losers try the next desk. A "day" is two rows (am and pm), inserted
together and kept only if both land. Dead bookings (cancelled, released,
moved) keep their history with `live` NULL, and NULLs never collide in a
UNIQUE constraint on SQLite or PostgreSQL, so only live rows count.
"""

from __future__ import annotations

import asyncio
import weakref
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, aliased, mapped_column

from bot.desks import (
    HALVES,
    AlreadyBooked,
    Booked,
    BookOutcome,
    DeskSpot,
    Half,
    Layout,
    Moved,
    MyBooking,
    MyWait,
    Prefs,
    Recurrence,
    Released,
    Request,
    Seated,
    Served,
    Span,
    Waitlisted,
    Worker,
    alternatives,
    halves_of,
    home_office,
    rank_desks,
    span_of,
)
from storage.db import Base, Database, UTCDateTime, WorkspaceScoped
from storage.org import Staff
from storage.upsert import insert_ignore

LIVE = 1
# Claims tried from one look at the free desks before looking again.
TRIES_PER_LOOK = 5
MAX_LOOKS = 200
GATE_SERVER = 8
GATE_SQLITE = 2


class Desk(WorkspaceScoped, Base):
    __tablename__ = "desks"
    __table_args__ = (UniqueConstraint("workspace_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40))
    office: Mapped[str] = mapped_column(String(100))
    floor: Mapped[str] = mapped_column(String(60))
    zone: Mapped[str] = mapped_column(String(60))
    position: Mapped[int] = mapped_column(Integer, default=0)
    # Equipment tags, comma-separated and sorted ("adjusted_chair,dual_screen").
    tags: Mapped[str] = mapped_column(String(200), default="")
    team_base: Mapped[str | None] = mapped_column(String(100))
    # A desk removed from the layout stays (its bookings' history points at it) but is inactive.
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class DeskBooking(WorkspaceScoped, Base):
    __tablename__ = "desk_bookings"
    __table_args__ = (
        UniqueConstraint("workspace_id", "desk_id", "day", "half", "live"),
        UniqueConstraint("workspace_id", "staff_id", "day", "half", "live"),
        # Free desks, check-in and release all look a day up across every desk.
        Index("ix_desk_bookings_workspace_day", "workspace_id", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    desk_id: Mapped[int] = mapped_column(ForeignKey("desks.id"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    day: Mapped[date] = mapped_column(Date)
    half: Mapped[str] = mapped_column(String(2))
    # booked | checked_in (live); cancelled | released | moved (history)
    status: Mapped[str] = mapped_column(String(12))
    # 1 while the booking holds the desk, NULL after: only live rows meet the UNIQUEs.
    live: Mapped[int | None] = mapped_column(Integer)
    # request | waitlist | recurring | moved | demo
    source: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class DeskWaitlist(WorkspaceScoped, Base):
    __tablename__ = "desk_waitlist"
    __table_args__ = (UniqueConstraint("workspace_id", "staff_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    day: Mapped[date] = mapped_column(Date)
    span: Mapped[str] = mapped_column(String(3))
    office: Mapped[str] = mapped_column(String(100))
    needs: Mapped[str] = mapped_column(String(200), default="")
    # First come, first served: ordered by this, then id.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DeskPrefs(WorkspaceScoped, Base):
    __tablename__ = "desk_prefs"
    __table_args__ = (UniqueConstraint("workspace_id", "staff_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    # Standing needs, applied to every booking.
    needs: Mapped[str] = mapped_column(String(200), default="")
    # Whether team-mates may see (through /whosin) when this worker is in. Off by default.
    share: Mapped[bool] = mapped_column(Boolean, default=False)


class DeskRecurrence(WorkspaceScoped, Base):
    __tablename__ = "desk_recurrences"
    __table_args__ = (UniqueConstraint("workspace_id", "staff_id", "weekday"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    weekday: Mapped[int] = mapped_column(Integer)
    span: Mapped[str] = mapped_column(String(3))
    office: Mapped[str | None] = mapped_column(String(100))
    needs: Mapped[str] = mapped_column(String(200), default="")


# --- small conversions ----------------------------------------------------------


def tags_text(tags: frozenset[str] | set[str] | tuple[str, ...]) -> str:
    return ",".join(sorted(tags))


def tags_of(text: str | None) -> frozenset[str]:
    return frozenset(t for t in (text or "").split(",") if t)


def _span(text: str) -> Span:
    return "am" if text == "am" else "pm" if text == "pm" else "day"


# A desk's columns in DeskSpot order: the hot reads (free desks, team-mates' desks) build
# spots from plain rows, not ORM objects; a burst of bookings reads them thousands of times.
_SPOT_COLUMNS = (
    Desk.code,
    Desk.office,
    Desk.floor,
    Desk.zone,
    Desk.tags,
    Desk.team_base,
    Desk.position,
    Desk.id,
)


def _spot_row(row: Any) -> DeskSpot:
    code, office, floor, zone, tags, team_base, position, desk_id = row
    return DeskSpot(code, office, floor, zone, tags_of(tags), team_base, position, desk_id)


def spot_of(desk: Desk) -> DeskSpot:
    return DeskSpot(
        code=desk.code,
        office=desk.office,
        floor=desk.floor,
        zone=desk.zone,
        tags=tags_of(desk.tags),
        team_base=desk.team_base,
        position=desk.position,
        id=desk.id,
    )


def worker_of(staff: Staff) -> Worker:
    return Worker(
        staff_id=staff.id,
        slack_user_id=staff.slack_user_id,
        name=staff.name,
        team_id=staff.team_id,
        team=staff.team.name,
        team_office=staff.team.office,
        is_manager=staff.is_manager,
    )


def _insert(session: AsyncSession) -> Any:
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    module: Any = postgresql if dialect == "postgresql" else sqlite
    return module.insert


# --- the layout -----------------------------------------------------------------


async def active_spots(session: AsyncSession, workspace_id: str) -> list[DeskSpot]:
    rows = await session.execute(
        select(*_SPOT_COLUMNS)
        .where(Desk.workspace_id == workspace_id, Desk.active.is_(True))
        .order_by(Desk.id)
    )
    return [_spot_row(r) for r in rows]


async def has_desks(session: AsyncSession, workspace_id: str) -> bool:
    return bool(
        await session.scalar(
            select(func.count()).select_from(Desk).where(Desk.workspace_id == workspace_id)
        )
    )


async def office_names(session: AsyncSession, workspace_id: str) -> list[str]:
    rows = await session.scalars(
        select(Desk.office)
        .where(Desk.workspace_id == workspace_id, Desk.active.is_(True))
        .group_by(Desk.office)
    )
    seen = list(rows)
    first_id = {
        o: i
        for o, i in (
            await session.execute(
                select(Desk.office, func.min(Desk.id))
                .where(Desk.workspace_id == workspace_id, Desk.active.is_(True))
                .group_by(Desk.office)
            )
        ).all()
    }
    return sorted(seen, key=lambda o: first_id.get(o, 0))


@dataclass
class SyncReport:
    added: int = 0
    changed: int = 0
    removed: int = 0
    moved: list[Moved] = field(default_factory=list)

    def summary(self) -> str:
        kept = sum(1 for m in self.moved if m.new_desk is not None)
        waiting = len(self.moved) - kept
        parts = [
            f"{self.added} desk(s) added",
            f"{self.changed} changed",
            f"{self.removed} removed",
        ]
        if self.moved:
            parts.append(f"{kept} booking(s) moved to another desk, {waiting} back on the waitlist")
        return ", ".join(parts)


async def sync_layout(
    session: AsyncSession,
    workspace_id: str,
    layout: Layout,
    today: date,
    now: datetime,
    scarce: Sequence[str] = (),
) -> SyncReport:
    """Make the desks table match `layout`; idempotent.

    A desk no longer in the layout is made inactive, and its bookings from
    `today` on are moved to the best free desk for their owner (same office),
    or put back on the waitlist. The caller tells the people in `moved`.
    """
    report = SyncReport()
    existing = {
        d.code: d
        for d in await session.scalars(select(Desk).where(Desk.workspace_id == workspace_id))
    }
    wanted = layout.spots()
    codes = {s.code for s in wanted}
    for spot in wanted:
        values = {
            "office": spot.office,
            "floor": spot.floor,
            "zone": spot.zone,
            "position": spot.position,
            "tags": tags_text(spot.tags),
            "team_base": spot.team_base,
            "active": True,
        }
        desk = existing.get(spot.code)
        if desk is None:
            session.add(Desk(workspace_id=workspace_id, code=spot.code, **values))
            report.added += 1
        elif any(getattr(desk, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(desk, k, v)
            report.changed += 1
    gone = [d for code, d in existing.items() if code not in codes and d.active]
    for desk in gone:
        desk.active = False
        report.removed += 1
    await session.flush()
    if gone:
        report.moved = await _rehome(
            session, workspace_id, [d.id for d in gone], today, now, scarce
        )
    return report


async def _rehome(
    session: AsyncSession,
    workspace_id: str,
    desk_ids: list[int],
    today: date,
    now: datetime,
    scarce: Sequence[str],
) -> list[Moved]:
    rows = list(
        await session.scalars(
            select(DeskBooking)
            .where(
                DeskBooking.workspace_id == workspace_id,
                DeskBooking.desk_id.in_(desk_ids),
                DeskBooking.day >= today,
                DeskBooking.live == LIVE,
            )
            .order_by(DeskBooking.day, DeskBooking.id)
        )
    )
    groups: dict[tuple[int, date], list[DeskBooking]] = {}
    for row in rows:
        groups.setdefault((row.staff_id, row.day), []).append(row)
    old_desks = {d.id: d for d in await session.scalars(select(Desk).where(Desk.id.in_(desk_ids)))}
    spots = await active_spots(session, workspace_id)
    offices = sorted({s.office for s in spots})
    moved: list[Moved] = []
    for (staff_id, day), group in groups.items():
        staff = await session.get(Staff, staff_id)
        assert staff is not None
        worker = worker_of(staff)
        old = old_desks[group[0].desk_id]
        halves = tuple(h for h in HALVES if h in {r.half for r in group})
        for row in group:
            row.status, row.live, row.ended_at = "moved", None, now
        await session.flush()
        prefs = await get_prefs(session, workspace_id, staff_id)
        office = (
            old.office
            if old.office in offices
            else home_office(worker.team, worker.team_office, offices, spots)
        )
        new_desk: DeskSpot | None = None
        booking_id = group[0].id
        if office is not None:
            request = Request(staff_id, day, halves, office, prefs.needs, worker.team)
            snapshot = await look(session, workspace_id, request, worker)
            for desk in rank_desks(
                snapshot.free, request, snapshot.mates, snapshot.waiting, scarce
            )[:TRIES_PER_LOOK]:
                ids = await try_claim(
                    session, workspace_id, staff_id, desk.id, day, halves, now, "moved"
                )
                if ids:
                    new_desk, booking_id = desk, ids[0]
                    break
        if new_desk is None:
            await wait(
                session,
                workspace_id,
                staff_id,
                day,
                span_of(halves),
                office or old.office,
                prefs.needs,
                now,
            )
        moved.append(Moved(worker, day, halves, old.code, booking_id, new_desk))
    return moved


# --- claiming ---------------------------------------------------------------------


async def try_claim(
    session: AsyncSession,
    workspace_id: str,
    staff_id: int,
    desk_id: int,
    day: date,
    halves: Sequence[Half],
    now: datetime,
    source: str,
    status: str = "booked",
) -> list[int] | None:
    """Claim `desk_id` for every half in `halves`, or nothing; the new rows' ids.

    The UNIQUE constraints decide: a row that would make a second live booking
    of the desk, or of the worker, is not inserted. Never raises on a conflict,
    so it is safe inside a longer transaction on PostgreSQL.
    """
    rows = [
        {
            "workspace_id": workspace_id,
            "desk_id": desk_id,
            "staff_id": staff_id,
            "day": day,
            "half": half,
            "status": status,
            "live": LIVE,
            "source": source,
            "created_at": now,
            "checked_in_at": now if status == "checked_in" else None,
        }
        for half in halves
    ]
    stmt = (
        _insert(session)(DeskBooking)
        .values(rows)
        .on_conflict_do_nothing()
        .returning(DeskBooking.id)
    )
    ids = sorted((await session.execute(stmt)).scalars())
    if len(ids) == len(rows):
        return ids
    if ids:
        # Half a day is not what was asked for: give it back.
        await session.execute(delete(DeskBooking).where(DeskBooking.id.in_(ids)))
    return None


@dataclass(frozen=True)
class Snapshot:
    free: list[DeskSpot]
    mates: list[DeskSpot]
    waiting: list[frozenset[str]]


def _live_on(day: date, halves: Sequence[str]) -> Any:
    return (
        (DeskBooking.day == day) & DeskBooking.half.in_(list(halves)) & (DeskBooking.live == LIVE)
    )


async def free_spots(
    session: AsyncSession,
    workspace_id: str,
    day: date,
    halves: Sequence[str],
    office: str | None = None,
) -> list[DeskSpot]:
    """Active desks with no live booking in any of `halves` on `day`."""
    taken = select(DeskBooking.desk_id).where(
        DeskBooking.workspace_id == workspace_id, _live_on(day, halves)
    )
    query = select(*_SPOT_COLUMNS).where(
        Desk.workspace_id == workspace_id, Desk.active.is_(True), Desk.id.not_in(taken)
    )
    if office is not None:
        query = query.where(Desk.office == office)
    return [_spot_row(r) for r in await session.execute(query.order_by(Desk.id))]


async def free_by_day(
    session: AsyncSession, workspace_id: str, days: Sequence[date]
) -> dict[date, dict[Half, list[DeskSpot]]]:
    """Free desks per day and half, for several days in two queries."""
    spots = await active_spots(session, workspace_id)
    rows = await session.execute(
        select(DeskBooking.desk_id, DeskBooking.day, DeskBooking.half).where(
            DeskBooking.workspace_id == workspace_id,
            DeskBooking.day.in_(list(days)),
            DeskBooking.live == LIVE,
        )
    )
    taken = {(d, day, h) for d, day, h in rows.all()}
    return {
        day: {h: [s for s in spots if (s.id, day, h) not in taken] for h in HALVES} for day in days
    }


def _free_for(by_half: dict[Half, list[DeskSpot]], halves: Sequence[Half]) -> list[DeskSpot]:
    ids = set.intersection(*({d.id for d in by_half[h]} for h in halves))
    return [d for d in by_half[halves[0]] if d.id in ids]


async def look(
    session: AsyncSession, workspace_id: str, request: Request, worker: Worker
) -> Snapshot:
    free = await free_spots(session, workspace_id, request.day, request.halves, request.office)
    mates = await team_spots(
        session, workspace_id, worker.team_id, request.day, exclude_staff=worker.staff_id
    )
    waiting = await waiting_needs(
        session, workspace_id, request.day, request.halves, exclude_staff=worker.staff_id
    )
    return Snapshot(free, mates, waiting)


async def team_spots(
    session: AsyncSession,
    workspace_id: str,
    team_id: int,
    day: date,
    exclude_staff: int | None = None,
) -> list[DeskSpot]:
    """Desks team-mates have booked on `day` (any half)."""
    query = (
        select(*_SPOT_COLUMNS)
        .join(DeskBooking, DeskBooking.desk_id == Desk.id)
        .join(Staff, Staff.id == DeskBooking.staff_id)
        .where(
            Desk.workspace_id == workspace_id,
            DeskBooking.workspace_id == workspace_id,
            Staff.team_id == team_id,
            _live_on(day, HALVES),
        )
        .distinct()
    )
    if exclude_staff is not None:
        query = query.where(DeskBooking.staff_id != exclude_staff)
    return [_spot_row(r) for r in await session.execute(query)]


async def waiting_needs(
    session: AsyncSession,
    workspace_id: str,
    day: date,
    halves: Sequence[str],
    exclude_staff: int | None = None,
) -> list[frozenset[str]]:
    spans = [s for s, covers in _SPAN_HALVES.items() if covers & set(halves)]
    query = (
        select(DeskWaitlist.needs)
        .where(
            DeskWaitlist.workspace_id == workspace_id,
            DeskWaitlist.day == day,
            DeskWaitlist.span.in_(spans),
            DeskWaitlist.needs != "",
        )
        .distinct()
    )
    if exclude_staff is not None:
        query = query.where(DeskWaitlist.staff_id != exclude_staff)
    return [n for n in (tags_of(t) for t in await session.scalars(query)) if n]


async def _mine_on(
    session: AsyncSession, workspace_id: str, staff_id: int, day: date
) -> list[DeskBooking]:
    return list(
        await session.scalars(
            select(DeskBooking).where(
                DeskBooking.workspace_id == workspace_id,
                DeskBooking.staff_id == staff_id,
                _live_on(day, HALVES),
            )
        )
    )


async def wait(
    session: AsyncSession,
    workspace_id: str,
    staff_id: int,
    day: date,
    span: Span,
    office: str,
    needs: frozenset[str],
    now: datetime,
) -> None:
    """A place on the waitlist; asking again keeps the place and updates the details."""
    values = {"span": span, "office": office, "needs": tags_text(needs)}
    inserted = await insert_ignore(
        session,
        DeskWaitlist,
        {
            "workspace_id": workspace_id,
            "staff_id": staff_id,
            "day": day,
            "created_at": now,
            **values,
        },
        ["workspace_id", "staff_id", "day"],
    )
    if not inserted:
        await session.execute(
            update(DeskWaitlist)
            .where(
                DeskWaitlist.workspace_id == workspace_id,
                DeskWaitlist.staff_id == staff_id,
                DeskWaitlist.day == day,
            )
            .values(**values)
        )


_SPAN_HALVES: dict[str, set[str]] = {"am": {"am"}, "pm": {"pm"}, "day": {"am", "pm"}}


_GATES: weakref.WeakKeyDictionary[Any, asyncio.Semaphore] = weakref.WeakKeyDictionary()


def _gate(db: Database) -> asyncio.Semaphore:
    """How many bookings this process works on at once, per database.

    A burst of requests (everyone booking at 9 on Monday) otherwise has every
    request look, lose the race for the same desks, and look again, until the
    connection pool runs dry. Requests beyond the gate wait their turn; those
    inside still race each other (and other processes) and the UNIQUE
    constraints still decide every claim. SQLite takes one writer at a time
    anyway, so it gets a narrower gate.
    """
    gate = _GATES.get(db.engine)
    if gate is None:
        gate = _GATES[db.engine] = asyncio.Semaphore(GATE_SQLITE if db.is_sqlite else GATE_SERVER)
    return gate


def _attempts(ranked: list[DeskSpot], staff_id: int, look: int) -> list[DeskSpot]:
    """The desks to try from one look: the best first, then (because losing the
    best means others are booking at this moment) the rest of the ranking from
    a point of this requester's own, so racing requesters spread out instead of
    all reaching for the same second-best desk."""
    if len(ranked) <= 1:
        return ranked
    rest = ranked[1:]
    start = zlib.crc32(f"{staff_id}:{look}".encode()) % len(rest)
    return [ranked[0], *(rest[start:] + rest[:start])][:TRIES_PER_LOOK]


class _Lost(Exception):
    """The desk went to someone else between looking and claiming."""


async def book(
    db: Database,
    workspace_id: str,
    worker: Worker,
    day: date,
    halves: Sequence[Half],
    office: str,
    needs: frozenset[str],
    now: datetime,
    scarce: Sequence[str] = (),
    source: str = "request",
    later_days: Sequence[date] = (),
) -> tuple[BookOutcome, list[Served]]:
    """Give `worker` the best free desk, or a waitlist place with alternatives.

    Returns the outcome and anyone else served from the waitlist on the way.
    Safe to call concurrently: every claim is decided by the UNIQUE constraints.
    """
    async with _gate(db):
        return await _book(
            db, workspace_id, worker, day, halves, office, needs, now, scarce, source, later_days
        )


async def _book(
    db: Database,
    workspace_id: str,
    worker: Worker,
    day: date,
    halves: Sequence[Half],
    office: str,
    needs: frozenset[str],
    now: datetime,
    scarce: Sequence[str],
    source: str,
    later_days: Sequence[date],
) -> tuple[BookOutcome, list[Served]]:
    wanted = tuple(halves)
    already: tuple[Half, ...] = ()
    snapshot = Snapshot([], [], [])
    for round_no in range(MAX_LOOKS):
        async with db.session() as session:
            mine = await _mine_on(session, workspace_id, worker.staff_id, day)
            held = {r.half for r in mine}
            if held >= set(wanted):
                row = await session.get(Desk, next(r.desk_id for r in mine if r.half in wanted))
                assert row is not None
                return AlreadyBooked(spot_of(row), day, tuple(h for h in HALVES if h in held)), []
            if held:
                already = tuple(h for h in wanted if h in held)
                wanted = tuple(h for h in wanted if h not in held)
            request = Request(worker.staff_id, day, wanted, office, needs, worker.team)
            snapshot = await look(session, workspace_id, request, worker)
        ranked = rank_desks(snapshot.free, request, snapshot.mates, snapshot.waiting, scarce)
        if not ranked:
            break
        for desk in _attempts(ranked, worker.staff_id, round_no):
            try:
                async with db.transaction() as session:
                    ids = await try_claim(
                        session, workspace_id, worker.staff_id, desk.id, day, wanted, now, source
                    )
                    if ids is None:
                        raise _Lost
                    await session.execute(
                        delete(DeskWaitlist).where(
                            DeskWaitlist.workspace_id == workspace_id,
                            DeskWaitlist.staff_id == worker.staff_id,
                            DeskWaitlist.day == day,
                        )
                    )
            except _Lost:
                continue
            return Booked(desk, day, wanted, ids[0], already), []
    # Nothing fits: a place on the waitlist, and the nearest alternatives.
    async with db.transaction() as session:
        await wait(session, workspace_id, worker.staff_id, day, span_of(wanted), office, needs, now)
    # The free desks for the alternatives, read after the waitlist place is in: if the day
    # has none (the usual case when full), nobody can be served, and the waitlist pass is
    # skipped; anyone freeing a desk later serves the waitlist themselves.
    days = [day, *later_days[:5]]
    async with db.session() as session:
        free = await free_by_day(session, workspace_id, days)
    served: list[Served] = []
    if any(free[day][h] for h in HALVES):
        # A desk freed while we were looking must not be missed: serve the waitlist now.
        served = await fill_waitlist(db, workspace_id, day, now, scarce)
        for s in served:
            if s.worker.staff_id == worker.staff_id:
                return Booked(s.desk, day, s.halves, s.booking_id, already), [
                    o for o in served if o is not s
                ]
        if served:
            async with db.session() as session:
                free = await free_by_day(session, workspace_id, days)
    async with db.session() as session:
        position = await waitlist_position(session, workspace_id, worker.staff_id, day)
        if position is None:
            # Served by someone else's pass in the meantime.
            mine = await _mine_on(session, workspace_id, worker.staff_id, day)
            if mine:
                got = await session.get(Desk, mine[0].desk_id)
                assert got is not None
                halves_now = tuple(h for h in HALVES if h in {r.half for r in mine})
                return Booked(spot_of(got), day, halves_now, mine[0].id, already), served
            position = 0
    # Scarce-need waiters as the last look saw them, a moment ago: enough to rank alternatives.
    waiting = snapshot.waiting
    by_half: dict[str, Sequence[DeskSpot]] = {h: free[day][h] for h in HALVES}
    later = [(d, _free_for(free[d], wanted)) for d in later_days[:5]]
    request = Request(worker.staff_id, day, wanted, office, needs, worker.team)
    alts = alternatives(request, by_half, waiting, scarce, later)
    return Waitlisted(day, wanted, office, needs, position, tuple(alts)), served


async def waitlist_position(
    session: AsyncSession, workspace_id: str, staff_id: int, day: date
) -> int | None:
    """Place in the queue for `day` among people waiting for the same office (1 is next)."""
    # One query: my entry, and how many for the same office and day are ahead of it.
    mine = aliased(DeskWaitlist)
    ahead = (
        select(func.count())
        .select_from(DeskWaitlist)
        .where(
            DeskWaitlist.workspace_id == workspace_id,
            DeskWaitlist.day == day,
            DeskWaitlist.office == mine.office,
            (DeskWaitlist.created_at < mine.created_at)
            | ((DeskWaitlist.created_at == mine.created_at) & (DeskWaitlist.id < mine.id)),
        )
        .correlate(mine)
        .scalar_subquery()
    )
    found = (
        await session.execute(
            select(ahead).where(
                mine.workspace_id == workspace_id, mine.staff_id == staff_id, mine.day == day
            )
        )
    ).first()
    return None if found is None else int(found[0] or 0) + 1


@dataclass(frozen=True)
class _Waiter:
    id: int
    worker: Worker
    halves: tuple[Half, ...]
    office: str
    needs: frozenset[str]


async def _waiters(session: AsyncSession, workspace_id: str, day: date) -> list[_Waiter]:
    rows = (
        await session.execute(
            select(DeskWaitlist, Staff)
            .join(Staff, Staff.id == DeskWaitlist.staff_id)
            .where(DeskWaitlist.workspace_id == workspace_id, DeskWaitlist.day == day)
            .order_by(DeskWaitlist.created_at, DeskWaitlist.id)
        )
    ).all()
    return [
        _Waiter(
            entry.id,
            worker_of(staff),
            halves_of(_span(entry.span)),
            entry.office,
            tags_of(entry.needs),
        )
        for entry, staff in rows
    ]


async def fill_waitlist(
    db: Database, workspace_id: str, day: date, now: datetime, scarce: Sequence[str] = ()
) -> list[Served]:
    """Give free desks on `day` to waiting workers, first come first served.

    The first waiting worker whose needs a free desk meets gets it. Safe to run
    concurrently with bookings and with itself: each hand-over deletes the
    waitlist entry and claims the desk in one transaction, or does neither.
    """
    served: list[Served] = []
    for _ in range(MAX_LOOKS):
        async with db.session() as session:
            # Free desks first: when the day is full (the usual case) that is all it takes.
            free_by_half: dict[str, Sequence[DeskSpot]] = {
                h: await free_spots(session, workspace_id, day, (h,)) for h in HALVES
            }
            if not any(free_by_half.values()):
                break
            waiters = await _waiters(session, workspace_id, day)
            if not waiters:
                break
            mates_by_team: dict[int, list[DeskSpot]] = {}
            for w in waiters:
                if w.worker.team_id not in mates_by_team:
                    mates_by_team[w.worker.team_id] = await team_spots(
                        session, workspace_id, w.worker.team_id, day
                    )
        progress = False
        for waiter in waiters:
            free_ids = set.intersection(*({d.id for d in free_by_half[h]} for h in waiter.halves))
            if not free_ids:
                continue
            free = [d for d in free_by_half[waiter.halves[0]] if d.id in free_ids]
            others = [
                w.needs for w in waiters if w is not waiter and set(w.halves) & set(waiter.halves)
            ]
            request = Request(
                waiter.worker.staff_id,
                day,
                waiter.halves,
                waiter.office,
                waiter.needs,
                waiter.worker.team,
            )
            ranked = rank_desks(
                free, request, mates_by_team.get(waiter.worker.team_id, []), others, scarce
            )
            for desk in _attempts(ranked, waiter.worker.staff_id, 0):
                try:
                    async with db.transaction() as session:
                        gone = await session.execute(
                            delete(DeskWaitlist)
                            .where(DeskWaitlist.id == waiter.id)
                            .returning(DeskWaitlist.id)
                        )
                        if gone.first() is None:
                            break  # served (or cancelled) by someone else meanwhile
                        ids = await try_claim(
                            session,
                            workspace_id,
                            waiter.worker.staff_id,
                            desk.id,
                            day,
                            waiter.halves,
                            now,
                            "waitlist",
                        )
                        if ids is None:
                            raise _Lost
                except _Lost:
                    continue
                served.append(Served(waiter.worker, desk, day, waiter.halves, ids[0]))
                progress = True
                break
            if progress:
                break  # the free desks changed: look again
        if not progress:
            break
    return served


# --- cancelling, checking in, releasing ------------------------------------------


@dataclass(frozen=True)
class Cancelled:
    desk: DeskSpot | None
    halves: tuple[Half, ...]
    left_waitlist: bool


async def cancel(
    db: Database,
    workspace_id: str,
    staff_id: int,
    day: date,
    halves: Sequence[Half],
    now: datetime,
    scarce: Sequence[str] = (),
) -> tuple[Cancelled, list[Served]]:
    async with db.transaction() as session:
        rows = [r for r in await _mine_on(session, workspace_id, staff_id, day) if r.half in halves]
        desk = await session.get(Desk, rows[0].desk_id) if rows else None
        for row in rows:
            row.status, row.live, row.ended_at = "cancelled", None, now
        gone = await session.execute(
            delete(DeskWaitlist)
            .where(
                DeskWaitlist.workspace_id == workspace_id,
                DeskWaitlist.staff_id == staff_id,
                DeskWaitlist.day == day,
            )
            .returning(DeskWaitlist.id)
        )
        left = gone.first() is not None
    result = Cancelled(
        spot_of(desk) if desk else None,
        tuple(h for h in HALVES if h in {r.half for r in rows}),
        left,
    )
    served = await fill_waitlist(db, workspace_id, day, now, scarce) if rows else []
    return result, served


async def check_in(
    db: Database, workspace_id: str, staff_id: int, day: date, now: datetime
) -> list[MyBooking]:
    """Confirm every live booking `staff_id` has on `day`; returns them."""
    async with db.transaction() as session:
        rows = await _mine_on(session, workspace_id, staff_id, day)
        for row in rows:
            if row.status == "booked":
                row.status, row.checked_in_at = "checked_in", now
        if not rows:
            return []
        desk = await session.get(Desk, rows[0].desk_id)
        assert desk is not None
        return [
            MyBooking(
                day, tuple(h for h in HALVES if h in {r.half for r in rows}), spot_of(desk), True
            )
        ]


async def release_unconfirmed(
    db: Database,
    workspace_id: str,
    day: date,
    mornings: bool,
    made_before: datetime,
    now: datetime,
    scarce: Sequence[str] = (),
) -> tuple[list[Released], list[Served]]:
    """Let go of bookings on `day` nobody checked in to.

    At the morning release (`mornings`): morning and whole-day bookings. At the
    afternoon release: afternoon bookings. Bookings made after `made_before`
    are left alone; their owners may be on their way.
    """
    released: list[Released] = []
    async with db.transaction() as session:
        query = (
            select(DeskBooking, Staff, Desk)
            .join(Staff, Staff.id == DeskBooking.staff_id)
            .join(Desk, Desk.id == DeskBooking.desk_id)
            .where(
                DeskBooking.workspace_id == workspace_id,
                DeskBooking.day == day,
                DeskBooking.live == LIVE,
                DeskBooking.status == "booked",
                DeskBooking.created_at < made_before,
            )
            .order_by(DeskBooking.id)
        )
        rows = (await session.execute(query)).all()
        by_staff: dict[int, list[tuple[DeskBooking, Staff, Desk]]] = {}
        for booking, staff, desk in rows:
            by_staff.setdefault(staff.id, []).append((booking, staff, desk))
        for group in by_staff.values():
            halves = {b.half for b, _, _ in group}
            if mornings and "am" not in halves:
                continue  # an afternoon booking waits for the afternoon release
            chosen = group if mornings else [g for g in group if g[0].half == "pm"]
            if not chosen:
                continue
            for booking, _, _ in chosen:
                booking.status, booking.live, booking.ended_at = "released", None, now
            booking, staff, desk = chosen[0]
            released.append(
                Released(
                    worker_of(staff),
                    spot_of(desk),
                    day,
                    tuple(h for h in HALVES if h in {b.half for b, _, _ in chosen}),
                    booking.id,
                )
            )
    served = await fill_waitlist(db, workspace_id, day, now, scarce) if released else []
    return released, served


# --- reading ----------------------------------------------------------------------


def _group(rows: Sequence[tuple[DeskBooking, Desk]]) -> list[MyBooking]:
    by_day: dict[date, list[tuple[DeskBooking, Desk]]] = {}
    for booking, desk in rows:
        by_day.setdefault(booking.day, []).append((booking, desk))
    out: list[MyBooking] = []
    for day in sorted(by_day):
        items = by_day[day]
        # A worker may (rarely) have two desks in a day: one line each.
        by_desk: dict[int, list[DeskBooking]] = {}
        desks: dict[int, Desk] = {}
        for booking, desk in items:
            by_desk.setdefault(desk.id, []).append(booking)
            desks[desk.id] = desk
        for desk_id, bookings in by_desk.items():
            halves = tuple(h for h in HALVES if h in {b.half for b in bookings})
            checked = all(b.status == "checked_in" for b in bookings)
            out.append(MyBooking(day, halves, spot_of(desks[desk_id]), checked))
    return out


async def upcoming(
    session: AsyncSession, workspace_id: str, staff_id: int, today: date
) -> list[MyBooking]:
    rows = (
        await session.execute(
            select(DeskBooking, Desk)
            .join(Desk, Desk.id == DeskBooking.desk_id)
            .where(
                DeskBooking.workspace_id == workspace_id,
                DeskBooking.staff_id == staff_id,
                DeskBooking.day >= today,
                DeskBooking.live == LIVE,
            )
            .order_by(DeskBooking.day, DeskBooking.half)
        )
    ).all()
    return _group([(b, d) for b, d in rows])


async def my_waits(
    session: AsyncSession, workspace_id: str, staff_id: int, today: date
) -> list[MyWait]:
    entries = await session.scalars(
        select(DeskWaitlist)
        .where(
            DeskWaitlist.workspace_id == workspace_id,
            DeskWaitlist.staff_id == staff_id,
            DeskWaitlist.day >= today,
        )
        .order_by(DeskWaitlist.day)
    )
    out: list[MyWait] = []
    for entry in entries:
        position = await waitlist_position(session, workspace_id, staff_id, entry.day) or 0
        out.append(MyWait(entry.day, _span(entry.span), entry.office, position))
    return out


async def booked_today(
    session: AsyncSession, workspace_id: str, day: date
) -> list[tuple[Worker, MyBooking]]:
    """Everyone with an unconfirmed live booking on `day`: the morning check-in list."""
    rows = (
        await session.execute(
            select(DeskBooking, Desk, Staff)
            .join(Desk, Desk.id == DeskBooking.desk_id)
            .join(Staff, Staff.id == DeskBooking.staff_id)
            .where(
                DeskBooking.workspace_id == workspace_id,
                DeskBooking.day == day,
                DeskBooking.live == LIVE,
            )
            .order_by(Staff.name, DeskBooking.half)
        )
    ).all()
    per_staff: dict[int, tuple[Staff, list[tuple[DeskBooking, Desk]]]] = {}
    for booking, desk, staff in rows:
        per_staff.setdefault(staff.id, (staff, []))[1].append((booking, desk))
    out: list[tuple[Worker, MyBooking]] = []
    for staff, items in per_staff.values():
        for mine in _group(items):
            if not mine.checked_in:
                out.append((worker_of(staff), mine))
    return out


async def seated(
    session: AsyncSession, workspace_id: str, team_id: int, day: date
) -> tuple[list[Seated], int]:
    """Team members in on `day` who share (named) and how many more are in (not named)."""
    rows = (
        await session.execute(
            select(DeskBooking, Desk, Staff, DeskPrefs.share)
            .join(Desk, Desk.id == DeskBooking.desk_id)
            .join(Staff, Staff.id == DeskBooking.staff_id)
            .outerjoin(
                DeskPrefs,
                (DeskPrefs.staff_id == Staff.id) & (DeskPrefs.workspace_id == workspace_id),
            )
            .where(
                DeskBooking.workspace_id == workspace_id,
                DeskBooking.day == day,
                DeskBooking.live == LIVE,
                Staff.team_id == team_id,
            )
            .order_by(Staff.name, DeskBooking.half)
        )
    ).all()
    sharing: dict[int, list[tuple[DeskBooking, Desk, Staff]]] = {}
    private: set[int] = set()
    for booking, desk, staff, share in rows:
        if share:
            sharing.setdefault(staff.id, []).append((booking, desk, staff))
        else:
            private.add(staff.id)
    out: list[Seated] = []
    for items in sharing.values():
        for mine in _group([(b, d) for b, d, _ in items]):
            staff = items[0][2]
            out.append(
                Seated(staff.name, staff.slack_user_id, mine.desk, mine.halves, mine.checked_in)
            )
    return out, len(private)


async def taken(session: AsyncSession, workspace_id: str, day: date) -> list[tuple[int, str]]:
    rows = await session.execute(
        select(DeskBooking.desk_id, DeskBooking.half).where(
            DeskBooking.workspace_id == workspace_id,
            DeskBooking.day == day,
            DeskBooking.live == LIVE,
        )
    )
    return [(int(d), str(h)) for d, h in rows.all()]


async def has_any_on(session: AsyncSession, workspace_id: str, staff_id: int, day: date) -> bool:
    """Any booking (live or not) or waitlist place: a recurring booking leaves such days alone."""
    booking = await session.scalar(
        select(func.count())
        .select_from(DeskBooking)
        .where(
            DeskBooking.workspace_id == workspace_id,
            DeskBooking.staff_id == staff_id,
            DeskBooking.day == day,
        )
    )
    waiting = await session.scalar(
        select(func.count())
        .select_from(DeskWaitlist)
        .where(
            DeskWaitlist.workspace_id == workspace_id,
            DeskWaitlist.staff_id == staff_id,
            DeskWaitlist.day == day,
        )
    )
    return bool(booking or waiting)


# --- preferences and recurring bookings -------------------------------------------


async def get_prefs(session: AsyncSession, workspace_id: str, staff_id: int) -> Prefs:
    row = await session.scalar(
        select(DeskPrefs).where(
            DeskPrefs.workspace_id == workspace_id, DeskPrefs.staff_id == staff_id
        )
    )
    return Prefs(tags_of(row.needs), row.share) if row else Prefs()


async def _prefs_row(session: AsyncSession, workspace_id: str, staff_id: int) -> DeskPrefs:
    await insert_ignore(
        session,
        DeskPrefs,
        {"workspace_id": workspace_id, "staff_id": staff_id, "needs": "", "share": False},
        ["workspace_id", "staff_id"],
    )
    row = await session.scalar(
        select(DeskPrefs).where(
            DeskPrefs.workspace_id == workspace_id, DeskPrefs.staff_id == staff_id
        )
    )
    assert row is not None
    return row


async def set_needs(
    session: AsyncSession, workspace_id: str, staff_id: int, needs: frozenset[str]
) -> None:
    row = await _prefs_row(session, workspace_id, staff_id)
    row.needs = tags_text(needs)


async def set_share(session: AsyncSession, workspace_id: str, staff_id: int, on: bool) -> None:
    row = await _prefs_row(session, workspace_id, staff_id)
    row.share = on


async def set_recurrence(
    session: AsyncSession, workspace_id: str, staff_id: int, recurrence: Recurrence
) -> None:
    values = {
        "span": recurrence.span,
        "office": recurrence.office,
        "needs": tags_text(recurrence.needs),
    }
    inserted = await insert_ignore(
        session,
        DeskRecurrence,
        {
            "workspace_id": workspace_id,
            "staff_id": staff_id,
            "weekday": recurrence.weekday,
            **values,
        },
        ["workspace_id", "staff_id", "weekday"],
    )
    if not inserted:
        await session.execute(
            update(DeskRecurrence)
            .where(
                DeskRecurrence.workspace_id == workspace_id,
                DeskRecurrence.staff_id == staff_id,
                DeskRecurrence.weekday == recurrence.weekday,
            )
            .values(**values)
        )


async def stop_recurrence(
    session: AsyncSession, workspace_id: str, staff_id: int, weekday: int
) -> bool:
    result = await session.execute(
        delete(DeskRecurrence)
        .where(
            DeskRecurrence.workspace_id == workspace_id,
            DeskRecurrence.staff_id == staff_id,
            DeskRecurrence.weekday == weekday,
        )
        .returning(DeskRecurrence.id)
    )
    return result.first() is not None


def _recurrence(row: DeskRecurrence) -> Recurrence:
    return Recurrence(row.weekday, _span(row.span), row.office, tags_of(row.needs))


async def recurrences_of(
    session: AsyncSession, workspace_id: str, staff_id: int
) -> list[Recurrence]:
    rows = await session.scalars(
        select(DeskRecurrence)
        .where(DeskRecurrence.workspace_id == workspace_id, DeskRecurrence.staff_id == staff_id)
        .order_by(DeskRecurrence.weekday)
    )
    return [_recurrence(r) for r in rows]


async def all_recurrences(
    session: AsyncSession, workspace_id: str
) -> list[tuple[Worker, Recurrence]]:
    rows = (
        await session.execute(
            select(DeskRecurrence, Staff)
            .join(Staff, Staff.id == DeskRecurrence.staff_id)
            .where(DeskRecurrence.workspace_id == workspace_id)
            .order_by(Staff.id, DeskRecurrence.weekday)
        )
    ).all()
    return [(worker_of(staff), _recurrence(r)) for r, staff in rows]


async def workspaces_with_desks(session: AsyncSession) -> list[str]:
    return list(await session.scalars(select(Desk.workspace_id).distinct()))
