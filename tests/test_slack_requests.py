"""Requests as Slack sends them: signatures checked, retries and double-submits once."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

from sqlalchemy import func, select

from bot.app import LOCAL_SIGNING_SECRET, dispatch
from bot.workspace import signed_headers
from storage.audit import AuditEntry
from tests.support import Bot


def _command_body(user: str, text: str) -> bytes:
    return urlencode(
        {
            "command": "/caseload",
            "text": text,
            "user_id": user,
            "team_id": "T0LOCAL",
            "channel_id": "Dtom",
            "response_url": "http://127.0.0.1:9/x",
            "trigger_id": "1",
        }
    ).encode()


async def test_a_request_with_a_bad_signature_gets_401_and_does_nothing(bot: Bot) -> None:
    body = _command_body("tom", "team")
    headers = signed_headers("not-the-secret", body, "application/x-www-form-urlencoded")

    status, _ = await dispatch(bot.local.app, body, headers)

    assert status == 401


async def test_a_replayed_request_older_than_5_minutes_gets_401(bot: Bot) -> None:
    body = _command_body("tom", "team")
    headers = signed_headers(LOCAL_SIGNING_SECRET, body, "application/x-www-form-urlencoded", at=time.time() - 400)

    status, _ = await dispatch(bot.local.app, body, headers)

    assert status == 401


async def test_a_body_altered_after_signing_gets_401(bot: Bot) -> None:
    body = _command_body("tom", "")
    headers = signed_headers(LOCAL_SIGNING_SECRET, body, "application/x-www-form-urlencoded")

    status, _ = await dispatch(bot.local.app, _command_body("tom", "team"), headers)

    assert status == 401


async def test_missing_signature_headers_get_401(bot: Bot) -> None:
    status, _ = await dispatch(
        bot.local.app, _command_body("tom", ""), {"content-type": "application/x-www-form-urlencoded"}
    )
    assert status == 401


async def test_an_event_slack_retries_three_times_is_handled_once(bot: Bot) -> None:
    await bot.staff("tom,Tom Hughes,Ipswich CIN 2,social_worker,1.0,2026-06-10")
    im = bot.ws.im_channel("tom")
    event = {
        "type": "message",
        "channel": im,
        "user": "tom",
        "text": "caseload",
        "ts": "1.1",
        "event_ts": "1.1",
        "channel_type": "im",
    }

    for retry in (None, 1, 2):
        status, _ = await bot.ws.event(event, event_id="Ev0001", retry=retry)
        assert status == 200
    await bot.ws.settle()

    replies = [m for m in bot.ws.messages_in(im) if m.user == bot.ws.bot_user_id]
    assert len(replies) == 1


async def test_a_manager_viewing_a_team_is_audited(bot: Bot) -> None:
    await bot.staff("mgr,Grace Okafor,Ipswich CIN 2,manager,1.0,2016-09-01")

    await bot.ask("mgr", "/caseload team")

    async with bot.deps.db.session() as session:
        n = await session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "caseload.team")
        )
    assert n == 1


async def test_unhandled_requests_are_not_found_rather_than_silently_accepted(bot: Bot) -> None:
    body = json.dumps(
        {"type": "event_callback", "event_id": "Ev9", "team_id": "T0LOCAL", "event": {"type": "reaction_added"}}
    ).encode()
    status, _ = await dispatch(bot.local.app, body, signed_headers(LOCAL_SIGNING_SECRET, body, "application/json"))
    assert status == 404
