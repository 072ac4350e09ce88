"""Logs: one JSON line per request, and never a token, a secret or what people typed."""

from __future__ import annotations

import io
import json
import logging

from bot.logs import configure
from tests.support import Bot


async def test_each_request_logs_one_json_line_with_route_user_team_latency_and_outcome(bot: Bot) -> None:
    stream = io.StringIO()
    configure(logging.INFO, secrets=["shh-a-signing-secret"], stream=stream)
    try:
        await bot.staff("tom,Tom Hughes,Ipswich CIN 2,social_worker,1.0,2026-06-10")
        await bot.ask("tom", "/caseload my secret words xoxb-123-456-abcdef shh-a-signing-secret")
    finally:
        logging.getLogger().handlers.clear()

    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    requests = [line for line in lines if line["message"] == "request"]
    assert len(requests) == 1
    assert requests[0]["route"] == "command /caseload"
    assert requests[0]["user"] == "tom" and requests[0]["team"] == "T0LOCAL"
    assert requests[0]["outcome"] == 200 and requests[0]["latency_ms"] >= 0
    text = stream.getvalue()
    assert "secret words" not in text
    assert "xoxb-123" not in text and "shh-a-signing-secret" not in text


def test_a_token_that_reaches_a_log_message_is_scrubbed() -> None:
    stream = io.StringIO()
    configure(logging.INFO, secrets=["s3cret-signing-value"], stream=stream)
    try:
        logging.getLogger("practice_bot").warning("client failed with token xoxb-999-888-zzz and s3cret-signing-value")
    finally:
        logging.getLogger().handlers.clear()
    line = json.loads(stream.getvalue())
    assert line["message"] == "client failed with token xoxb-[redacted] and [redacted]"
