"""Demo visit history: on the demo date some children are due soon, some overdue.

Each demo child gets a plan start, placement facts, reviews and a few months
of visits, worked backwards from a chosen next due date with the real rules
engine, so what the bot shows follows from the facts like it would for real
data. Seeded, so every run makes the same history relative to `today`.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.calendar import WorkingCalendar
from bot.visits import ChildFacts, PlacementType, Status, VisitRules, next_visit
from storage.children import Child
from storage.visits import STATUTORY, Visit

_PLACEMENTS = [PlacementType.FOSTER] * 5 + [PlacementType.LONG_TERM] * 2 + [PlacementType.RESIDENTIAL]


def _largest(lo: date, hi: date, ok: Callable[[date], bool]) -> date | None:
    """The latest day in [lo, hi] where `ok` holds, for `ok` true up to a point then false."""
    if lo > hi or not ok(lo):
        return None
    while lo < hi:
        mid = lo + timedelta(days=(hi - lo).days // 2 + 1)
        if ok(mid):
            lo = mid
        else:
            hi = mid - timedelta(days=1)
    return lo


def _smallest(lo: date, hi: date, ok: Callable[[date], bool]) -> date | None:
    """The earliest day in [lo, hi] where `ok` holds, for `ok` false up to a point then true."""
    if lo > hi or not ok(hi):
        return None
    while lo < hi:
        mid = lo + timedelta(days=(hi - lo).days // 2)
        if ok(mid):
            hi = mid
        else:
            lo = mid + timedelta(days=1)
    return lo


def _target_offset(rng: random.Random) -> int:
    """Days from today to the next due date: mostly fine, some due soon, a few overdue."""
    r = rng.random()
    if r < 0.03:
        return -rng.randint(9, 16)  # overdue past the manager's threshold
    if r < 0.10:
        return -rng.randint(1, 6)  # overdue by up to 5 working days
    if r < 0.34:
        return rng.randint(0, 7)  # due soon
    return rng.randint(8, 45)


def plan_history(
    facts: ChildFacts,
    today: date,
    rng: random.Random,
    rules: VisitRules,
    calendar: WorkingCalendar,
) -> list[date]:
    """Visits (oldest first) that leave the child's next visit due near a chosen date."""

    def due_after(visit: date) -> date | None:
        o = next_visit(replace(facts, last_visit_on=visit), today, rules, calendar)
        return o.due_on if o else None

    since = facts.placement_start or facts.status_since or today - timedelta(days=400)
    target = today + timedelta(days=_target_offset(rng))
    last = _largest(
        max(since, today - timedelta(days=150)),
        today - timedelta(days=1),
        lambda v: (due_after(v) or today) <= target,
    )
    if last is None:
        return []
    visits = [last]
    current = last

    def reaches(visit: date, by: date) -> bool:
        return (due_after(visit) or date.max) >= by

    while len(visits) < 6:
        # The earliest visit whose next due date still reaches `current`: on time, just.
        boundary = _smallest(
            max(since, current - timedelta(days=120)),
            current - timedelta(days=1),
            lambda v, c=current: reaches(v, c),  # type: ignore[misc]
        )
        if boundary is None:
            break
        if rng.random() < 0.1:
            previous = boundary - timedelta(days=rng.randint(1, 5))  # this one was late
        else:
            previous = min(boundary + timedelta(days=rng.randint(0, 6)), current - timedelta(days=1))
        if previous < since or previous < today - timedelta(days=150):
            break
        visits.append(previous)
        current = previous
    return sorted(visits)


async def seed_visits(session: AsyncSession, workspace_id: str, today: date, rng_seed: int = 11) -> int:
    """Give the demo children visit facts and history; returns the visits written."""
    rng = random.Random(rng_seed)
    rules = VisitRules()
    calendar = WorkingCalendar()
    recorded_at = datetime.combine(today, time(9), tzinfo=UTC)
    children = list(
        await session.scalars(
            select(Child).where(Child.workspace_id == workspace_id, Child.allocated_to.is_not(None)).order_by(Child.id)
        )
    )
    written = 0
    for child in children:
        status = Status(child.status)
        if status is Status.EARLY_HELP:
            continue
        if status is Status.ASSESSMENT:
            # Referrals of the last couple of months: 45 working days to assess.
            child.status_since = today - timedelta(days=rng.randint(3, 66))
            continue
        new = rng.random() < 0.06
        since = today - timedelta(days=rng.randint(2, 12) if new else rng.randint(200, 700))
        child.status_since = since
        if status is Status.CLA:
            child.placement_type = rng.choice(_PLACEMENTS).value
            child.placement_start = since if new else since + timedelta(days=rng.randint(0, 60))
        elif status is Status.CARE_LEAVER:
            child.placement_start = since
        if not new and status in (Status.CP, Status.CLA, Status.CARE_LEAVER):
            # Reviews held on time: the demo's overdue items are visits.
            child.last_review_on = today - timedelta(days=rng.randint(14, 80))
        if new:
            continue
        facts = ChildFacts(
            child_ref=child.child_ref,
            status=status,
            status_since=child.status_since,
            placement_start=child.placement_start,
            placement_type=PlacementType(child.placement_type) if child.placement_type else None,
            last_review_on=child.last_review_on,
        )
        visits = plan_history(facts, today, rng, rules, calendar)
        for visited_on in visits:
            session.add(
                Visit(
                    workspace_id=workspace_id,
                    child_id=child.id,
                    visited_on=visited_on,
                    kind=STATUTORY,
                    recorded_by=child.allocated_to,
                    recorded_at=recorded_at,
                )
            )
        child.last_visit_on = visits[-1] if visits else None
        written += len(visits)
    await session.flush()
    return written
