"""The large benchmark authority's generator (`practice-bot demo --size large`), at a small size."""

from __future__ import annotations

from collections import Counter
from datetime import date

from sqlalchemy import func, select

from bot.demo_large import Size, large_layout, layout_toml, plan_teams, seed_large
from bot.desks import parse_layout
from bot.visits import State, Status, VisitRules, due_list
from storage.db import Database
from storage.desks import DeskBooking
from storage.visits import held_children

TODAY = date(2026, 11, 23)
SMALL = Size(offices=1, teams=20, staff=80, children=600, visits=4_000, desks=260)


async def test_a_seeded_authority_has_every_status_and_children_due_soon_and_overdue(db: Database) -> None:
    async with db.transaction() as session:
        seeded = await seed_large(session, "TBIG", TODAY, size=SMALL)
    assert (seeded.staff, seeded.children, seeded.visits, seeded.desks) == (80, 600, 4_000, 260)

    async with db.session() as session:
        held = await held_children(session, "TBIG")
        doubled = (
            await session.execute(
                select(DeskBooking.desk_id, DeskBooking.day, DeskBooking.half)
                .where(DeskBooking.workspace_id == "TBIG", DeskBooking.live == 1)
                .group_by(DeskBooking.desk_id, DeskBooking.day, DeskBooking.half)
                .having(func.count() > 1)
            )
        ).all()
    assert len(held) == 600
    assert set(Counter(h.facts.status for h in held)) == set(Status)
    states = Counter(o.state for item in due_list([h.facts for h in held], TODAY, VisitRules()) for o in item.items)
    assert states[State.OVERDUE] > 0 and states[State.DUE_SOON] > 0
    assert doubled == []


async def test_the_same_seed_makes_the_same_authority(db: Database) -> None:
    async with db.transaction() as session:
        await seed_large(session, "TONE", TODAY, size=SMALL)
        await seed_large(session, "TTWO", TODAY, size=SMALL)
    async with db.session() as session:
        one = [(h.facts, h.worker) for h in await held_children(session, "TONE")]
        two = [(h.facts, h.worker) for h in await held_children(session, "TTWO")]
    assert one == two


def test_the_large_layout_gives_each_of_120_teams_a_base_and_reads_back_from_its_file() -> None:
    by_office: dict[str, list[str]] = {}
    for name, office, _kind, _mix in plan_teams():
        by_office.setdefault(office, []).append(name)
    layout = large_layout(by_office)
    spots = layout.spots()
    assert len(spots) == 1_500
    assert len({s.team_base for s in spots if s.team_base}) == 120
    assert len(layout.offices) == 6
    assert parse_layout(layout_toml(layout)) == layout
