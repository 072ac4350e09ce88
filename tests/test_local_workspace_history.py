"""The local workspace keeps the latest messages in memory; its log keeps every one.

Real Slack holds a workspace's history. The stand-in keeps the latest messages in all
(PRACTICE_BOT_LOCAL_KEEP_MESSAGES) and in any one channel (..._KEEP_PER_CHANNEL), drops
the oldest, and tells the page how many a channel lost; blocks are kept as compact text.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp

from bot.clock import FixedClock
from bot.settings import Settings
from storage.db import Database
from tests.support import Bot

BLOCKS = [
    {"type": "section", "text": {"type": "mrkdwn", "text": "*CP1* visit due today"}},
    {"type": "actions", "elements": [{"type": "button", "action_id": "visit.record", "value": "CP1"}]},
]


async def people(bot: Bot) -> None:
    await bot.staff(
        "mgr,Grace Okafor,Ipswich CIN 2,manager,1.0,2016-09-01",
        "tom,Tom Hughes,Ipswich CIN 2,social_worker,1.0,2026-06-10",
    )


async def post(bot: Bot, channel: str, text: str, blocks: list[dict[str, Any]] | None = None) -> str:
    response = await bot.deps.client.chat_postMessage(channel=channel, text=text, blocks=blocks)
    return str(response["ts"])


async def page_messages(bot: Bot, user: str, channel: str) -> Any:
    url = f"{bot.ws.base_url}/_local/messages?user={user}&channel={channel}"
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return await response.json()


async def test_the_local_workspace_keeps_the_latest_messages_of_a_busy_channel_and_says_how_many_it_dropped(
    bot: Bot,
) -> None:
    await people(bot)
    ws = bot.ws
    ws.keep_per_channel = 3
    team_channel = next(c.id for c in ws.channels.values() if c.name == "ipswich-cin-2")
    await post(bot, team_channel, "the week's digest")

    for n in range(5):
        await post(bot, "tom", f"reminder {n}")

    im = ws.im_channel("tom")
    assert [m.text for m in ws.messages_in(im)] == ["reminder 2", "reminder 3", "reminder 4"]
    assert ws.dropped_from[im] == 2 and ws.dropped == 2
    assert [m.text for m in ws.messages_in(team_channel)] == ["the week's digest"]
    page = await page_messages(bot, "tom", im)
    assert page["dropped"] == 2 and [m["text"] for m in page["messages"]] == ["reminder 2", "reminder 3", "reminder 4"]
    assert (await page_messages(bot, "tom", team_channel))["dropped"] == 0


async def test_past_its_total_the_workspace_drops_the_oldest_message_anywhere_and_the_log_keeps_them_all(
    db: Database, clock: FixedClock, settings: Settings, tmp_path: Path
) -> None:
    log = tmp_path / "workspace.jsonl"
    bot = await Bot.start(db, clock, settings.model_copy(update={"local_log": log, "local_keep_messages": 4}))
    try:
        await people(bot)
        for n in range(3):
            await post(bot, "tom", f"to Tom {n}")
            await post(bot, "mgr", f"to Grace {n}")

        assert [m.text for m in bot.ws.messages] == ["to Tom 1", "to Grace 1", "to Tom 2", "to Grace 2"]
        assert bot.ws.dropped == 2
        assert len(bot.ws.calls) == 4
    finally:
        await bot.stop()
    logged = [json.loads(line) for line in log.read_text().splitlines()]
    assert [e["text"] for e in logged if e["event"] == "message"] == [
        f"to {who} {n}" for n in range(3) for who in ("Tom", "Grace")
    ]


async def test_a_message_reads_back_the_blocks_it_was_posted_with_and_an_update_replaces_them(bot: Bot) -> None:
    await people(bot)
    ts = await post(bot, "tom", "1 child due", BLOCKS)
    [message] = bot.dms("tom")

    assert message.blocks == BLOCKS
    copy = message.blocks
    assert copy is not None
    copy.clear()  # a reader's copy: the message is unchanged
    assert message.blocks == BLOCKS
    # The Web API record keeps the call, not a second copy of its blocks.
    assert "blocks" not in bot.ws.calls[-1].args and bot.ws.calls[-1].args["channel"] == "tom"

    await bot.deps.client.chat_update(channel=message.channel, ts=ts, text="done", blocks=BLOCKS[:1])

    assert message.text == "done" and message.blocks == BLOCKS[:1] and message.edited
