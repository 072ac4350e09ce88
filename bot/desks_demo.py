"""Desks for the demo authority: the shipped layout, a week of bookings, a waitlist.

Seeded, so every run makes the same week. Lowestoft has four desks for nine
staff, so its busy Wednesday has people waiting; Ipswich CIN 2 has its team
day on Wednesday too, and spills out of its base.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.calendar import WorkingCalendar
from bot.clock import LONDON
from bot.desks import Recurrence, Request, Span, halves_of, home_office, load_layout, rank_desks
from bot.policy import DEMO_LAYOUT, DesksPolicy
from storage import desks as store
from storage.org import Staff

STANDING_NEEDS = {
    "Aisha Rahman": ("adjusted_chair",),
    "Ben Archer": ("standing",),
    "Nadia Hussain": ("accessible",),
    "Jack Burrows": ("dual_screen",),
}
# Private by default: these people have not switched sharing on.
KEEPS_PRIVATE = {"Dan Whitfield", "Laura King", "Owen Price"}
TEAM_DAYS = {"Ipswich CIN 2": 2, "Lowestoft CLA": 2}  # Wednesday


def demo_week(today: date, calendar: WorkingCalendar) -> list[date]:
    """This week's working days (next week's, at a weekend)."""
    monday = today - timedelta(days=today.weekday())
    if today.weekday() >= 5:
        monday += timedelta(days=7)
    return [d for d in (monday + timedelta(days=i) for i in range(5)) if calendar.is_working_day(d)]


async def seed_desks(session: AsyncSession, workspace_id: str, today: date, rng_seed: int = 11) -> int:
    """Write the layout, preferences and the demo week's bookings; returns bookings made."""
    rng = random.Random(rng_seed)
    policy = DesksPolicy()
    scarce = policy.scarce_tags
    now = datetime.combine(today, time(7, 30), tzinfo=LONDON)
    await store.sync_layout(session, workspace_id, load_layout(DEMO_LAYOUT), today, now, scarce)
    staff = list(await session.scalars(select(Staff).where(Staff.workspace_id == workspace_id).order_by(Staff.id)))
    for member in staff:
        await store.set_needs(session, workspace_id, member.id, frozenset(STANDING_NEEDS.get(member.name, ())))
        await store.set_share(session, workspace_id, member.id, member.name not in KEEPS_PRIVATE)
    tom = next((s for s in staff if s.name == "Tom Hughes"), None)
    if tom is not None:
        await store.set_recurrence(session, workspace_id, tom.id, Recurrence(1, "day", None, frozenset()))
    spots = await store.active_spots(session, workspace_id)
    offices = sorted({s.office for s in spots}, key=lambda o: min(s.id for s in spots if s.office == o))
    made = 0
    for day in demo_week(today, WorkingCalendar()):
        order = list(staff)
        rng.shuffle(order)
        for member in order:
            worker = store.worker_of(member)
            team_day = TEAM_DAYS.get(worker.team) == day.weekday()
            weekly = tom is not None and member.id == tom.id and day.weekday() == 1
            if not (team_day or weekly) and rng.random() > 0.4:
                continue
            span: Span = "day" if rng.random() < 0.7 else "am" if rng.random() < 0.5 else "pm"
            halves = halves_of(span)
            office = home_office(worker.team, worker.team_office, offices, spots)
            if office is None:
                continue
            needs = frozenset(STANDING_NEEDS.get(member.name, ()))
            request = Request(worker.staff_id, day, halves, office, needs, worker.team)
            look = await store.look(session, workspace_id, request, worker)
            booked = False
            for desk in rank_desks(look.free, request, look.mates, look.waiting, scarce)[:3]:
                # Past days were checked in to; today's early birds too.
                status = "checked_in" if day < today or (day == today and rng.random() < 0.5) else "booked"
                ids = await store.try_claim(
                    session,
                    workspace_id,
                    worker.staff_id,
                    desk.id,
                    day,
                    halves,
                    now,
                    "demo",
                    status,
                )
                if ids:
                    made += 1
                    booked = True
                    break
            if not booked and day >= today:
                await store.wait(session, workspace_id, worker.staff_id, day, span, office, needs, now)
    await session.flush()
    return made


def fifty_desks() -> str:
    """One Ipswich office, five zones of ten desks; zone z is "Team z"'s base. Desk 0 of each
    zone has an adjusted chair (five in all), every third a dual screen: the layout the desk
    contention test and benchmark fight over."""
    zones = []
    for z in range(5):
        desks = []
        for d in range(10):
            tags = '"adjusted_chair"' if d == 0 else '"dual_screen"' if d % 3 == 0 else ""
            desks.append(f'{{ code = "D{z}{d}", tags = [{tags}] }}')
        zones.append(
            f'[[offices.floors.zones]]\nname = "Zone {z}"\nteam_base = "Team {z}"\ndesks = [{", ".join(desks)}]\n'
        )
    return '[[offices]]\nname = "Ipswich"\n[[offices.floors]]\nname = "Floor 1"\n' + "\n".join(zones)
