"""The local workspace: Slack's Web API for the bot, a JSON API and page for people."""

from __future__ import annotations

from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError

from tests.support import Bot


async def get(bot: Bot, path: str) -> Any:
    async with aiohttp.ClientSession() as http, http.get(bot.ws.base_url + path) as response:
        assert response.status == 200
        if response.content_type == "application/json":
            return await response.json()
        return await response.text()


async def post(bot: Bot, path: str, data: dict[str, Any]) -> Any:
    async with aiohttp.ClientSession() as http, http.post(bot.ws.base_url + path, json=data) as response:
        assert response.status == 200
        return await response.json()


async def team(bot: Bot) -> None:
    await bot.staff(
        "mgr,Grace Okafor,Ipswich CIN 2,manager,1.0,2016-09-01",
        "tom,Tom Hughes,Ipswich CIN 2,social_worker,1.0,2026-06-10",
    )
    await bot.hold("tom", 14)


async def test_the_page_is_served_with_its_script(bot: Bot) -> None:
    page = await get(bot, "/")
    assert "<script" in page and "app.js" in page
    assert "function" in await get(bot, "/static/app.js")


async def test_a_person_picks_a_user_types_a_command_and_reads_the_reply(bot: Bot) -> None:
    await team(bot)
    state = await get(bot, "/_local/state")
    assert {"id": "tom", "name": "tom", "real_name": "Tom Hughes", "title": "social worker, Ipswich CIN 2"} in state[
        "users"
    ]
    conversations = (await get(bot, "/_local/conversations?user=tom"))["conversations"]
    im = conversations[0]["id"]
    assert conversations[0]["kind"] == "im" and any(c["name"] == "ipswich-cin-2" for c in conversations)

    assert (await post(bot, "/_local/command", {"user": "tom", "channel": im, "text": "/caseload"}))["ok"]
    await bot.ws.settle()

    messages = (await get(bot, f"/_local/messages?user=tom&channel={im}"))["messages"]
    assert "room for 1 more" in messages[-1]["text"] and messages[-1]["ephemeral"]
    # Someone else looking at Tom's DM does not see his ephemeral reply.
    assert (await get(bot, f"/_local/messages?user=mgr&channel={im}"))["messages"] == []


async def test_opening_home_publishes_the_managers_team_table(bot: Bot) -> None:
    await team(bot)
    assert (await post(bot, "/_local/home_opened", {"user": "mgr"}))["ok"]
    await bot.ws.settle()
    view = (await get(bot, "/_local/home?user=mgr"))["view"]
    assert view["type"] == "home"
    assert any("Tom Hughes: 14 of 15" in b.get("text", {}).get("text", "") for b in view["blocks"])


async def test_the_bot_is_answered_with_slack_errors_for_unknown_channels_and_bad_tokens(bot: Bot) -> None:
    client = bot.deps.client
    assert client is not None
    try:
        await client.chat_postMessage(channel="CNOPE", text="hi")
        raise AssertionError("expected channel_not_found")
    except SlackApiError as e:
        assert e.response["error"] == "channel_not_found"
    auth = await client.auth_test()
    assert auth["team_id"] == "T0LOCAL" and auth["user_id"] == bot.ws.bot_user_id


async def test_a_slack_outage_is_retried_with_backoff_and_the_message_arrives_once(bot: Bot) -> None:
    await team(bot)
    bot.ws.inject("chat.postMessage", 503, times=2)
    bot.ws.inject("chat.postMessage", 429, times=1, retry_after=1)
    client = bot.deps.client
    assert client is not None

    await client.chat_postMessage(channel="tom", text="hello after the outage")

    assert [m.text for m in bot.dms("tom")] == ["hello after the outage"]
    statuses = [c.status for c in bot.ws.calls if c.method == "chat.postMessage"]
    assert statuses == [503, 503, 429, 200]


async def test_a_method_past_its_rate_limit_is_answered_429_and_the_client_waits_and_delivers_once(
    bot: Bot,
) -> None:
    await team(bot)
    # Two calls a second, a bucket of two: the third call at once is one too many.
    bot.ws.method_rates["chat.postMessage"] = 2.0
    client = bot.deps.client
    assert client is not None

    for text in ("one", "two", "three"):
        await client.chat_postMessage(channel="tom", text=text)
    await client.auth_test()

    assert [m.text for m in bot.dms("tom")] == ["one", "two", "three"]
    statuses = [c.status for c in bot.ws.calls if c.method == "chat.postMessage"]
    assert statuses[:2] == [200, 200]
    assert statuses[2:] == [429, 200]
    assert all(c.status == 200 for c in bot.ws.calls if c.method == "auth.test")
