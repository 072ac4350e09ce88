"""The delivery ledger's runs: one transaction a send, and no outcome left unwritten.

`sending` writes each send's outcome in the same transaction as the next send's
claim. These stories hold it to the promises of a lone `send_once`: whatever
stops a run part-way, every message Slack accepted is marked sent, and what
was not sent is sent by the next run, once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import select

from schedules.ledger import Outcome, sending
from storage.ledger import Delivery
from tests.support import Bot

JOB = "test.run"
DUE = "2026-11-23"
PEOPLE = ("tom", "priya", "ella")


@pytest.fixture(autouse=True)
async def team(bot: Bot) -> None:
    await bot.staff(*(f"{p},{p.title()} Smith,Ipswich CIN 2,social_worker,1.0,2020-01-01" for p in PEOPLE))


async def statuses(bot: Bot) -> dict[str, str]:
    async with bot.deps.db.session() as session:
        rows = await session.scalars(select(Delivery).where(Delivery.job == JOB))
        return {r.target: r.status for r in rows}


def post(bot: Bot, user: str) -> Callable[[], Awaitable[None]]:
    async def send() -> None:
        await bot.deps.client.chat_postMessage(channel=user, text=f"hello {user}")

    return send


async def test_a_run_of_three_sends_marks_all_three_sent_and_a_second_run_sends_none(bot: Bot) -> None:
    async with sending(bot.deps, bot.deps.workspace_id, JOB) as run:
        first = [await run.once(c, DUE, post(bot, c)) for c in PEOPLE]
    async with sending(bot.deps, bot.deps.workspace_id, JOB) as run:
        again = [await run.once(c, DUE, post(bot, c)) for c in PEOPLE]

    assert [s.outcome for s in first] == [Outcome.SENT] * 3
    assert [s.outcome for s in again] == [Outcome.ALREADY] * 3
    assert await statuses(bot) == {"tom": "sent", "priya": "sent", "ella": "sent"}
    assert [len(bot.dms(c)) for c in PEOPLE] == [1, 1, 1]


async def test_a_job_that_breaks_after_a_send_still_marks_that_send_sent(bot: Bot) -> None:
    with pytest.raises(RuntimeError):
        async with sending(bot.deps, bot.deps.workspace_id, JOB) as run:
            await run.once("tom", DUE, post(bot, "tom"))
            raise RuntimeError("a bug between two sends")

    assert await statuses(bot) == {"tom": "sent"}


async def test_a_send_that_breaks_leaves_its_claim_and_the_one_before_is_marked_sent(bot: Bot) -> None:
    async def broken() -> None:
        raise ValueError("not a Slack failure: a bug")

    with pytest.raises(ValueError):
        async with sending(bot.deps, bot.deps.workspace_id, JOB) as run:
            await run.once("tom", DUE, post(bot, "tom"))
            await run.once("priya", DUE, broken)

    # priya stays claimed: retaken after STALE_CLAIM, in case it was in Slack's hands.
    assert await statuses(bot) == {"tom": "sent", "priya": "claimed"}


async def test_a_message_slack_refuses_is_marked_failed_and_the_rest_of_the_run_goes_on(bot: Bot) -> None:
    async with sending(bot.deps, bot.deps.workspace_id, JOB) as run:
        sent = [await run.once(c, DUE, post(bot, c)) for c in ("tom", "nobody", "priya")]

    assert [s.outcome for s in sent] == [Outcome.SENT, Outcome.FAILED, Outcome.SENT]
    assert sent[1].error == "channel_not_found"
    assert await statuses(bot) == {"tom": "sent", "nobody": "failed", "priya": "sent"}
    assert [len(bot.dms(c)) for c in ("tom", "priya")] == [1, 1]
