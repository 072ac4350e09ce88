"""Desk contention: 500 people asking for 50 desks at once, against plain INSERTs.

Ours: 500 concurrent `storage.desks.book` calls for the same day (one in ten
needs an adjusted chair; there are five), timed until every one has its
answer: a desk, or a waitlist place with alternatives. Then checked, not
assumed: no desk or person booked twice for a half-day, exactly 100 half-day
slots taken, and every one of the 500 either booked or waiting.

Floor: the same outcome written by a loop of plain INSERTs, one transaction
per person (a booking's two half-days together; a waitlist place), on another
day: what storing the answers costs with no contention and no choosing.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, insert, select

from bench.authority import DESK_STAFF, DESKS
from bench.common import Result
from bot.app import Deps
from bot.clock import LONDON
from storage.desks import DeskBooking, DeskWaitlist, book, worker_of
from storage.org import Staff

# (ours, floor) days per repeat: each run books a fresh day.
DAYS = ((date(2026, 11, 24), date(2026, 11, 25)), (date(2026, 11, 26), date(2026, 11, 27)))


async def _ours(deps: Deps, workers: list[Any], day: date) -> tuple[float, int]:
    now = datetime(2026, 11, 23, 9, 0, tzinfo=LONDON)
    scarce = deps.policy.desks.scarce_tags
    failures = 0

    async def one(i: int) -> None:
        nonlocal failures
        needs = frozenset({"adjusted_chair"}) if i % 10 == 0 else frozenset()
        try:
            await book(deps.db, DESKS, workers[i], day, ("am", "pm"), "Ipswich", needs, now, scarce)
        except Exception:  # noqa: BLE001 - counted: a request that got no answer is lost
            failures += 1

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(len(workers))))
    return time.perf_counter() - started, failures


async def _check(deps: Deps, day: date, staff_ids: set[int]) -> tuple[int, int, int, int, int]:
    """(desks doubled, people doubled, slots taken, booked, lost) for `day`."""
    async with deps.db.session() as session:
        live = (DeskBooking.workspace_id == DESKS) & (DeskBooking.live == 1) & (DeskBooking.day == day)
        doubled_desks = (
            await session.execute(
                select(DeskBooking.desk_id, DeskBooking.half)
                .where(live)
                .group_by(DeskBooking.desk_id, DeskBooking.half)
                .having(func.count() > 1)
            )
        ).all()
        doubled_people = (
            await session.execute(
                select(DeskBooking.staff_id, DeskBooking.half)
                .where(live)
                .group_by(DeskBooking.staff_id, DeskBooking.half)
                .having(func.count() > 1)
            )
        ).all()
        slots = await session.scalar(select(func.count()).select_from(DeskBooking).where(live)) or 0
        booked = set(await session.scalars(select(DeskBooking.staff_id).where(live)))
        waiting = set(
            await session.scalars(
                select(DeskWaitlist.staff_id).where(DeskWaitlist.workspace_id == DESKS, DeskWaitlist.day == day)
            )
        )
    lost = len(staff_ids - booked - waiting) + len(booked & waiting)
    return len(doubled_desks), len(doubled_people), int(slots), len(booked), lost


async def _floor(deps: Deps, from_day: date, day: date) -> float:
    """Write `from_day`'s outcome again on `day`, one plain INSERT transaction per person."""
    async with deps.db.session() as session:
        bookings = (
            await session.execute(
                select(DeskBooking.staff_id, DeskBooking.desk_id, DeskBooking.half, DeskBooking.created_at).where(
                    DeskBooking.workspace_id == DESKS, DeskBooking.day == from_day, DeskBooking.live == 1
                )
            )
        ).all()
        waits = (
            await session.execute(
                select(
                    DeskWaitlist.staff_id,
                    DeskWaitlist.span,
                    DeskWaitlist.office,
                    DeskWaitlist.needs,
                    DeskWaitlist.created_at,
                ).where(DeskWaitlist.workspace_id == DESKS, DeskWaitlist.day == from_day)
            )
        ).all()
    per_person: dict[int, list[dict[str, Any]]] = {}
    for staff_id, desk_id, half, at in bookings:
        per_person.setdefault(staff_id, []).append(
            {
                "workspace_id": DESKS,
                "desk_id": desk_id,
                "staff_id": staff_id,
                "day": day,
                "half": half,
                "status": "booked",
                "live": 1,
                "source": "request",
                "created_at": at,
            }
        )
    started = time.perf_counter()
    for rows in per_person.values():
        async with deps.db.engine.begin() as conn:
            await conn.execute(insert(DeskBooking), rows)
    for staff_id, span, office, needs, at in waits:
        async with deps.db.engine.begin() as conn:
            await conn.execute(
                insert(DeskWaitlist).values(
                    workspace_id=DESKS, staff_id=staff_id, day=day, span=span, office=office, needs=needs, created_at=at
                )
            )
    return time.perf_counter() - started


async def measure(deps: Deps) -> tuple[list[Result], list[str]]:
    async with deps.db.session() as session:
        staff = list(await session.scalars(select(Staff).where(Staff.workspace_id == DESKS).order_by(Staff.id)))
    assert len(staff) == DESK_STAFF
    workers = [worker_of(s) for s in staff]
    ids = {s.id for s in staff}
    ours_times, floor_times = [], []
    problems: list[str] = []
    checks = []
    for ours_day, floor_day in DAYS:
        took, failures = await _ours(deps, workers, ours_day)
        ours_times.append(took)
        doubled_desks, doubled_people, slots, booked, lost = await _check(deps, ours_day, ids)
        checks.append((doubled_desks + doubled_people, lost + failures, slots, booked))
        floor_times.append(await _floor(deps, ours_day, floor_day))
    doubles = sum(c[0] for c in checks)
    lost = sum(c[1] for c in checks)
    if any(c[2] != 100 or c[3] != 50 for c in checks):
        problems.append(f"desks: expected 100 half-day slots for 50 people, got {[(c[2], c[3]) for c in checks]}")
    note = f"{len(DAYS)} runs of 500 requests; double bookings: {doubles}; lost requests: {lost}"
    result = Result(
        "desk contention, 500 for 50",
        statistics.median(ours_times),
        statistics.median(floor_times),
        "s",
        2.0,
        note,
        sound=not (doubles or lost or problems),
    )
    if doubles or lost:
        problems.append(f"desks: {doubles} double booking(s), {lost} lost request(s)")
    return [result], problems
