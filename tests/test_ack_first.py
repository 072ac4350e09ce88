"""Acks first: under a burst, every person's ack goes out before the bot works on replies.

Slack shows an error if a command isn't acked within 3 seconds, while the reply
itself may come later; so work after one request's ack must not hold up the
next request's ack (bot/ackfirst.py).
"""

from __future__ import annotations

import asyncio

from bot.ackfirst import AckGate
from tests.support import Bot

PEOPLE = 20


async def test_twenty_people_typing_caseload_at_once_are_all_acked_before_any_reply_is_worked_on(
    bot: Bot,
) -> None:
    await bot.staff(
        "mgr,Grace Okafor,Ipswich CIN 2,manager,1.0,2016-09-01",
        *(f"w{i:02d},Worker {i:02d},Ipswich CIN 2,social_worker,1.0,2020-09-01" for i in range(PEOPLE)),
    )
    for i in range(PEOPLE):
        await bot.hold(f"w{i:02d}", 3)
    replies_when_acked: list[int] = []

    async def type_caseload(user: str) -> None:
        status, _ = await bot.ws.command(user, "/caseload")
        assert status == 200
        replies_when_acked.append(len(bot.ws.messages))

    users = [bot.ws.users[u].id for u in bot.ws.users if bot.ws.users[u].name.startswith("w")]
    before = len(bot.ws.messages)
    await asyncio.gather(*(type_caseload(u) for u in users))
    await bot.ws.settle()

    assert len(users) == PEOPLE
    # The last to arrive may start its reply the moment the last ack is given, before Bolt has
    # sent every ack back: at most that one reply is ahead of an ack; the rest all wait.
    assert max(replies_when_acked) - before <= 1
    assert len(bot.ws.messages) == before + PEOPLE
    for user in users:
        assert "children" in bot.text(bot.dms(user))


async def test_work_after_an_ack_waits_while_another_request_still_waits_for_its_ack() -> None:
    gate = AckGate(max_wait=5, linger=0)
    mine, theirs = gate.arrive(), gate.arrive()
    gate.acked(mine)

    follow_up = asyncio.ensure_future(gate.quiet())
    await asyncio.sleep(0.05)
    assert not follow_up.done()

    gate.acked(theirs)
    await asyncio.wait_for(follow_up, 5)
    assert gate.pending == 0


async def test_a_request_that_ends_without_an_ack_stops_holding_others_back() -> None:
    gate = AckGate(max_wait=5, linger=0)
    failed = gate.arrive()
    follow_up = asyncio.ensure_future(gate.quiet())
    await asyncio.sleep(0.02)
    assert not follow_up.done()
    # dispatch_request counts it out when the dispatch ends, acked or not; twice is harmless.
    gate.acked(failed)
    gate.acked(failed)
    await asyncio.wait_for(follow_up, 5)
    assert gate.pending == 0


async def test_work_is_held_back_no_longer_than_max_wait_even_if_an_ack_never_comes() -> None:
    gate = AckGate(max_wait=0.05, linger=0)
    gate.arrive()
    await asyncio.wait_for(gate.quiet(), 5)
    assert gate.pending == 1


async def test_past_max_waiting_held_back_follow_ups_more_run_at_once() -> None:
    gate = AckGate(max_wait=5, linger=0, max_waiting=3)
    gate.arrive()
    held = [asyncio.ensure_future(gate.quiet()) for _ in range(3)]
    await asyncio.sleep(0.02)
    assert gate.waiting == 3
    await asyncio.wait_for(gate.quiet(), 1)  # the fourth is not held
    for task in held:
        task.cancel()
    await asyncio.gather(*held, return_exceptions=True)
    assert gate.waiting == 0


async def test_a_request_on_its_own_goes_on_to_its_work_the_moment_it_has_acked() -> None:
    gate = AckGate(max_wait=5, linger=5)
    alone = gate.arrive()
    gate.acked(alone)
    await asyncio.wait_for(gate.quiet(alone), 0.5)
