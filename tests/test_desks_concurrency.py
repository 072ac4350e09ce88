"""Never a double booking, never a lost request: 500 people asking for 50 desks at once.

On PostgreSQL the requests really race (a connection pool of 40); on SQLite,
which serialises writers, the same test proves the logic.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import func, select

from bot.desks import load_layout, parse_layout
from bot.desks_demo import fifty_desks
from bot.server import _sync_desks
from handlers.desks import sync_layout_and_tell
from storage.db import Database
from storage.desks import Desk, DeskBooking, DeskWaitlist, book, worker_of
from storage.org import Staff
from tests.support import Bot, social_workers

DAY = date(2026, 11, 24)
TEAMS = 10
PEOPLE = 500
THROUGH_SLACK = 10


async def five_hundred_staff(bot: Bot) -> list[Staff]:
    return await social_workers(bot, PEOPLE, TEAMS)


async def test_500_people_asking_for_50_desks_at_once_all_get_a_desk_or_a_waitlist_place(
    bot: Bot,
) -> None:
    deps = bot.deps
    ws = deps.workspace_id
    await sync_layout_and_tell(deps, ws, parse_layout(fifty_desks()))
    staff = await five_hundred_staff(bot)
    workers = [worker_of(s) for s in staff]
    now = deps.clock.now()

    async def by_service(i: int) -> None:
        # One in ten needs an adjusted chair: there are five.
        needs = frozenset({"adjusted_chair"}) if i % 10 == 0 else frozenset()
        await book(
            deps.db,
            ws,
            workers[i],
            DAY,
            ("am", "pm"),
            "Ipswich",
            needs,
            now,
            deps.policy.desks.scarce_tags,
        )

    async def by_slack(i: int) -> None:
        status, _ = await bot.ws.command(workers[i].slack_user_id, "/desk tomorrow")
        assert status == 200

    slack_people = set(range(0, PEOPLE, PEOPLE // THROUGH_SLACK))
    await asyncio.gather(*(by_slack(i) if i in slack_people else by_service(i) for i in range(PEOPLE)))
    await bot.ws.settle(timeout=60)

    async with deps.db.session() as session:
        live = (DeskBooking.workspace_id == ws) & (DeskBooking.live == 1) & (DeskBooking.day == DAY)
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
        slots = await session.scalar(select(func.count()).select_from(DeskBooking).where(live))
        booked = set(await session.scalars(select(DeskBooking.staff_id).where(live)))
        waiting = set(
            await session.scalars(
                select(DeskWaitlist.staff_id).where(DeskWaitlist.workspace_id == ws, DeskWaitlist.day == DAY)
            )
        )

    assert doubled_desks == []
    assert doubled_people == []
    assert slots == 100
    assert len(booked) == 50
    assert booked.isdisjoint(waiting)
    assert booked | waiting == {s.id for s in staff}
    assert len(waiting) == 450
    for i in slack_people:
        reply = bot.text([m for m in bot.dms(workers[i].slack_user_id)])
        assert "You're booked" in reply or "on the waitlist" in reply


async def test_fifty_claims_on_the_same_desk_at_the_same_moment_leave_exactly_one_booking(
    bot: Bot,
) -> None:
    from storage.desks import Desk, try_claim

    deps = bot.deps
    ws = deps.workspace_id
    await sync_layout_and_tell(deps, ws, parse_layout(fifty_desks()))
    staff = (await five_hundred_staff(bot))[:50]
    async with deps.db.session() as session:
        desk_id = await session.scalar(select(Desk.id).where(Desk.workspace_id == ws, Desk.code == "D00"))
    assert desk_id is not None

    async def claim(member: Staff) -> bool:
        # No gate, no look first: straight at the database, each in its own transaction.
        async with deps.db.transaction() as session:
            won = await try_claim(session, ws, member.id, desk_id, DAY, ("am", "pm"), deps.clock.now(), "request")
        return won is not None

    results = await asyncio.gather(*(claim(m) for m in staff))

    assert sum(results) == 1
    async with deps.db.session() as session:
        rows = await session.scalar(
            select(func.count()).select_from(DeskBooking).where(DeskBooking.desk_id == desk_id, DeskBooking.live == 1)
        )
    assert rows == 2


async def test_two_replicas_starting_together_on_a_new_database_load_the_office_layout_once(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    # Each replica syncs the layout at start-up; on a new database both find no desks and insert.
    other = replace(bot.deps, db=Database(bot.deps.db.url))
    try:
        await asyncio.gather(*(_sync_desks(deps) for deps in (bot.deps, other, bot.deps, other)))
    finally:
        await other.db.dispose()
    layout = load_layout(bot.deps.policy.desks.layout_file)
    async with bot.deps.db.session() as session:
        desks = await session.scalar(
            select(func.count()).select_from(Desk).where(Desk.workspace_id == bot.deps.workspace_id)
        )
    assert desks == sum(len(zone.desks) for office in layout.offices for floor in office.floors for zone in floor.zones)
    assert "not synced" not in caplog.text
