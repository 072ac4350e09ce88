"""Morning reminders, the weekly digest and manager lapse alerts: sent once, whatever happens.

Same children as tests/test_visits.py (see its docstring for the hand-checked
dates), plus Ella, whose only child is not due for weeks. Monday 23 November
2026 is ISO week 2026-W48.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

from sqlalchemy import select

from bot.clock import parse_now
from schedules import tick
from schedules.ledger import STALE_CLAIM, Outcome, Send
from storage.db import Database
from storage.ledger import Delivery
from storage.org import Team
from tests.support import Bot
from tests.test_visits import TEN_YEARS, TWO_YEARS, two_teams

REMINDERS = "visits.reminders"
DIGEST = "visits.digest"
LAPSES = "visits.lapses"


async def with_ella(bot: Bot) -> None:
    await two_teams(bot)
    await bot.staff(f"ella,Ella Stone,Ipswich CIN 2,social_worker,1.0,{TWO_YEARS}")
    await bot.import_children(
        "child_ref,allocated_to,status,status_since,last_visit_on\nCIN3,ella,cin,2026-01-05,2026-11-20\n",
        full=False,
    )


async def run(bot: Bot, when: str, job: str | None = None) -> list[Send]:
    """`practice-bot tick --now WHEN` (the clock moves there too, as it would)."""
    bot.at(when)
    return await tick(bot.deps, parse_now(when), only=job)


def sent(sends: list[Send], job: str | None = None) -> list[Send]:
    return [s for s in sends if s.outcome is Outcome.SENT and (job is None or s.job == job)]


async def channel_of(bot: Bot, team: str) -> str:
    async with bot.deps.db.session() as session:
        channel = await session.scalar(select(Team.channel_id).where(Team.name == team))
    assert channel is not None
    return channel


async def delivery(bot: Bot, job: str, target: str, due_key: str) -> Delivery | None:
    async with bot.deps.db.session() as session:
        return await session.scalar(
            select(Delivery).where(Delivery.job == job, Delivery.target == target, Delivery.due_key == due_key)
        )


# --- morning reminders ------------------------------------------------------------


async def test_each_worker_gets_one_morning_dm_most_urgent_first_with_a_record_button(
    bot: Bot,
) -> None:
    await with_ella(bot)

    sends = await run(bot, "2026-11-23T08:00", REMINDERS)

    assert sorted(s.target for s in sent(sends)) == ["priya", "sam", "tom"]
    [dm] = bot.dms("tom")
    text = bot.dm_text("tom")
    assert "1 overdue, 1 due soon" in text
    assert text.index("CP1") < text.index("CIN1")
    assert "CIN2" not in text
    buttons = [b["accessory"] for b in dm.blocks or [] if "accessory" in b]
    assert [(b["action_id"], b["value"]) for b in buttons] == [
        ("visits.record", "CP1"),
        ("visits.record", "CIN1"),
    ]


async def test_a_worker_with_nothing_due_gets_no_message(bot: Bot) -> None:
    await with_ella(bot)

    await run(bot, "2026-11-23T08:00", REMINDERS)

    assert bot.dms("ella") == []
    assert bot.dms("mgr") == []


async def test_running_the_same_morning_twice_sends_nothing_the_second_time(bot: Bot) -> None:
    await with_ella(bot)

    first = await run(bot, "2026-11-23T08:00", REMINDERS)
    again = await run(bot, "2026-11-23T08:00", REMINDERS)
    later = await run(bot, "2026-11-23T15:00", REMINDERS)

    assert len(sent(first)) == 3
    assert [s.outcome for s in again + later] == [Outcome.ALREADY] * 6
    assert len(bot.dms("tom")) == 1


async def test_the_next_working_morning_brings_a_fresh_reminder(bot: Bot) -> None:
    await with_ella(bot)

    await run(bot, "2026-11-23T08:00", REMINDERS)
    tuesday = await run(bot, "2026-11-24T08:00", REMINDERS)

    assert [s.due_key for s in sent(tuesday) if s.target == "tom"] == ["2026-11-24"]
    assert len(bot.dms("tom")) == 2


async def test_no_reminders_on_a_bank_holiday(bot: Bot) -> None:
    await with_ella(bot)

    # Boxing Day 2026 is a Saturday; Monday 28 December is the substitute bank holiday.
    assert sent(await run(bot, "2026-12-28T08:00", REMINDERS)) == []


async def test_the_reminder_time_is_configurable(bot: Bot) -> None:
    from bot.policy import Policy, VisitsPolicy

    bot.deps.policy = Policy(visits=VisitsPolicy(reminder_time="07:15"))
    await with_ella(bot)

    assert sent(await run(bot, "2026-11-23T07:10", REMINDERS)) == []
    assert len(sent(await run(bot, "2026-11-23T07:15", REMINDERS))) == 3


# --- after downtime ----------------------------------------------------------------


async def test_a_bot_back_after_a_morning_outage_catches_up_once(bot: Bot) -> None:
    await with_ella(bot)

    # Down from Friday evening until 10:30 on Monday: the start-up tick catches up.
    back = await run(bot, "2026-11-23T10:30")
    again = await run(bot, "2026-11-23T10:31")

    assert sorted(s.target for s in sent(back, REMINDERS)) == ["priya", "sam", "tom"]
    assert {s.due_key for s in sent(back, REMINDERS)} == {"2026-11-23"}
    assert len(sent(back, DIGEST)) == 2
    assert sent(again) == []
    assert len(bot.dms("tom")) == 1


async def test_yesterdays_reminder_is_not_sent_late_but_this_weeks_digest_is(bot: Bot) -> None:
    await with_ella(bot)

    # Down all Monday; back on Tuesday before the morning reminders.
    back = await run(bot, "2026-11-24T07:00")

    assert sent(back, REMINDERS) == []
    assert {s.due_key for s in sent(back, DIGEST)} == {"2026-W48"}
    assert len(sent(await run(bot, "2026-11-24T08:00"), REMINDERS)) == 3


async def test_a_send_whose_sender_crashed_after_claiming_is_sent_on_the_next_tick(
    bot: Bot,
) -> None:
    await with_ella(bot)
    claimed = parse_now("2026-11-23T08:00")
    async with bot.deps.db.transaction() as session:
        # One replica died between claim and send; another is sending right now.
        for target, at in (("tom", claimed), ("priya", parse_now("2026-11-23T08:15"))):
            session.add(
                Delivery(
                    workspace_id=bot.deps.workspace_id,
                    job=REMINDERS,
                    target=target,
                    due_key="2026-11-23",
                    status="claimed",
                    attempts=1,
                    claimed_at=at,
                )
            )

    sends = await run(bot, (claimed + STALE_CLAIM + timedelta(minutes=1)).isoformat(), REMINDERS)

    outcomes = {s.target: s.outcome for s in sends}
    assert outcomes == {"tom": Outcome.SENT, "priya": Outcome.ALREADY, "sam": Outcome.SENT}
    assert len(bot.dms("tom")) == 1
    row = await delivery(bot, REMINDERS, "tom", "2026-11-23")
    assert row is not None and (row.status, row.attempts) == ("sent", 2)


async def test_a_restart_mid_digest_posts_the_rest_and_repeats_nothing(bot: Bot) -> None:
    await two_teams(bot)
    ipswich = await channel_of(bot, "Ipswich CIN 2")
    lowestoft = await channel_of(bot, "Lowestoft CLA")
    long_ago = parse_now("2026-11-23T08:30")
    async with bot.deps.db.transaction() as session:
        session.add(
            Delivery(
                workspace_id=bot.deps.workspace_id,
                job=DIGEST,
                target=ipswich,
                due_key="2026-W48",
                status="sent",
                attempts=1,
                claimed_at=long_ago,
                sent_at=long_ago,
            )
        )
        session.add(
            Delivery(
                workspace_id=bot.deps.workspace_id,
                job=DIGEST,
                target=lowestoft,
                due_key="2026-W48",
                status="claimed",
                attempts=1,
                claimed_at=long_ago,
            )
        )

    sends = await run(bot, "2026-11-23T09:00", DIGEST)

    assert {s.target: s.outcome for s in sends} == {
        ipswich: Outcome.ALREADY,
        lowestoft: Outcome.SENT,
    }
    assert bot.ws.messages_in(ipswich) == []
    assert len(bot.ws.messages_in(lowestoft)) == 1


# --- Slack failures ----------------------------------------------------------------------


async def test_rate_limits_are_retried_after_retry_after_and_the_dm_arrives_once(bot: Bot) -> None:
    await two_teams(bot)
    bot.ws.inject("chat.postMessage", 429, times=2, retry_after=1)

    sends = await run(bot, "2026-11-23T08:00", REMINDERS)

    assert all(s.outcome is Outcome.SENT for s in sends)
    assert len(bot.dms("tom")) == 1
    limited = [c for c in bot.ws.calls if c.method == "chat.postMessage" and c.status == 429]
    assert len(limited) == 2


async def test_an_unreachable_worker_is_recorded_as_failed_and_retried_on_the_next_tick(
    bot: Bot,
) -> None:
    await two_teams(bot)
    tom = bot.ws.users.pop("tom")  # e.g. deactivated in Slack for a while

    first = await run(bot, "2026-11-23T08:00", REMINDERS)
    row = await delivery(bot, REMINDERS, "tom", "2026-11-23")
    assert {s.target: s.outcome for s in first}["tom"] is Outcome.FAILED
    assert row is not None and row.status == "failed" and row.last_error == "channel_not_found"

    bot.ws.users["tom"] = tom
    second = await run(bot, "2026-11-23T08:05", REMINDERS)

    assert {s.target: s.outcome for s in second} == {
        "tom": Outcome.SENT,
        "priya": Outcome.ALREADY,
        "sam": Outcome.ALREADY,
    }
    assert len(bot.dms("tom")) == 1


# --- two ticks at once ---------------------------------------------------------------


async def test_two_ticks_at_once_from_two_processes_send_each_message_once(bot: Bot) -> None:
    """On PostgreSQL this is a real race between two engines; on SQLite it checks the logic."""
    await with_ella(bot)
    other = Database(bot.deps.db.url, pool_size=5)
    replica = dataclasses.replace(bot.deps, db=other, clients={})
    now = parse_now("2026-11-23T10:00")
    bot.at(now)
    try:
        a, b = await asyncio.gather(tick(bot.deps, now), tick(replica, now))
    finally:
        await other.dispose()

    mine = [s for s in a + b if s.job.startswith("visits.")]
    keys = [(s.job, s.target, s.due_key) for s in sent(mine)]
    assert len(keys) == len(set(keys))
    assert {k[0] for k in keys} == {REMINDERS, DIGEST, LAPSES}
    assert all(s.outcome in (Outcome.SENT, Outcome.ALREADY) for s in mine)
    for user in ("tom", "priya", "sam"):
        assert len([m for m in bot.dms(user) if "Good morning" in m.text or "Good morning" in str(m.blocks)]) == 1
    for team in ("Ipswich CIN 2", "Lowestoft CLA"):
        assert len(bot.ws.messages_in(await channel_of(bot, team))) == 1


# --- the weekly digest ----------------------------------------------------------------


async def test_the_monday_digest_gives_counts_and_only_overdue_refs_with_workers(bot: Bot) -> None:
    await with_ella(bot)

    sends = await run(bot, "2026-11-23T08:30", DIGEST)

    ipswich = await channel_of(bot, "Ipswich CIN 2")
    assert {s.due_key for s in sent(sends)} == {"2026-W48"}
    [digest] = bot.ws.messages_in(ipswich)
    text = bot.text([digest])
    assert "IPSWICH CIN 2: VISITS, WEEK OF MON 23 NOV 2026" in text
    assert "*Due this week*\n2" in text.replace("    ", "\n")
    assert "*Overdue*\n1" in text.replace("    ", "\n")
    assert "0% (0 of 1 visits on time)" in text
    assert "CP1: visit overdue by 7 days (Tom Hughes)" in text
    # Children due but not overdue are counted, never named; nor are their workers.
    for not_here in ("CIN1", "CP2", "CIN2", "CIN3", "Priya", "Ella", "CLA1"):
        assert not_here not in text


async def test_the_digest_day_and_time_are_configurable(bot: Bot) -> None:
    from bot.policy import Policy, VisitsPolicy

    bot.deps.policy = Policy(visits=VisitsPolicy(digest_day="fri", digest_time="16:00"))
    await two_teams(bot)

    # A first start mid-week posts the latest digest (last Friday's, week 47) ...
    assert {s.due_key for s in sent(await run(bot, "2026-11-26T12:00", DIGEST))} == {"2026-W47"}
    assert sent(await run(bot, "2026-11-27T15:59", DIGEST)) == []
    # ... and the next comes on Friday at 16:00.
    assert {s.due_key for s in sent(await run(bot, "2026-11-27T16:00", DIGEST))} == {"2026-W48"}


async def test_a_team_with_no_statutory_children_gets_no_digest(bot: Bot) -> None:
    await two_teams(bot)
    await bot.staff(
        f"kate,Kate Simmons,Ipswich Early Help,manager,1.0,{TEN_YEARS}",
        "joe,Joe Fraser,Ipswich Early Help,early_help,1.0,",
    )
    await bot.children("EH1,joe,early_help", full=False)

    await run(bot, "2026-11-23T08:30", DIGEST)

    assert bot.ws.messages_in(await channel_of(bot, "Ipswich Early Help")) == []


# --- manager lapse alerts ---------------------------------------------------------------


def lapse_dms(bot: Bot, manager: str, ref: str) -> list[str]:
    return [m.text for m in bot.dms(manager) if m.text.startswith(f"{ref} (")]


async def test_a_manager_hears_once_when_a_child_is_overdue_past_the_threshold(bot: Bot) -> None:
    await two_teams(bot)

    # CP1 was due Mon 16 Nov: on Mon 23 Nov it is 5 working days late, on Tue 24 Nov 6.
    await run(bot, "2026-11-23T08:00", LAPSES)
    assert lapse_dms(bot, "mgr", "CP1") == []
    assert len(lapse_dms(bot, "kim", "CLA1")) == 1

    await run(bot, "2026-11-24T08:00", LAPSES)
    await run(bot, "2026-11-25T08:00", LAPSES)
    await run(bot, "2026-11-25T08:00", LAPSES)

    [alert] = lapse_dms(bot, "mgr", "CP1")
    assert alert.startswith("CP1 (Tom Hughes): visit overdue by 8 days (was due Mon 16 Nov 2026)")
    assert len(lapse_dms(bot, "kim", "CLA1")) == 1
    assert lapse_dms(bot, "kim", "CP1") == []  # not her team


async def test_a_new_lapse_after_a_visit_is_a_new_alert(bot: Bot) -> None:
    await two_teams(bot)
    await run(bot, "2026-11-24T08:00", LAPSES)
    bot.at("2026-11-25T09:00")
    await bot.ask("tom", "/visit CP1")  # next due Wed 9 Dec

    await run(bot, "2026-12-16T08:00", LAPSES)  # 5 working days late: not yet
    assert len(lapse_dms(bot, "mgr", "CP1")) == 1
    await run(bot, "2026-12-17T08:00", LAPSES)  # 6: a second lapse

    alerts = lapse_dms(bot, "mgr", "CP1")
    assert len(alerts) == 2
    assert "was due Wed 9 Dec 2026" in alerts[1]


async def test_the_lapse_threshold_is_configurable(bot: Bot) -> None:
    from bot.policy import Policy, VisitsPolicy

    bot.deps.policy = Policy(visits=VisitsPolicy(manager_lapse_working_days=2))
    await two_teams(bot)

    await run(bot, "2026-11-23T08:00", LAPSES)

    assert len(lapse_dms(bot, "mgr", "CP1")) == 1


# --- cost ---------------------------------------------------------------------------------


class QueryCounter:
    def __init__(self, db: Database) -> None:
        self.count = 0
        self.engine = db.engine.sync_engine

    def __enter__(self) -> QueryCounter:
        from sqlalchemy import event

        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *_: object) -> None:
        from sqlalchemy import event

        event.remove(self.engine, "before_cursor_execute", self._seen)

    def _seen(self, *_: object) -> None:
        self.count += 1


async def test_the_digest_for_every_team_costs_the_same_few_queries_however_many_teams(
    bot: Bot,
) -> None:
    from datetime import date

    from schedules.visits import team_digests

    await two_teams(bot)
    with QueryCounter(bot.deps.db) as two:
        assert len(await team_digests(bot.deps, bot.deps.workspace_id, date(2026, 11, 23))) == 2

    for n in range(3, 8):
        await bot.staff(f"w{n},Worker {n},Team {n},social_worker,1.0,{TWO_YEARS}")
        await bot.import_children(
            f"child_ref,allocated_to,status,status_since,last_visit_on\nT{n},w{n},cp,2026-01-05,2026-11-10\n",
            full=False,
        )
    with QueryCounter(bot.deps.db) as seven:
        assert len(await team_digests(bot.deps, bot.deps.workspace_id, date(2026, 11, 23))) == 7

    assert seven.count == two.count <= 3
