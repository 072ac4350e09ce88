"""Caseload against the tenure cap, told as the people who use it would tell it."""

from __future__ import annotations

from schedules.caseload import check_caseloads
from schedules.ledger import Outcome
from tests.support import Bot

# Qualifying dates relative to the pinned clock, Monday 23 November 2026.
FIVE_MONTHS = "2026-06-10"
THIRTEEN_MONTHS = "2025-10-01"
TEN_YEARS = "2016-09-01"


async def team_of_three(bot: Bot) -> None:
    await bot.staff(
        f"mgr,Grace Okafor,Ipswich CIN 2,manager,1.0,{TEN_YEARS}",
        f"tom,Tom Hughes,Ipswich CIN 2,social_worker,1.0,{FIVE_MONTHS}",
        f"priya,Priya Shah,Ipswich CIN 2,social_worker,1.0,{THIRTEEN_MONTHS}",
        f"ella,Ella Stone,Ipswich CIN 2,social_worker,0.5,{FIVE_MONTHS}",
        f"kim,Kim Lowe,Lowestoft CLA,manager,1.0,{TEN_YEARS}",
        "joe,Joe Fraser,Ipswich Early Help,early_help,1.0,",
        f"alex,Alex Morgan,Ipswich CIN 2,admin,1.0,{TEN_YEARS}",
    )


async def test_an_nqsw_at_5_months_with_14_children_is_told_they_have_room_for_1_more(bot: Bot) -> None:
    await team_of_three(bot)
    await bot.hold("tom", 14)

    answer = await bot.ask("tom", "/caseload")

    assert "You hold 14 children against your cap of 15: room for 1 more." in answer
    assert "On Thu 10 Dec 2026 your cap rises to 20" in answer


async def test_the_same_nqsw_at_half_time_is_over_a_cap_of_7_rounded_down(bot: Bot) -> None:
    await team_of_three(bot)
    await bot.hold("ella", 14)

    answer = await bot.ask("ella", "/caseload")

    assert "7 over your cap of 7" in answer
    assert "15 at full time, 0.5 FTE" in answer


async def test_a_worker_at_the_cap_is_told_it_is_a_full_caseload(bot: Bot) -> None:
    await team_of_three(bot)
    await bot.hold("priya", 25)

    assert "that's a full caseload at your cap of 25" in await bot.ask("priya", "/caseload")


async def test_caseload_counts_children_by_status(bot: Bot) -> None:
    await team_of_three(bot)
    await bot.hold("tom", 3, "cp", prefix="CP")
    await bot.hold("tom", 2, "cin", prefix="CIN")

    answer = await bot.ask("tom", "/caseload")

    assert "3 child protection, 2 child in need" in answer


async def test_a_worker_can_ask_by_dm_without_the_slash(bot: Bot) -> None:
    await team_of_three(bot)
    await bot.hold("tom", 4)

    assert "room for 11 more" in await bot.dm("tom", "caseload")


async def test_caseload_banana_answers_with_usage_help(bot: Bot) -> None:
    await team_of_three(bot)

    answer = await bot.ask("tom", "/caseload banana")

    assert "I didn't understand `/caseload banana`" in answer
    assert "/caseload team" in answer


async def test_someone_not_on_the_staff_list_is_told_how_to_get_added(bot: Bot) -> None:
    bot.ws.add_user("UNEW", "newbie", "New Person")

    answer = await bot.ask("UNEW", "/caseload")

    assert "not on this authority's staff list" in answer
    assert "practice-bot import staff" in answer


async def test_an_early_help_worker_gets_their_count_without_a_cap(bot: Bot) -> None:
    await team_of_three(bot)
    await bot.hold("joe", 6, "early_help")

    answer = await bot.ask("joe", "/caseload")

    assert "You hold 6 children" in answer
    assert "no cap to show" in answer


async def test_a_manager_without_children_is_pointed_at_the_team_view(bot: Bot) -> None:
    await team_of_three(bot)

    assert "`/caseload team` shows your team" in await bot.ask("mgr", "/caseload")


async def test_a_manager_sees_each_worker_and_the_team_average(bot: Bot) -> None:
    await team_of_three(bot)
    await bot.hold("tom", 14)
    await bot.hold("priya", 26)

    answer = await bot.ask("mgr", "/caseload team")

    assert "Tom Hughes: 14 of 15 (room for 1)" in answer
    assert "Priya Shah: 26 of 25 (:warning: 1 over)" in answer
    assert "Ella Stone: 0 of 7 (room for 7)" in answer
    # 40 children over 2.5 FTE of case-holding workers.
    assert "Team average: *16* children per full-time worker" in answer
    assert "Grace Okafor" not in answer


async def test_a_social_worker_asking_for_the_team_sees_only_the_average(bot: Bot) -> None:
    await team_of_three(bot)
    await bot.hold("tom", 14)
    await bot.hold("priya", 26)

    answer = await bot.ask("tom", "/caseload team")

    assert "Team average" in answer
    assert "Priya" not in answer and "26" not in answer


async def test_a_manager_can_look_at_one_of_their_team(bot: Bot) -> None:
    await team_of_three(bot)
    await bot.hold("priya", 26)

    answer = await bot.ask("mgr", "/caseload <@priya|priya>")

    assert "Priya Shah: 26 of 25 (:warning: 1 over)" in answer


async def test_another_teams_manager_cannot_look_at_a_worker(bot: Bot) -> None:
    await team_of_three(bot)
    await bot.hold("priya", 26)

    answer = await bot.ask("kim", "/caseload <@priya>")

    assert "only as their team manager" in answer
    assert "26" not in answer


async def test_a_worker_cannot_look_at_a_colleague(bot: Bot) -> None:
    await team_of_three(bot)

    assert "only as their team manager" in await bot.ask("tom", "/caseload <@priya>")


async def test_an_admin_can_see_another_team_by_name(bot: Bot) -> None:
    await team_of_three(bot)

    answer = await bot.ask("alex", "/caseload team Lowestoft CLA")

    assert "Lowestoft CLA: caseloads" in answer.title() or "LOWESTOFT CLA" in answer


async def test_a_manager_cannot_see_another_team_by_name(bot: Bot) -> None:
    await team_of_three(bot)

    assert "other teams' are for admins" in await bot.ask("mgr", "/caseload team Lowestoft CLA")


async def test_a_worker_13_months_in_holding_26_triggers_one_manager_alert_and_not_again_next_day(
    bot: Bot,
) -> None:
    await team_of_three(bot)
    await bot.hold("priya", 26)

    first = await check_caseloads(bot.deps, bot.deps.workspace_id, bot.clock.now())
    bot.at("2026-11-24T09:00")
    await bot.hold("priya", 26)  # the next day's import: the same file again
    second = await check_caseloads(bot.deps, bot.deps.workspace_id, bot.clock.now())

    over = [s for s in first if "over_cap" in s.due_key]
    assert [s.outcome for s in over] == [Outcome.SENT]
    assert all(s.outcome == Outcome.ALREADY for s in second if "over_cap" in s.due_key)
    alerts = [m for m in bot.dms("mgr") if "over their cap" in m.text]
    assert len(alerts) == 1
    assert "Priya Shah now holds 26 children, 1 over their cap of 25" in alerts[0].text


async def test_a_fast_rise_alert_names_the_children_added(bot: Bot) -> None:
    await team_of_three(bot)
    bot.at("2026-11-10T09:00")
    await bot.hold("tom", 5, prefix="OLD")
    bot.at("2026-11-20T09:00")
    await bot.children("NEW1,tom,cp", "NEW2,tom,cp", "NEW3,tom,cin", full=False)
    bot.at("2026-11-23T09:00")

    await check_caseloads(bot.deps, bot.deps.workspace_id, bot.clock.now())

    alert = bot.dm_text("mgr")
    assert "Tom Hughes's caseload rose by 3 in 7 days (now 8)" in alert
    assert "NEW1, NEW2, NEW3" in alert


async def test_a_breach_that_ends_and_starts_again_is_alerted_again(bot: Bot) -> None:
    await team_of_three(bot)
    await bot.hold("priya", 26)
    await check_caseloads(bot.deps, bot.deps.workspace_id, bot.clock.now())
    bot.at("2026-11-24T09:00")
    await bot.hold("priya", 25)  # full import without one child: back within the cap
    await bot.children(*[f"PRIYA-{i:03d},priya,cin" for i in range(25)])
    await check_caseloads(bot.deps, bot.deps.workspace_id, bot.clock.now())
    bot.at("2026-11-25T09:00")
    await bot.children(*[f"PRIYA-{i:03d},priya,cin" for i in range(27)])
    await check_caseloads(bot.deps, bot.deps.workspace_id, bot.clock.now())

    alerts = [m for m in bot.dms("mgr") if "over their cap" in m.text]
    assert len(alerts) == 2
    assert "2 over their cap" in alerts[1].text


async def test_app_home_shows_the_workers_card_and_a_managers_team_table(bot: Bot) -> None:
    await team_of_three(bot)
    await bot.hold("tom", 14)

    worker_home = await bot.home("tom")
    manager_home = await bot.home("mgr")

    assert "room for 1 more" in worker_home
    assert "Tom Hughes: 14 of 15" in manager_home
    assert "Tom Hughes: 14 of 15" not in worker_home


async def test_weighting_when_switched_on_shows_points_against_a_points_cap(bot: Bot) -> None:
    from bot.policy import CaseloadPolicy, Policy, Weighting

    bot.deps.policy = Policy(caseload=CaseloadPolicy(weighting=Weighting(enabled=True, points_cap=25)))
    await team_of_three(bot)
    await bot.hold("priya", 10, "cp")

    assert "Weighted points*\n15 of 25" in (await bot.ask("priya", "/caseload")).replace("    ", "\n")
