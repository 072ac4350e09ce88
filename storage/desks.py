"""Desks, bookings, the waitlist and desk preferences.

Never a double booking: the database holds one live booking per desk per
half-day and one per worker per half-day (two UNIQUE constraints). A booking
is claimed by INSERT ... ON CONFLICT DO NOTHING and whoever's row lands has
the desk; losers try the next desk. A "day" is two rows (am and pm), inserted
together and kept only if both land. Dead bookings (cancelled, released,
moved) keep their history with `live` NULL, and NULLs never collide in a
UNIQUE constraint on SQLite or PostgreSQL, so only live rows count.

Requests for the same day that arrive together (everyone booking at nine on
Monday) are allocated in one pass: read the day once, decide each request in
arrival order as it would be decided alone, write every claim and waitlist
place in one transaction (see `book`). A claim of that pass that does not land
(another process took the desk) is booked again the one-request way.
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
from sqlalchemy.exc import DBAPIError
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


def _half(text: str) -> Half:
    return "am" if text == "am" else "pm"


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
        select(*_SPOT_COLUMNS).where(Desk.workspace_id == workspace_id, Desk.active.is_(True)).order_by(Desk.id)
    )
    return [_spot_row(r) for r in rows]


async def has_desks(session: AsyncSession, workspace_id: str) -> bool:
    return bool(await session.scalar(select(func.count()).select_from(Desk).where(Desk.workspace_id == workspace_id)))


async def office_names(session: AsyncSession, workspace_id: str) -> list[str]:
    rows = await session.scalars(
        select(Desk.office).where(Desk.workspace_id == workspace_id, Desk.active.is_(True)).group_by(Desk.office)
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
    existing = {d.code: d for d in await session.scalars(select(Desk).where(Desk.workspace_id == workspace_id))}
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
        report.moved = await _rehome(session, workspace_id, [d.id for d in gone], today, now, scarce)
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
        office = old.office if old.office in offices else home_office(worker.team, worker.team_office, offices, spots)
        new_desk: DeskSpot | None = None
        booking_id = group[0].id
        if office is not None:
            request = Request(staff_id, day, halves, office, prefs.needs, worker.team)
            snapshot = await look(session, workspace_id, request, worker)
            for desk in rank_desks(snapshot.free, request, snapshot.mates, snapshot.waiting, scarce)[:TRIES_PER_LOOK]:
                ids = await try_claim(session, workspace_id, staff_id, desk.id, day, halves, now, "moved")
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


def _booking_rows(
    workspace_id: str,
    staff_id: int,
    desk_id: int,
    day: date,
    halves: Sequence[Half],
    now: datetime,
    source: str,
    status: str = "booked",
) -> list[dict[str, Any]]:
    return [
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
    rows = _booking_rows(workspace_id, staff_id, desk_id, day, halves, now, source, status)
    stmt = _insert(session)(DeskBooking).values(rows).on_conflict_do_nothing().returning(DeskBooking.id)
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
    return (DeskBooking.day == day) & DeskBooking.half.in_(list(halves)) & (DeskBooking.live == LIVE)


async def free_spots(
    session: AsyncSession,
    workspace_id: str,
    day: date,
    halves: Sequence[str],
    office: str | None = None,
) -> list[DeskSpot]:
    """Active desks with no live booking in any of `halves` on `day`."""
    taken = select(DeskBooking.desk_id).where(DeskBooking.workspace_id == workspace_id, _live_on(day, halves))
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
    return {day: {h: [s for s in spots if (s.id, day, h) not in taken] for h in HALVES} for day in days}


def _free_for(by_half: dict[Half, list[DeskSpot]], halves: Sequence[Half]) -> list[DeskSpot]:
    ids = set.intersection(*({d.id for d in by_half[h]} for h in halves))
    return [d for d in by_half[halves[0]] if d.id in ids]


async def look(session: AsyncSession, workspace_id: str, request: Request, worker: Worker) -> Snapshot:
    free = await free_spots(session, workspace_id, request.day, request.halves, request.office)
    mates = await team_spots(session, workspace_id, worker.team_id, request.day, exclude_staff=worker.staff_id)
    waiting = await waiting_needs(session, workspace_id, request.day, request.halves, exclude_staff=worker.staff_id)
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


async def _mine_on(session: AsyncSession, workspace_id: str, staff_id: int, day: date) -> list[DeskBooking]:
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


# --- booking: a burst for the same day in one pass (group commit) -----------------
#
# Everyone books at nine on Monday. Alone, a request costs a look (its own
# bookings, free desks, team-mates' desks, waiting needs), a claim and, when the
# day is full, a waitlist place, a queue position and alternatives; and in a
# burst most claims lose to someone else's and look again. So the requests for
# one workspace and day that arrive while a batch for that day is being worked
# on queue up, and the next batch takes all of them, in the order they asked: it
# reads the day once, decides every request in memory exactly as one request
# alone would be decided, one after another, and writes every answer in one
# transaction. A lone request is a batch of one: nothing waits on a timer.
#
# There is no semaphore gate any more. It kept a burst from draining the
# connection pool with requests racing for the same desks; a batch uses one
# connection at a time and only one batch per day runs in a process, which is
# the gate. Other processes still race us, and the UNIQUE constraints still
# decide every claim.


_Answer = tuple[BookOutcome, list[Served]]


@dataclass
class _Ask:
    """One caller's request, waiting for its batch to answer it."""

    worker: Worker
    halves: tuple[Half, ...]
    office: str
    needs: frozenset[str]
    now: datetime
    source: str
    later_days: tuple[date, ...]
    answer: asyncio.Future[_Answer]


@dataclass
class _Lane:
    """The requests for one day queued in this process, and the task answering them."""

    queue: list[_Ask] = field(default_factory=list)
    task: asyncio.Task[None] | None = None


# (workspace, day, scarce tags): the scarce tags are policy, the same for every request
# in practice; keying on them keeps a batch to one rule for protecting scarce desks.
_LaneKey = tuple[str, date, tuple[str, ...]]
_LANES: weakref.WeakKeyDictionary[Any, dict[_LaneKey, _Lane]] = weakref.WeakKeyDictionary()

# Rows per multi-row statement: well under both databases' limits on bound parameters.
_CHUNK = 500
# Requests decided between two looks at the event loop.
_YIELD_EVERY = 100
# PostgreSQL's deadlock and serialisation failures: two processes' batches waiting
# on each other's claims. The transaction is rolled back and nothing of it landed.
_CONTENDED = frozenset({"40P01", "40001"})


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
    Safe to call concurrently: requests for the same day are answered together
    in arrival order, and every claim is decided by the UNIQUE constraints.
    """
    if not halves:
        # Refused here, not in the batch it would break for everyone else.
        raise ValueError("a booking needs at least one half-day")
    ask = _Ask(
        worker,
        tuple(halves),
        office,
        needs,
        now,
        source,
        tuple(later_days),
        asyncio.get_running_loop().create_future(),
    )
    key: _LaneKey = (workspace_id, day, tuple(scarce))
    lanes = _LANES.setdefault(db.engine, {})
    lane = lanes.get(key)
    if lane is None:
        lane = lanes[key] = _Lane()
        lane.task = asyncio.create_task(_run_lane(db, key, lanes, lane))
    lane.queue.append(ask)
    return await ask.answer


async def _run_lane(db: Database, key: _LaneKey, lanes: dict[_LaneKey, _Lane], lane: _Lane) -> None:
    workspace_id, day, scarce = key
    try:
        while lane.queue:
            batch, lane.queue = _next_batch(lane.queue)
            await _answer_batch(db, workspace_id, day, scarce, batch)
    finally:
        # No await between finding the queue empty and here: a later request starts a new lane.
        if lanes.get(key) is lane:
            del lanes[key]
        stopped = RuntimeError("desk booking stopped before this request was answered")
        for ask in lane.queue:
            if not ask.answer.done():
                ask.answer.set_exception(stopped)


def _next_batch(queue: list[_Ask]) -> tuple[list[_Ask], list[_Ask]]:
    """Everyone queued, in arrival order, but one request per worker: a second
    one (a double click) waits for the next batch, so it sees the first one's
    outcome as stored rather than as this batch hopes it will be."""
    batch: list[_Ask] = []
    later: list[_Ask] = []
    seen: set[int] = set()
    for ask in queue:
        (later if ask.worker.staff_id in seen else batch).append(ask)
        seen.add(ask.worker.staff_id)
    return batch, later


async def _answer_batch(db: Database, workspace_id: str, day: date, scarce: tuple[str, ...], batch: list[_Ask]) -> None:
    # Every caller gets an answer or the exception: none may wait for ever.
    try:
        answers = await _allocate(db, workspace_id, day, scarce, batch)
    except asyncio.CancelledError:
        for ask in batch:
            ask.answer.cancel()
        raise
    except Exception as exc:  # noqa: BLE001 - handed to every caller of the batch
        for ask in batch:
            if not ask.answer.done():
                ask.answer.set_exception(exc)
        return
    for ask, answer in zip(batch, answers, strict=True):
        if not ask.answer.done():  # its caller may have given up waiting
            ask.answer.set_result(answer)


@dataclass
class _Day:
    """The day as the batch's one read saw it, kept up to date as the batch decides."""

    free: dict[Half, dict[int, DeskSpot]]
    """Free active desks per half, in desk id order (as `free_spots` lists them)."""
    held: dict[int, dict[Half, DeskSpot]]
    """Each worker's live bookings: half to desk."""
    seated: dict[int, list[tuple[int, DeskSpot]]]
    """Each team's live bookings: (staff id, desk)."""
    waiting: dict[int, tuple[frozenset[Half], frozenset[str]]]
    """Halves and needs of each waiting worker with needs: only needs protect a
    desk, and most people waiting have none, so they are left out."""

    def free_for(self, halves: tuple[Half, ...], office: str) -> list[DeskSpot]:
        return [
            d
            for d in self.free[halves[0]].values()
            if d.office == office and all(d.id in self.free[h] for h in halves[1:])
        ]

    def mates(self, team_id: int, staff_id: int) -> list[DeskSpot]:
        return list(dict.fromkeys(d for s, d in self.seated.get(team_id, []) if s != staff_id))

    def needs_waiting(self, halves: tuple[Half, ...], staff_id: int) -> list[frozenset[str]]:
        return list(
            dict.fromkeys(needs for s, (wants, needs) in self.waiting.items() if s != staff_id and wants & set(halves))
        )

    def seat(self, worker: Worker, desk: DeskSpot, halves: tuple[Half, ...]) -> None:
        for h in halves:
            del self.free[h][desk.id]
            self.held.setdefault(worker.staff_id, {})[h] = desk
        self.seated.setdefault(worker.team_id, []).append((worker.staff_id, desk))
        # Booking deletes the worker's waitlist entry: it protects nothing for them now.
        self.waiting.pop(worker.staff_id, None)

    def wait(self, staff_id: int, halves: tuple[Half, ...], needs: frozenset[str]) -> None:
        # Later requests in the batch protect scarce desks for this one, as they would
        # have after its waitlist place was written (asking again replaces the details).
        self.waiting.pop(staff_id, None)
        if needs:
            self.waiting[staff_id] = (frozenset(halves), needs)


async def _read_day(session: AsyncSession, workspace_id: str, day: date) -> _Day:
    spots = await active_spots(session, workspace_id)
    free: dict[Half, dict[int, DeskSpot]] = {h: {s.id: s for s in spots} for h in HALVES}
    held: dict[int, dict[Half, DeskSpot]] = {}
    seated: dict[int, list[tuple[int, DeskSpot]]] = {}
    # One read of the day's bookings answers three questions: which desks are
    # taken, what the batch's own workers hold, and where each team sits.
    bookings = await session.execute(
        select(DeskBooking.staff_id, DeskBooking.half, Staff.team_id, *_SPOT_COLUMNS)
        .join(Staff, Staff.id == DeskBooking.staff_id)
        .join(Desk, Desk.id == DeskBooking.desk_id)
        .where(DeskBooking.workspace_id == workspace_id, _live_on(day, HALVES))
        .order_by(DeskBooking.id)
    )
    for staff_id, text, team_id, *desk in bookings:
        spot, half = _spot_row(desk), _half(text)
        free[half].pop(spot.id, None)
        held.setdefault(staff_id, {})[half] = spot
        seated.setdefault(team_id, []).append((staff_id, spot))
    entries = await session.execute(
        select(DeskWaitlist.staff_id, DeskWaitlist.span, DeskWaitlist.needs).where(
            DeskWaitlist.workspace_id == workspace_id, DeskWaitlist.day == day
        )
    )
    waiting = {
        staff_id: (frozenset(halves_of(_span(span))), tags_of(needs))
        for staff_id, span, needs in entries
        if tags_of(needs)
    }
    return _Day(free, held, seated, waiting)


@dataclass(frozen=True)
class _Claim:
    ask: _Ask
    desk: DeskSpot
    halves: tuple[Half, ...]
    already: tuple[Half, ...]


@dataclass(frozen=True)
class _Wait:
    ask: _Ask
    request: Request
    already: tuple[Half, ...]
    waiting: tuple[frozenset[str], ...]
    """The waiting needs this request was ranked against: enough to rank its alternatives."""


_Decision = AlreadyBooked | _Claim | _Wait


def _decide(state: _Day, ask: _Ask, day: date, scarce: tuple[str, ...]) -> _Decision:
    """What `_book` would decide for `ask` alone, looking at `state`; `state` follows."""
    worker = ask.worker
    held = state.held.get(worker.staff_id, {})
    if set(held) >= set(ask.halves):
        desk = next(held[h] for h in ask.halves)
        return AlreadyBooked(desk, day, tuple(h for h in HALVES if h in held))
    already = tuple(h for h in ask.halves if h in held)
    wanted = tuple(h for h in ask.halves if h not in held)
    request = Request(worker.staff_id, day, wanted, ask.office, ask.needs, worker.team)
    waiting = state.needs_waiting(wanted, worker.staff_id)
    ranked = rank_desks(
        state.free_for(wanted, ask.office),
        request,
        state.mates(worker.team_id, worker.staff_id),
        waiting,
        scarce,
    )
    if not ranked:
        state.wait(worker.staff_id, wanted, ask.needs)
        return _Wait(ask, request, already, tuple(waiting))
    state.seat(worker, ranked[0], wanted)
    return _Claim(ask, ranked[0], wanted, already)


async def _allocate(
    db: Database, workspace_id: str, day: date, scarce: tuple[str, ...], batch: list[_Ask]
) -> list[_Answer]:
    async with db.session() as session:
        state = await _read_day(session, workspace_id, day)
    decisions: list[_Decision] = []
    for ask in batch:
        decisions.append(_decide(state, ask, day, scarce))
        if len(decisions) % _YIELD_EVERY == 0:
            # Deciding is all Python: let other listeners ack their requests meanwhile.
            await asyncio.sleep(0)
    claims = [d for d in decisions if isinstance(d, _Claim)]
    waits = [d for d in decisions if isinstance(d, _Wait)]
    try:
        landed = await _write(db, workspace_id, day, claims, waits)
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) not in _CONTENDED:
            raise
        # Nothing of the batch was written: every request goes the one-at-a-time way.
        landed, waits = {}, []
    answers: dict[int, _Answer] = {}
    for claim in claims:
        ids = landed.get(claim.ask.worker.staff_id)
        if ids is not None:
            answers[id(claim.ask)] = (
                Booked(claim.desk, day, claim.halves, ids[0], claim.already),
                [],
            )
    if waits:
        answers.update(await _answer_waits(db, workspace_id, day, scarce, waits))
    for decision, ask in zip(decisions, batch, strict=True):
        if isinstance(decision, AlreadyBooked):
            answers[id(ask)] = (decision, [])
        elif id(ask) not in answers:
            # Another process took the desk (or the write had to be given up): rare, so
            # correctness over speed, through the path that looks and claims again.
            answers[id(ask)] = await _book(
                db,
                workspace_id,
                ask.worker,
                day,
                ask.halves,
                ask.office,
                ask.needs,
                ask.now,
                scarce,
                ask.source,
                ask.later_days,
            )
    return [answers[id(ask)] for ask in batch]


def _chunks(items: Sequence[Any]) -> list[Sequence[Any]]:
    return [items[i : i + _CHUNK] for i in range(0, len(items), _CHUNK)]


async def _write(
    db: Database, workspace_id: str, day: date, claims: list[_Claim], waits: list[_Wait]
) -> dict[int, list[int]]:
    """Every claim and waitlist place of the batch in one transaction; the new
    booking ids of the claims that landed whole, by worker."""
    async with db.transaction() as session:
        landed = await _claim_all(session, workspace_id, day, claims)
        for staff_ids in _chunks(list(landed)):
            await session.execute(
                delete(DeskWaitlist).where(
                    DeskWaitlist.workspace_id == workspace_id,
                    DeskWaitlist.day == day,
                    DeskWaitlist.staff_id.in_(staff_ids),
                )
            )
        await _wait_all(session, workspace_id, day, waits)
    return landed


async def _claim_all(session: AsyncSession, workspace_id: str, day: date, claims: list[_Claim]) -> dict[int, list[int]]:
    """`try_claim` for every claim at once: each lands whole or not at all."""
    rows = [
        row
        for c in claims
        for row in _booking_rows(workspace_id, c.ask.worker.staff_id, c.desk.id, day, c.halves, c.ask.now, c.ask.source)
    ]
    # In desk order: two processes claiming the same desks then wait for each other
    # in the same order, never in a circle.
    rows.sort(key=lambda r: (r["desk_id"], r["half"]))
    got: dict[int, list[int]] = {}
    for chunk in _chunks(rows):
        stmt = (
            _insert(session)(DeskBooking)
            .values(list(chunk))
            .on_conflict_do_nothing()
            .returning(DeskBooking.id, DeskBooking.staff_id)
        )
        for booking_id, staff_id in (await session.execute(stmt)).all():
            got.setdefault(staff_id, []).append(booking_id)
    wanted = {c.ask.worker.staff_id: len(c.halves) for c in claims}
    landed = {s: sorted(ids) for s, ids in got.items() if len(ids) == wanted[s]}
    partial = [i for s, ids in got.items() if s not in landed for i in ids]
    for ids in _chunks(partial):
        # Half a day is not what was asked for: give it back.
        await session.execute(delete(DeskBooking).where(DeskBooking.id.in_(ids)))
    return landed


async def _wait_all(session: AsyncSession, workspace_id: str, day: date, waits: list[_Wait]) -> None:
    """`wait` for every waitlisted request at once, in arrival order: ids break
    ties in the queue, and the batch's requests share a moment more often than not."""
    rows: list[dict[str, Any]] = [
        {
            "workspace_id": workspace_id,
            "staff_id": w.ask.worker.staff_id,
            "day": day,
            "created_at": w.ask.now,
            "span": span_of(w.request.halves),
            "office": w.ask.office,
            "needs": tags_text(w.ask.needs),
        }
        for w in waits
    ]
    placed: set[int] = set()
    for chunk in _chunks(rows):
        stmt = (
            _insert(session)(DeskWaitlist).values(list(chunk)).on_conflict_do_nothing().returning(DeskWaitlist.staff_id)
        )
        placed.update((await session.execute(stmt)).scalars())
    # Asking again keeps the place and updates the details.
    again: dict[tuple[str, str, str], list[int]] = {}
    for row in rows:
        if row["staff_id"] not in placed:
            again.setdefault((row["span"], row["office"], row["needs"]), []).append(row["staff_id"])
    for (span, office, needs), staff_ids in again.items():
        for chunk in _chunks(staff_ids):
            await session.execute(
                update(DeskWaitlist)
                .where(
                    DeskWaitlist.workspace_id == workspace_id,
                    DeskWaitlist.day == day,
                    DeskWaitlist.staff_id.in_(chunk),
                )
                .values(span=span, office=office, needs=needs)
            )


async def _answer_waits(
    db: Database, workspace_id: str, day: date, scarce: tuple[str, ...], waits: list[_Wait]
) -> dict[int, _Answer]:
    """Queue places and alternatives for the batch's waitlisted, as `_book` gives them."""
    days = sorted({day, *(d for w in waits for d in w.ask.later_days[:5])})
    async with db.session() as session:
        free = await free_by_day(session, workspace_id, days)
    served: list[Served] = []
    if any(free[day][h] for h in HALVES):
        # A desk still free after the batch (freed meanwhile, or one nobody waiting
        # could use when they asked) must not be missed: serve the waitlist now.
        served = await fill_waitlist(db, workspace_id, day, waits[0].ask.now, scarce)
        if served:
            async with db.session() as session:
                free = await free_by_day(session, workspace_id, days)
    ours = {w.ask.worker.staff_id for w in waits}
    served_ours = {s.worker.staff_id: s for s in served if s.worker.staff_id in ours}
    async with db.session() as session:
        positions = await _positions(session, workspace_id, day)
        gone = [s for s in ours if s not in positions and s not in served_ours]
        holding = await _holding(session, workspace_id, day, gone) if gone else {}
    answers: dict[int, _Answer] = {}
    for w in waits:
        staff_id = w.ask.worker.staff_id
        outcome: BookOutcome
        if staff_id in served_ours:
            s = served_ours[staff_id]
            outcome = Booked(s.desk, day, s.halves, s.booking_id, w.already)
        elif staff_id in holding:
            # Served by someone else's pass in the meantime.
            desk, halves, booking_id = holding[staff_id]
            outcome = Booked(desk, day, halves, booking_id, w.already)
        else:
            halves = w.request.halves
            later = [(d, _free_for(free[d], halves)) for d in w.ask.later_days[:5]]
            by_half: dict[str, Sequence[DeskSpot]] = {h: free[day][h] for h in HALVES}
            alts = alternatives(w.request, by_half, w.waiting, scarce, later)
            outcome = Waitlisted(day, halves, w.ask.office, w.ask.needs, positions.get(staff_id, 0), tuple(alts))
        answers[id(w.ask)] = (outcome, [])
    # The others served are told once, by the first to wait: the pass was theirs.
    first = id(waits[0].ask)
    others = [s for s in served if s.worker.staff_id not in ours]
    answers[first] = (answers[first][0], others)
    return answers


async def _positions(session: AsyncSession, workspace_id: str, day: date) -> dict[int, int]:
    """Every waiting worker's place for `day`, counted as `waitlist_position` counts it."""
    rows = await session.execute(
        select(DeskWaitlist.staff_id, DeskWaitlist.office)
        .where(DeskWaitlist.workspace_id == workspace_id, DeskWaitlist.day == day)
        .order_by(DeskWaitlist.created_at, DeskWaitlist.id)
    )
    counted: dict[str, int] = {}
    places: dict[int, int] = {}
    for staff_id, office in rows:
        counted[office] = places[staff_id] = counted.get(office, 0) + 1
    return places


async def _holding(
    session: AsyncSession, workspace_id: str, day: date, staff_ids: list[int]
) -> dict[int, tuple[DeskSpot, tuple[Half, ...], int]]:
    """What each of `staff_ids` holds on `day`: desk, halves and first booking id."""
    rows = await session.execute(
        select(DeskBooking.id, DeskBooking.staff_id, DeskBooking.half, *_SPOT_COLUMNS)
        .join(Desk, Desk.id == DeskBooking.desk_id)
        .where(
            DeskBooking.workspace_id == workspace_id,
            DeskBooking.staff_id.in_(staff_ids),
            _live_on(day, HALVES),
        )
        .order_by(DeskBooking.id)
    )
    found: dict[int, tuple[DeskSpot, set[str], int]] = {}
    for booking_id, staff_id, half, *desk in rows:
        found.setdefault(staff_id, (_spot_row(desk), set(), booking_id))[1].add(half)
    return {s: (desk, tuple(h for h in HALVES if h in halves), first) for s, (desk, halves, first) in found.items()}


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
                    ids = await try_claim(session, workspace_id, worker.staff_id, desk.id, day, wanted, now, source)
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
                return Booked(s.desk, day, s.halves, s.booking_id, already), [o for o in served if o is not s]
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


async def waitlist_position(session: AsyncSession, workspace_id: str, staff_id: int, day: date) -> int | None:
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
            select(ahead).where(mine.workspace_id == workspace_id, mine.staff_id == staff_id, mine.day == day)
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
                    mates_by_team[w.worker.team_id] = await team_spots(session, workspace_id, w.worker.team_id, day)
        progress = False
        for waiter in waiters:
            free_ids = set.intersection(*({d.id for d in free_by_half[h]} for h in waiter.halves))
            if not free_ids:
                continue
            free = [d for d in free_by_half[waiter.halves[0]] if d.id in free_ids]
            others = [w.needs for w in waiters if w is not waiter and set(w.halves) & set(waiter.halves)]
            request = Request(
                waiter.worker.staff_id,
                day,
                waiter.halves,
                waiter.office,
                waiter.needs,
                waiter.worker.team,
            )
            ranked = rank_desks(free, request, mates_by_team.get(waiter.worker.team_id, []), others, scarce)
            for desk in _attempts(ranked, waiter.worker.staff_id, 0):
                try:
                    async with db.transaction() as session:
                        gone = await session.execute(
                            delete(DeskWaitlist).where(DeskWaitlist.id == waiter.id).returning(DeskWaitlist.id)
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


async def check_in(db: Database, workspace_id: str, staff_id: int, day: date, now: datetime) -> list[MyBooking]:
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
        return [MyBooking(day, tuple(h for h in HALVES if h in {r.half for r in rows}), spot_of(desk), True)]


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


async def upcoming(session: AsyncSession, workspace_id: str, staff_id: int, today: date) -> list[MyBooking]:
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


async def my_waits(session: AsyncSession, workspace_id: str, staff_id: int, today: date) -> list[MyWait]:
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


async def booked_today(session: AsyncSession, workspace_id: str, day: date) -> list[tuple[Worker, MyBooking]]:
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


async def seated(session: AsyncSession, workspace_id: str, team_id: int, day: date) -> tuple[list[Seated], int]:
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
            out.append(Seated(staff.name, staff.slack_user_id, mine.desk, mine.halves, mine.checked_in))
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
        select(DeskPrefs).where(DeskPrefs.workspace_id == workspace_id, DeskPrefs.staff_id == staff_id)
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
        select(DeskPrefs).where(DeskPrefs.workspace_id == workspace_id, DeskPrefs.staff_id == staff_id)
    )
    assert row is not None
    return row


async def set_needs(session: AsyncSession, workspace_id: str, staff_id: int, needs: frozenset[str]) -> None:
    row = await _prefs_row(session, workspace_id, staff_id)
    row.needs = tags_text(needs)


async def set_share(session: AsyncSession, workspace_id: str, staff_id: int, on: bool) -> None:
    row = await _prefs_row(session, workspace_id, staff_id)
    row.share = on


async def set_recurrence(session: AsyncSession, workspace_id: str, staff_id: int, recurrence: Recurrence) -> None:
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


async def stop_recurrence(session: AsyncSession, workspace_id: str, staff_id: int, weekday: int) -> bool:
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


async def recurrences_of(session: AsyncSession, workspace_id: str, staff_id: int) -> list[Recurrence]:
    rows = await session.scalars(
        select(DeskRecurrence)
        .where(DeskRecurrence.workspace_id == workspace_id, DeskRecurrence.staff_id == staff_id)
        .order_by(DeskRecurrence.weekday)
    )
    return [_recurrence(r) for r in rows]


async def all_recurrences(session: AsyncSession, workspace_id: str) -> list[tuple[Worker, Recurrence]]:
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
