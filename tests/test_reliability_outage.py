"""Slack down: the local workspace answers 500s and hangs past the client's timeout for a
while. The bot retries with backoff, logs each retry, and once Slack is back every
worker has their morning reminder exactly once.

A longer outage outlasts the client's retries (4, backing off 0.5, 1, 2 and 4 seconds):
the send is recorded in the ledger as failed, with the reason, and the scheduler's retry
(every few minutes, `schedules.retry_failed`) delivers it then, once, rather than
leaving it to tomorrow's run under tomorrow's key.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from schedules import RETRY_EVERY, build_scheduler, retry_failed, tick
from schedules.ledger import Outcome
from tests.support import Bot
from tests.test_visits import two_teams
from tests.test_visits_schedules import REMINDERS, delivery

MORNING = "2026-11-23T08:00"  # a Monday: tom, priya and sam have visits due
WORKERS = ("priya", "sam", "tom")  # the order the job sends in


class Recorded(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def said(self, message: str) -> list[logging.LogRecord]:
        return [r for r in self.records if r.getMessage().startswith(message)]


@contextmanager
def logs() -> Iterator[Recorded]:
    handler = Recorded()
    logger = logging.getLogger("practice_bot")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def reminders_to(bot: Bot, user: str) -> int:
    return sum("Good morning" in str(m.blocks) for m in bot.dms(user))


def post_statuses(bot: Bot) -> list[int]:
    return [c.status for c in bot.ws.calls if c.method == "chat.postMessage"]


async def test_500s_and_timeouts_for_a_while_are_retried_with_backoff_and_each_reminder_arrives_once(
    bot: Bot,
) -> None:
    await two_teams(bot)
    # A short client timeout so a hang costs the test a second, not slack_sdk's 30.
    assert bot.deps.client is not None
    bot.deps.client.timeout = 1
    bot.ws.inject("chat.postMessage", 500, times=1)
    bot.ws.inject("chat.postMessage", 503, times=1, delay=1.5)  # hangs until the client gives up
    bot.at(MORNING)

    with logs() as logged:
        sends = await tick(bot.deps, bot.clock.now(), only=REMINDERS)

    assert [(s.target, s.outcome) for s in sends] == [(w, Outcome.SENT) for w in WORKERS]
    assert [reminders_to(bot, w) for w in WORKERS] == [1, 1, 1]
    # Priya's reminder met the outage: a 500, a hang, then delivered; the others went straight through.
    assert post_statuses(bot) == [500, 503, 200, 200, 200]
    retried = [(r.slack_method, r.attempt, r.reason) for r in logged.said("slack call retried")]  # type: ignore[attr-defined]
    assert retried == [("chat.postMessage", 1, "500"), ("chat.postMessage", 2, "TimeoutError")]
    row = await delivery(bot, REMINDERS, "priya", "2026-11-23")
    assert row is not None and (row.status, row.attempts, row.last_error) == ("sent", 1, None)


async def test_an_outage_longer_than_the_retries_is_recorded_as_failed_and_delivered_once_minutes_later(
    bot: Bot,
) -> None:
    await two_teams(bot)
    bot.ws.inject("chat.postMessage", 500, times=5)  # the first try and all four retries
    bot.at(MORNING)

    with logs() as logged:
        first = await tick(bot.deps, bot.clock.now(), only=REMINDERS)

    assert [(s.target, s.outcome) for s in first] == [
        ("priya", Outcome.FAILED),
        ("sam", Outcome.SENT),
        ("tom", Outcome.SENT),
    ]
    assert reminders_to(bot, "priya") == 0
    row = await delivery(bot, REMINDERS, "priya", "2026-11-23")
    assert row is not None and (row.status, row.last_error) == ("failed", "internal_error")
    assert len(logged.said("slack call retried")) == 4
    assert [r.levelname for r in logged.said("send failed")] == ["WARNING"]

    # Slack is back; the scheduler's retry comes round.
    bot.at(bot.clock.now() + RETRY_EVERY)
    again = await retry_failed(bot.deps, bot.clock.now())

    assert [(s.target, s.outcome) for s in again] == [
        ("priya", Outcome.SENT),
        ("sam", Outcome.ALREADY),
        ("tom", Outcome.ALREADY),
    ]
    assert [reminders_to(bot, w) for w in WORKERS] == [1, 1, 1]
    row = await delivery(bot, REMINDERS, "priya", "2026-11-23")
    assert row is not None and (row.status, row.attempts) == ("sent", 2)
    # Nothing left to retry: the next round sends nothing.
    assert await retry_failed(bot.deps, bot.clock.now() + RETRY_EVERY) == []


async def test_the_scheduler_retries_failed_sends_every_few_minutes(bot: Bot) -> None:
    scheduler = build_scheduler(bot.deps)
    retry = scheduler.get_job("ledger.retry")

    assert retry is not None
    assert retry.trigger.interval == RETRY_EVERY <= timedelta(minutes=10)
