"""A burst of desk requests for the same day, answered together in one pass.

Everyone asks at nine on Monday: the requests for one day that arrive while a
batch is being worked on are decided together, in the order they were asked,
exactly as they would have been one after another. These tests fire their
requests at `storage.desks.book` together, so that they share a batch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from bot.desks import (
    AlreadyBooked,
    Booked,
    BookOutcome,
    Half,
    Served,
    Waitlisted,
    Worker,
    parse_layout,
)
from handlers.desks import sync_layout_and_tell
from storage.db import Database
from storage.desks import DeskBooking, DeskWaitlist, _book, book, waitlist_position, worker_of
from tests.support import Bot, social_workers

DAY = date(2026, 11, 24)
DAY_ALL: tuple[Half, ...] = ("am", "pm")
CHAIR = frozenset({"adjusted_chair"})


def office(*zones: tuple[str, str | None, Sequence[str]]) -> str:
    """A one-floor Ipswich office: (zone, team base, desk tags like "" or "adjusted_chair")."""
    text = '[[offices]]\nname = "Ipswich"\n[[offices.floors]]\nname = "Floor 1"\n'
    for z, (zone, base, desks) in enumerate(zones):
        items = ", ".join(
            f'{{ code = "D{z}{d:02d}", tags = [{", ".join(f"{t!r}" for t in tags.split())}] }}'
            for d, tags in enumerate(desks)
        )
        base_line = f'team_base = "{base}"\n' if base else ""
        text += f'[[offices.floors.zones]]\nname = "{zone}"\n{base_line}desks = [{items}]\n'
    return text


async def layout(bot: Bot, text: str) -> None:
    await sync_layout_and_tell(bot.deps, bot.deps.workspace_id, parse_layout(text))


async def people(bot: Bot, count: int, teams: int = 1) -> list[Worker]:
    """`count` social workers in Ipswich, dealt round `teams` teams, in the order they will ask."""
    return [worker_of(s) for s in await social_workers(bot, count, teams)]


@dataclass(frozen=True)
class Ask:
    worker: Worker
    halves: tuple[Half, ...] = DAY_ALL
    needs: frozenset[str] = frozenset()


async def burst(
    bot: Bot, asks: Sequence[Ask], day: date = DAY, db: Database | None = None
) -> list[tuple[BookOutcome, list[Served]]]:
    """Everyone in `asks` asks at the same moment, in that order."""
    deps = bot.deps
    return await asyncio.gather(
        *(
            book(
                db or deps.db,
                deps.workspace_id,
                a.worker,
                day,
                a.halves,
                "Ipswich",
                a.needs,
                deps.clock.now(),
                deps.policy.desks.scarce_tags,
                later_days=(day + timedelta(days=1),),
            )
            for a in asks
        )
    )


async def one_after_another(bot: Bot, asks: Sequence[Ask], day: date) -> list[tuple[BookOutcome, list[Served]]]:
    """The same requests through the one-request path, each finished before the next asks."""
    deps = bot.deps
    return [
        await _book(
            deps.db,
            deps.workspace_id,
            a.worker,
            day,
            a.halves,
            "Ipswich",
            a.needs,
            deps.clock.now(),
            deps.policy.desks.scarce_tags,
            "request",
            (day + timedelta(days=1),),
        )
        for a in asks
    ]


@dataclass(frozen=True)
class Day:
    doubled: int
    slots: int
    booked: set[int]
    waiting: set[int]


async def the_day(db: Database, workspace_id: str, day: date = DAY) -> Day:
    async with db.session() as session:
        live = (DeskBooking.workspace_id == workspace_id) & (DeskBooking.live == 1) & (DeskBooking.day == day)
        doubled = 0
        for column in (DeskBooking.desk_id, DeskBooking.staff_id):
            doubled += len(
                (
                    await session.execute(
                        select(column, DeskBooking.half)
                        .where(live)
                        .group_by(column, DeskBooking.half)
                        .having(func.count() > 1)
                    )
                ).all()
            )
        slots = await session.scalar(select(func.count()).select_from(DeskBooking).where(live))
        booked = set(await session.scalars(select(DeskBooking.staff_id).where(live)))
        waiting = set(
            await session.scalars(
                select(DeskWaitlist.staff_id).where(DeskWaitlist.workspace_id == workspace_id, DeskWaitlist.day == day)
            )
        )
    return Day(doubled, int(slots or 0), booked, waiting)


def gist(outcome: BookOutcome) -> tuple[object, ...]:
    """What a person is told, less the booking ids and the alternatives (which a burst
    reads once the whole burst is placed, so they may be fresher)."""
    match outcome:
        case Booked(desk=desk, halves=halves, already_had=already):
            return ("booked", desk.code, halves, already)
        case AlreadyBooked(desk=desk, halves=halves):
            return ("already", desk.code, halves)
        case Waitlisted(halves=halves, needs=needs, position=position):
            return ("waiting", halves, needs, position)
    raise AssertionError(outcome)


async def test_fifty_people_asking_at_once_for_twenty_desks_are_answered_in_the_order_they_asked(
    bot: Bot,
) -> None:
    await layout(bot, office(("Open plan", None, [""] * 20)))
    everyone = await people(bot, 50, teams=5)

    answers = await burst(bot, [Ask(w) for w in everyone])

    outcomes = [o for o, _ in answers]
    first, rest = outcomes[:20], outcomes[20:]
    assert all(isinstance(o, Booked) and o.halves == DAY_ALL for o in first)
    assert len({o.desk.code for o in first if isinstance(o, Booked)}) == 20
    assert [o.position if isinstance(o, Waitlisted) else None for o in rest] == list(range(1, 31))
    # Tomorrow's office is empty: everyone waiting is offered a desk there instead.
    assert all(isinstance(o, Waitlisted) and [a.kind for a in o.alternatives] == ["other_day"] for o in rest)
    assert all(served == [] for _, served in answers)
    async with bot.deps.db.session() as session:
        assert await waitlist_position(session, bot.deps.workspace_id, everyone[45].staff_id, DAY) == 26
    day = await the_day(bot.deps.db, bot.deps.workspace_id)
    assert (day.doubled, day.slots) == (0, 40)
    assert day.booked == {w.staff_id for w in everyone[:20]}
    assert day.waiting == {w.staff_id for w in everyone[20:]}


async def test_in_a_burst_the_person_who_needs_the_adjusted_chair_gets_it_though_others_asked_first(
    bot: Bot,
) -> None:
    await layout(bot, office(("Open plan", None, ["adjusted_chair", "", ""])))
    ann, bob, cara, dev = await people(bot, 4)

    answers = await burst(bot, [Ask(ann), Ask(bob), Ask(cara, needs=CHAIR), Ask(dev)])

    ann_got, bob_got, cara_got, dev_got = (o for o, _ in answers)
    assert isinstance(cara_got, Booked) and "adjusted_chair" in cara_got.desk.tags
    assert isinstance(ann_got, Booked) and not ann_got.desk.tags
    assert isinstance(bob_got, Booked) and not bob_got.desk.tags
    assert isinstance(dev_got, Waitlisted) and dev_got.position == 1


async def test_someone_in_a_burst_waiting_for_the_adjusted_chair_keeps_it_from_those_who_ask_after(
    bot: Bot,
) -> None:
    await layout(bot, office(("Harbour", None, ["adjusted_chair", ""])))
    ellie, femi, laura, sam = await people(bot, 4)
    # Ellie has the chair desk for the morning, so Femi (needing it all day) must wait.
    await burst(bot, [Ask(ellie, ("am",), CHAIR)])

    answers = await burst(bot, [Ask(femi, needs=CHAIR), Ask(laura, ("pm",)), Ask(sam, ("pm",))])

    femi_got, laura_got, sam_got = (o for o, _ in answers)
    assert isinstance(femi_got, Waitlisted) and femi_got.position == 1
    assert [(a.kind, a.span, a.desk.code) for a in femi_got.alternatives][0] == (
        "other_half",
        "pm",
        "D000",
    )
    assert isinstance(laura_got, Booked) and laura_got.desk.code == "D001"
    # The chair desk is free in the afternoon, but Femi, who asked first, needs it.
    assert isinstance(sam_got, Waitlisted) and sam_got.position == 2


async def test_someone_with_the_morning_asks_for_the_day_in_a_burst_and_gets_the_afternoon(
    bot: Bot,
) -> None:
    await layout(bot, office(("Open plan", "Team 0", [""] * 6)))
    tom, *others = await people(bot, 6)
    ((morning, _),) = await burst(bot, [Ask(tom, ("am",))])
    assert isinstance(morning, Booked)

    answers = await burst(bot, [Ask(others[0]), Ask(tom), Ask(others[1])])

    got = answers[1][0]
    assert isinstance(got, Booked)
    assert (got.halves, got.already_had) == (("pm",), ("am",))
    async with bot.deps.db.session() as session:
        mine = (
            await session.execute(
                select(DeskBooking.half, DeskBooking.desk_id).where(
                    DeskBooking.staff_id == tom.staff_id, DeskBooking.live == 1
                )
            )
        ).all()
    assert sorted(h for h, _ in mine) == ["am", "pm"]
    assert got.desk.id == next(d for h, d in mine if h == "pm")


async def test_a_double_click_in_a_burst_books_once_and_the_second_click_hears_of_the_booking(
    bot: Bot,
) -> None:
    await layout(bot, office(("Open plan", None, ["", ""])))
    priya, dan = await people(bot, 2)

    answers = await burst(bot, [Ask(priya), Ask(priya), Ask(dan)])

    first, second, dans = (o for o, _ in answers)
    assert isinstance(first, Booked) and isinstance(dans, Booked)
    assert isinstance(second, AlreadyBooked) and second.desk == first.desk
    day = await the_day(bot.deps.db, bot.deps.workspace_id)
    assert (day.doubled, day.slots) == (0, 4)


async def test_a_burst_is_seated_exactly_as_the_same_people_asking_one_after_another_would_be(
    bot: Bot,
) -> None:
    # Two team bases, scarce chairs and a standing desk, mornings held already,
    # people asking for halves and whole days, some needing what is scarce.
    await layout(
        bot,
        office(
            ("North", "Team 0", ["adjusted_chair", "", "", "dual_screen", ""]),
            ("South", "Team 1", ["", "standing", "", "adjusted_chair"]),
            ("Quiet", None, ["", ""]),
        ),
    )
    everyone = await people(bot, 30, teams=3)
    halves: list[tuple[Half, ...]] = [DAY_ALL, ("am",), DAY_ALL, ("pm",), DAY_ALL]
    needs = [frozenset(), CHAIR, frozenset(), frozenset({"standing"}), frozenset(), frozenset()]
    asks = [Ask(w, halves[i % 5], needs[i % 6]) for i, w in enumerate(everyone)]
    beforehand = [Ask(w, ("am",)) for w in everyone[4:7]]
    together, apart = DAY, DAY + timedelta(days=7)
    await one_after_another(bot, beforehand, together)
    await one_after_another(bot, beforehand, apart)

    in_a_burst = await burst(bot, asks, together)
    in_turn = await one_after_another(bot, asks, apart)

    assert [gist(o) for o, _ in in_a_burst] == [gist(o) for o, _ in in_turn]
    assert {type(o) for o, _ in in_a_burst} == {Booked, AlreadyBooked, Waitlisted}
    day = await the_day(bot.deps.db, bot.deps.workspace_id, together)
    assert day.doubled == 0 and day.booked.isdisjoint(day.waiting)


async def test_two_bookers_bursting_for_the_same_desks_book_nobody_twice_and_lose_nobody(
    bot: Bot, request: pytest.FixtureRequest
) -> None:
    # Two Database engines are two replicas of the bot: their batches race for the
    # same desks and only the UNIQUE constraints decide. On PostgreSQL this is a
    # real race; on SQLite, which takes one writer at a time, it proves the logic.
    deps = bot.deps
    await layout(bot, office(("Open plan", None, [""] * 15 + ["adjusted_chair"] * 5)))
    everyone = await people(bot, 100, teams=4)
    other = Database(deps.db.url, pool_size=5)
    async with other.session() as session:
        # Connected before the burst, so both replicas look at the free desks together.
        await session.execute(select(1))
    asks = [Ask(w, needs=CHAIR if i % 5 == 0 else frozenset()) for i, w in enumerate(everyone)]
    try:
        answers = await asyncio.gather(
            burst(bot, asks[0::2]),
            burst(bot, asks[1::2], db=other),
        )
    finally:
        await other.dispose()

    day = await the_day(deps.db, deps.workspace_id)
    assert day.doubled == 0
    assert (day.slots, len(day.booked)) == (40, 20)
    assert day.booked.isdisjoint(day.waiting)
    assert day.booked | day.waiting == {w.staff_id for w in everyone}
    told = [o for half in answers for o, _ in half]
    booked = {o.booking_id for o in told if isinstance(o, Booked)}
    async with deps.db.session() as session:
        live_ids = set(
            await session.scalars(select(DeskBooking.id).where(DeskBooking.live == 1, DeskBooking.day == DAY))
        )
    assert booked <= live_ids and len(booked) == 20
    assert sum(isinstance(o, Waitlisted) for o in told) == 80


async def test_a_burst_that_cannot_be_written_tells_everyone_in_it_and_the_next_request_is_answered(
    bot: Bot,
) -> None:
    await layout(bot, office(("Open plan", None, ["", ""])))
    ann, bob = await people(bot, 2)
    # Someone the staff list no longer has: their booking breaks the batch's one write.
    gone = Worker(
        staff_id=ann.staff_id + 1000,
        slack_user_id="UGONE",
        name="Gone",
        team_id=ann.team_id,
        team=ann.team,
    )

    answers = await asyncio.gather(
        *(
            book(
                bot.deps.db,
                bot.deps.workspace_id,
                w,
                DAY,
                DAY_ALL,
                "Ipswich",
                frozenset(),
                bot.deps.clock.now(),
            )
            for w in (ann, gone, bob)
        ),
        return_exceptions=True,
    )

    assert all(isinstance(a, Exception) for a in answers)
    assert (await the_day(bot.deps.db, bot.deps.workspace_id)).slots == 0
    ((again, _),) = await burst(bot, [Ask(ann)])
    assert isinstance(again, Booked)
