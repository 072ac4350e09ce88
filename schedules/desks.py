"""Desk jobs: the morning check-in DM, releasing unconfirmed desks, weekly bookings.

Every DM goes through the delivery ledger, keyed by the day (check-in) or the
booking (released, offered), so a second run or a second replica sends nothing.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import select

from bot.app import Deps
from bot.desks import RELEASE_GRACE, Book, BookingWindow, Waitlisted, recurring_days
from handlers.desks import (
    _tell,
    book_for,
    checkin_blocks,
    released_blocks,
    tell_served,
    waitlisted_blocks,
)
from schedules import Job
from schedules.ledger import Send
from storage import desks as store
from storage.org import Staff

CHECKIN = "desks.checkin"
RELEASE_AM = "desks.release_am"
RELEASE_PM = "desks.release_pm"
RECURRING = "desks.recurring"


def jobs(deps: Deps) -> list[Job]:
    policy = deps.policy.desks
    zone = deps.settings.timezone

    def at(t: object, days: str = "mon-fri") -> CronTrigger:
        return CronTrigger(day_of_week=days, hour=t.hour, minute=t.minute, timezone=zone)  # type: ignore[attr-defined]

    return [
        # A morning check-in is useless by the time desks are released.
        Job(
            CHECKIN,
            at(policy.checkin_time),
            lambda d, due: checkin_all(d, due),
            catch_up=timedelta(hours=2),
        ),
        Job(
            RELEASE_AM,
            at(policy.release_am),
            lambda d, due: release_all(d, due, True),
            catch_up=timedelta(hours=3),
        ),
        Job(
            RELEASE_PM,
            at(policy.release_pm),
            lambda d, due: release_all(d, due, False),
            catch_up=timedelta(hours=3),
        ),
        Job(
            RECURRING,
            CronTrigger(hour=6, minute=0, timezone=zone),
            lambda d, due: recurring_all(d, due),
        ),
    ]


async def _workspaces(deps: Deps) -> list[str]:
    async with deps.db.session() as session:
        desk_ws = await store.workspaces_with_desks(session)
        staff_ws = list(await session.scalars(select(Staff.workspace_id).distinct()))
    workspaces = sorted(set(desk_ws) | set(staff_ws))
    await deps.load_clients(workspaces)
    return workspaces


def _local(deps: Deps, due: datetime) -> datetime:
    return due.astimezone(ZoneInfo(deps.settings.timezone))


async def checkin_all(deps: Deps, due: datetime) -> list[Send]:
    sends: list[Send] = []
    for workspace_id in await _workspaces(deps):
        sends += await send_checkins(deps, workspace_id, _local(deps, due).date())
    return sends


async def send_checkins(deps: Deps, workspace_id: str, day: date) -> list[Send]:
    """One "I'm in" DM per person booked for `day` who hasn't checked in."""
    async with deps.db.session() as session:
        booked = await store.booked_today(session, workspace_id, day)
    sends: list[Send] = []
    seen: set[int] = set()
    for worker, booking in booked:
        if worker.staff_id in seen:
            continue
        seen.add(worker.staff_id)
        blocks = checkin_blocks(day, booking.desk, booking.halves)
        sends.append(await _tell(deps, workspace_id, CHECKIN, worker, day.isoformat(), blocks))
    return sends


async def release_all(deps: Deps, due: datetime, mornings: bool) -> list[Send]:
    sends: list[Send] = []
    for workspace_id in await _workspaces(deps):
        sends += await release(deps, workspace_id, _local(deps, due), mornings)
    return sends


async def release(deps: Deps, workspace_id: str, due: datetime, mornings: bool) -> list[Send]:
    """Free the desks nobody checked in to, and offer them to the waitlist."""
    released, served = await store.release_unconfirmed(
        deps.db,
        workspace_id,
        due.date(),
        mornings,
        made_before=due - RELEASE_GRACE,
        now=deps.clock.now(),
        scarce=deps.policy.desks.scarce_tags,
    )
    sends: list[Send] = []
    job = RELEASE_AM if mornings else RELEASE_PM
    for r in released:
        sends.append(await _tell(deps, workspace_id, job, r.worker, f"booking:{r.booking_id}", released_blocks(r)))
    sends += await tell_served(deps, workspace_id, served)
    return sends


async def recurring_all(deps: Deps, due: datetime) -> list[Send]:
    sends: list[Send] = []
    for workspace_id in await _workspaces(deps):
        sends += await book_recurring(deps, workspace_id, _local(deps, due))
    return sends


async def book_recurring(deps: Deps, workspace_id: str, at: datetime) -> list[Send]:
    """Book every weekly booking's days within the horizon that have nothing yet.

    A day the worker already booked, cancelled or waits for is left alone, so
    cancelling one week keeps it cancelled.
    """
    window = BookingWindow(at.date(), at.time(), deps.policy.desks.horizon_days, deps.calendar)
    async with deps.db.session() as session:
        recurrences = await store.all_recurrences(session, workspace_id)
    sends: list[Send] = []
    for worker, recurrence in recurrences:
        for day in recurring_days(recurrence.weekday, window):
            async with deps.db.session() as session:
                if await store.has_any_on(session, workspace_id, worker.staff_id, day):
                    continue
            outcome = await book_for(
                deps,
                workspace_id,
                worker,
                Book(day, recurrence.span, recurrence.needs, recurrence.office),
                source="recurring",
            )
            if isinstance(outcome, Waitlisted):
                blocks = waitlisted_blocks(outcome)
                sends.append(await _tell(deps, workspace_id, RECURRING, worker, f"wait:{day.isoformat()}", blocks))
    return sends
