"""Pacing: the bot spaces chat.postMessage at the workspace's rate instead of bursting into 429s."""

from __future__ import annotations

from bot.app import web_client
from bot.pacing import Pacer
from tests.support import Bot


def test_calls_to_a_paced_method_get_evenly_spaced_slots_and_others_none() -> None:
    pacer = Pacer({"chat.postMessage": 10.0})
    delays = [pacer.delay("chat.postMessage") for _ in range(3)]
    assert delays[0] == 0.0
    assert 0.09 < delays[1] <= 0.1
    assert 0.19 < delays[2] <= 0.2
    assert pacer.delay("views.publish") == 0.0


class Ticks:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_sender_held_up_by_a_slow_reply_makes_up_the_lost_slot_by_going_at_once() -> None:
    ticks = Ticks()
    pacer = Pacer({"chat.postMessage": 10.0}, catch_up=0.05, clock=ticks)
    assert pacer.delay("chat.postMessage") == 0.0  # slot at 100.0; the next at 100.1
    ticks.now = 100.13  # the reply and the ledger took 130 ms: 30 ms behind
    assert pacer.delay("chat.postMessage") == 0.0  # goes now, and the next slot stays at 100.2
    ticks.now = 100.15
    assert abs(pacer.delay("chat.postMessage") - 0.05) < 1e-9  # back on the schedule


def test_a_sender_far_behind_or_idle_starts_afresh_instead_of_bursting() -> None:
    ticks = Ticks()
    pacer = Pacer({"chat.postMessage": 10.0}, catch_up=0.05, clock=ticks)
    pacer.delay("chat.postMessage")
    ticks.now = 160.0  # a minute later
    assert [pacer.delay("chat.postMessage") > 0 for _ in range(3)] == [False, True, True]


async def test_thirty_dms_paced_at_a_workspaces_limit_all_arrive_once_without_a_single_429(
    bot: Bot,
) -> None:
    await bot.staff(*(f"w{i:02d},Worker {i:02d},Ipswich CIN 2,social_worker,1.0,2020-09-01" for i in range(30)))
    # 50 a second, a bucket of 5: sent back to back, most of these would be refused.
    bot.ws.method_rates["chat.postMessage"] = 50.0
    bot.ws.method_burst = 0.1
    client = web_client(bot.ws.bot_token, bot.ws.base_url + "/api/", post_rate=50.0)
    users = sorted(u for u in bot.ws.users if bot.ws.users[u].name.startswith("w"))

    for user in users:
        await client.chat_postMessage(channel=user, text="Your visits for today")

    for user in users:
        assert [m.text for m in bot.dms(user)] == ["Your visits for today"]
    statuses = [c.status for c in bot.ws.calls if c.method == "chat.postMessage"]
    assert statuses == [200] * 30
