"""Never left waiting: unclaimed worries are nudged once and escalated once, at pinned times."""

from __future__ import annotations

import json

from bot.clock import parse_now
from schedules import tick
from schedules.ledger import Outcome, Send
from tests.support import Bot
from tests.worries_steps import (
    TAKE,
    WORRY_TEXT,
    book_desk,
    channel_of,
    co_located_floor,
    last_with,
    raise_worry,
)

JOB = "worries.chase"


async def tick_at(bot: Bot, when: str) -> list[Send]:
    bot.at(when)
    return [s for s in await tick(bot.deps, parse_now(when), only=JOB)]


def sent(sends: list[Send]) -> set[tuple[str, str]]:
    return {(s.target, s.due_key) for s in sends if s.outcome == Outcome.SENT}


def nudges(bot: Bot, user: str) -> int:
    return sum("still waiting for someone to take it" in json.dumps(m.blocks) for m in bot.dms(user))


async def test_a_today_worry_is_nudged_at_30_minutes_and_escalated_at_2_hours_once_each(
    bot: Bot,
) -> None:
    await co_located_floor(bot)
    await raise_worry(bot, "tom", urgency="today")  # Mon 23 Nov 09:00

    before = await tick_at(bot, "2026-11-23T09:25")
    at_nudge = await tick_at(bot, "2026-11-23T09:30")
    again = await tick_at(bot, "2026-11-23T09:35")
    at_escalation = await tick_at(bot, "2026-11-23T11:00")
    later = await tick_at(bot, "2026-11-23T11:05")

    assert sent(before) == set()
    assert sent(at_nudge) == {("joe", "worry:1:nudge"), ("amira", "worry:1:nudge")}
    assert sent(again) == set() and all(s.outcome == Outcome.ALREADY for s in again)
    duty = channel_of(bot, "Ipswich Early Help")
    assert sent(at_escalation) == {
        ("kate", "worry:1:escalate"),
        (duty, "worry:1:escalate"),
        ("tom", "worry:1:escalate"),
    }
    assert sent(later) == set()
    assert nudges(bot, "joe") == 1 and nudges(bot, "amira") == 1
    escalation = last_with(bot, "kate", TAKE)
    assert "you manage the team it went to" in json.dumps(escalation.blocks)
    assert "passed it to <@kate>" in bot.dm_text("tom")
    for message in bot.ws.messages:
        assert WORRY_TEXT not in message.text + json.dumps(message.blocks or [])


async def test_the_manager_can_take_an_escalated_worry_and_every_message_updates(bot: Bot) -> None:
    await co_located_floor(bot)
    await raise_worry(bot, "tom", urgency="today")
    await tick_at(bot, "2026-11-23T11:00")

    await bot.click("kate", last_with(bot, "kate", TAKE), TAKE)

    for user in ("joe", "amira"):
        assert all("taken by <@kate>" in json.dumps(m.blocks) for m in bot.dms(user) if "Worry #1" in m.text)
    duty = channel_of(bot, "Ipswich Early Help")
    assert all("taken by <@kate>" in json.dumps(m.blocks) for m in bot.ws.messages_in(duty))


async def test_a_this_week_worry_is_nudged_after_1_working_day_and_escalated_after_2(
    bot: Bot,
) -> None:
    await co_located_floor(bot)
    bot.at("2026-11-27T14:00")  # Friday afternoon
    await raise_worry(bot, "tom", urgency="week")

    weekend = await tick_at(bot, "2026-11-30T13:55")  # Monday, just before 1 working day
    monday = await tick_at(bot, "2026-11-30T14:00")
    tuesday = await tick_at(bot, "2026-12-01T14:00")

    assert sent(weekend) == set()
    assert ("joe", "worry:1:nudge") in sent(monday) and not any("escalate" in k for _, k in sent(monday))
    assert ("kate", "worry:1:escalate") in sent(tuesday)


async def test_a_claimed_worry_is_not_chased(bot: Bot) -> None:
    await co_located_floor(bot)
    await raise_worry(bot, "tom", urgency="today")
    await bot.click("joe", last_with(bot, "joe", TAKE), TAKE)

    sends = await tick_at(bot, "2026-11-23T12:00")

    assert sent(sends) == set()
    assert nudges(bot, "amira") == 0


async def test_a_worry_in_the_duty_channel_is_nudged_there(bot: Bot) -> None:
    await co_located_floor(bot)
    await book_desk(bot, "tom", "Ipswich", bot.clock.now().date(), "IP-1")
    await raise_worry(bot, "tom", urgency="today")

    sends = await tick_at(bot, "2026-11-23T09:30")

    duty = channel_of(bot, "Ipswich Early Help")
    assert sent(sends) == {(duty, "worry:1:nudge")}
    assert sum("still waiting" in json.dumps(m.blocks) for m in bot.ws.messages_in(duty)) == 1


async def test_a_bot_that_was_down_catches_up_and_a_restart_sends_nothing_twice(bot: Bot) -> None:
    await co_located_floor(bot)
    await raise_worry(bot, "tom", urgency="today")

    first = await tick_at(bot, "2026-11-23T13:00")  # down all morning: nudge and escalation both due
    # A restart: a fresh scheduler knows nothing, the ledger in the database does.
    second = await tick_at(bot, "2026-11-23T13:00")

    assert ("joe", "worry:1:nudge") in sent(first) and ("kate", "worry:1:escalate") in sent(first)
    assert sent(second) == set() and second and all(s.outcome == Outcome.ALREADY for s in second)


async def test_a_failed_nudge_is_tried_again_on_the_next_run(bot: Bot) -> None:
    await co_located_floor(bot)
    await raise_worry(bot, "tom", urgency="today")
    bot.ws.inject("chat.postMessage", 404, times=1)  # a permanent-looking error: not retried by the client

    first = await tick_at(bot, "2026-11-23T09:30")
    second = await tick_at(bot, "2026-11-23T09:35")

    assert any(s.outcome == Outcome.FAILED for s in first)
    assert sent(first) | sent(second) == {("joe", "worry:1:nudge"), ("amira", "worry:1:nudge")}
    assert nudges(bot, "joe") == 1 and nudges(bot, "amira") == 1
