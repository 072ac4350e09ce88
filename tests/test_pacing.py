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
