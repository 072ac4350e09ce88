"""The morning jobs read a large authority a team (or a worker) at a time: the same sends.

Reminders, digests, lapse alerts and caseload alerts stream their children from one
query in team (or worker) order instead of holding every child at once (bench/FINDINGS.md,
"Memory"). Each story compares what a job sends with what reading the whole authority at
once gives, on a generated authority of 20 teams.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta

from bot.demo_large import Size, seed_large
from bot.visits import ChildFacts, Compliance, DueMemo, due_list, lapsed, team_digest, visit_compliance
from handlers.visits import reminder_blocks
from schedules.caseload import check_caseloads
from schedules.ledger import Outcome
from schedules.visits import alert_lapses, reminder_fallback, send_reminders, team_digests
from storage.streams import ByTeam
from storage.visits import (
    Held,
    held_children,
    history_start,
    history_with_last,
    managers_by_team,
    teams_by_id,
    visit_history,
)
from tests.support import Bot

TWENTY_TEAMS = Size(offices=1, teams=20, staff=80, children=600, visits=4_000, desks=260)


async def authority(bot: Bot) -> tuple[str, date, datetime]:
    workspace_id = bot.deps.workspace_id
    async with bot.deps.db.transaction() as session:
        await seed_large(session, workspace_id, bot.clock.now().date(), size=TWENTY_TEAMS)
    await bot.local.sync_directory()
    return workspace_id, bot.clock.now().date(), bot.clock.now()


async def test_the_morning_reminders_read_a_worker_at_a_time_send_every_worker_the_list_the_whole_authority_gives(
    bot: Bot,
) -> None:
    workspace_id, today, now = await authority(bot)
    rules, calendar = bot.deps.policy.visits.rules(), bot.deps.calendar
    async with bot.deps.db.session() as session:
        everyone = await held_children(session, workspace_id)
    children_of: dict[str, list[ChildFacts]] = defaultdict(list)
    for held in everyone:
        children_of[held.slack_user_id].append(held.facts)
    expected = {
        user: due for user in sorted(children_of) if (due := due_list(children_of[user], today, rules, calendar))
    }

    sends = await send_reminders(bot.deps, workspace_id, now)

    assert len(expected) > 20
    assert [s.target for s in sends] == list(expected)
    assert {s.outcome for s in sends} == {Outcome.SENT}
    for user, due in expected.items():
        [dm] = bot.dms(user)
        assert dm.text == reminder_fallback(due)
        assert dm.blocks == reminder_blocks(due, today)


async def test_the_weekly_digests_built_a_team_at_a_time_are_those_of_the_whole_authority_read_at_once(
    bot: Bot,
) -> None:
    workspace_id, today, _ = await authority(bot)
    rules, calendar = bot.deps.policy.visits.rules(), bot.deps.calendar
    since = history_start(today)
    async with bot.deps.db.session() as session:
        teams = await teams_by_id(session, workspace_id)
        everyone = await held_children(session, workspace_id)
        history = await visit_history(session, workspace_id, since)
    window = (today - timedelta(days=28), today - timedelta(days=1))
    by_team: dict[int, list[Held]] = defaultdict(list)
    for held in everyone:
        by_team[held.team_id].append(held)
    expected = {}
    for team_id, items in by_team.items():
        compliance = Compliance()
        for item in items:
            visits = history_with_last(item, history, since)
            compliance += visit_compliance(item.facts, visits, *window, since, rules, calendar)
        pairs = [(item.worker, item.facts) for item in items]
        expected[team_id] = team_digest(teams[team_id].name, pairs, compliance, today, rules, calendar)

    digests = await team_digests(bot.deps, workspace_id, today)

    assert len(digests) == len(expected) == 20
    assert sum(d.compliance.due for d in digests.values()) > 0
    assert digests == expected


async def test_lapse_alerts_found_a_team_at_a_time_reach_the_same_managers_about_the_same_children(
    bot: Bot,
) -> None:
    workspace_id, today, now = await authority(bot)
    policy, calendar = bot.deps.policy.visits, bot.deps.calendar
    memo = DueMemo(today, policy.rules(), calendar)
    async with bot.deps.db.session() as session:
        everyone = await held_children(session, workspace_id)
        managers = await managers_by_team(session, workspace_id)
    expected = {
        (manager.slack_user_id, f"child:{held.child_id}:{ob.kind}:{ob.due_on.isoformat()}")
        for held in everyone
        for due in due_list([held.facts], today, policy.rules(), calendar, memo)
        for ob in due.items
        if lapsed(ob, today, policy.manager_lapse_working_days, calendar)
        for manager in managers.get(held.team_id, [])
        if manager.id != held.staff_id
    }

    sends = await alert_lapses(bot.deps, workspace_id, now)

    assert len(expected) > 10
    assert {(s.target, s.due_key) for s in sends} == expected
    assert len(sends) == len(expected)


async def test_caseload_alerts_checked_a_team_at_a_time_tell_each_manager_about_their_own_team_only(
    bot: Bot,
) -> None:
    await bot.staff(
        "mgra,Ada Manager,Team A,manager,1.0,2015-09-01",
        "wa,Will Able,Team A,social_worker,1.0,2024-09-01",
        "mgrb,Bea Manager,Team B,manager,1.0,2015-09-01",
        "wb,Wren Bell,Team B,social_worker,1.0,2024-09-01",
        "mgrc,Cal Manager,Team C,manager,1.0,2015-09-01",
        "wc,Wyn Cole,Team C,social_worker,1.0,2024-09-01",
    )
    await bot.hold("wa", 26)
    await bot.hold("wc", 27)  # Team B, between them, holds no children at all

    await check_caseloads(bot.deps, bot.deps.workspace_id, bot.clock.now())

    assert "Will Able now holds 26 children, 1 over their cap of 25" in bot.dm_text("mgra")
    assert "Wyn Cole now holds 27 children, 2 over their cap of 25" in bot.dm_text("mgrc")
    assert "Wyn Cole" not in bot.dm_text("mgra") and "Will Able" not in bot.dm_text("mgrc")
    assert bot.dms("mgrb") == []


async def _pairs(*pairs: tuple[int, str]) -> AsyncIterator[tuple[int, str]]:
    for pair in pairs:
        yield pair


async def test_a_team_by_team_read_answers_each_team_asked_for_in_order_and_skips_the_rest() -> None:
    read = ByTeam(_pairs((1, "one"), (3, "three"), (4, "four"), (7, "seven")))

    assert await read.get(1, "none") == "one"
    assert await read.get(2, "none") == "none"  # nothing for team 2: the next is kept for later
    assert await read.get(4, "none") == "four"  # team 3 was nobody's
    assert await read.get(8, "none") == "none"
