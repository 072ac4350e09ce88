"""The local workspace's record outside the process (PRACTICE_BOT_LOCAL_LOG) and its slow Slack.

The crash test reads what staff received from this record after kill -9, so it must
hold every message the bot posts (by the Web API or a response_url), and every Web API
call as it arrives, before it is answered.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.clock import FixedClock
from bot.settings import Settings
from storage.db import Database
from tests.support import Bot


def test_the_record_and_the_slow_slack_are_set_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PRACTICE_BOT_LOCAL_LOG", str(tmp_path / "record.jsonl"))
    monkeypatch.setenv("PRACTICE_BOT_LOCAL_POST_DELAY_MS", "250")

    settings = Settings(_env_file=None)  # type: ignore[call-arg]

    assert (settings.local_log, settings.local_post_delay_ms) == (tmp_path / "record.jsonl", 250)
    assert Settings(_env_file=None, local_log=None).local_log is None  # type: ignore[call-arg]


async def test_every_call_and_every_message_the_bot_posts_is_recorded_as_a_json_line(
    db: Database, clock: FixedClock, settings: Settings, tmp_path: Path
) -> None:
    record = tmp_path / "record.jsonl"
    bot = await Bot.start(db, clock, settings.model_copy(update={"local_log": record, "local_post_delay_ms": 10}))
    try:
        assert bot.ws.post_delay == 0.01
        await bot.staff("tom,Tom Hughes,Ipswich CIN 2,social_worker,1.0,2026-06-10")
        await bot.ask("tom", "/caseload")  # answered through the response_url
        await bot.dm("tom", "caseload")  # answered with chat.postMessage
        assert bot.deps.client is not None
        await bot.deps.client.chat_postMessage(channel="tom", text="Good morning")
    finally:
        await bot.stop()

    lines = [json.loads(line) for line in record.read_text().splitlines()]
    messages = [e for e in lines if e["event"] == "message"]
    calls = [e for e in lines if e["event"] == "call"]
    # The bot's three messages, and not Tom's own "caseload".
    assert [(m["channel"], m["ephemeral_to"]) for m in messages] == [("Dtom", "tom"), ("Dtom", None), ("Dtom", None)]
    assert messages[0]["text"] and messages[2]["text"] == "Good morning"
    assert [c["method"] for c in calls].count("chat.postMessage") == 2
    # A call is recorded as it arrives, before the message it makes.
    assert lines.index(calls[-1]) < lines.index(messages[-1])
