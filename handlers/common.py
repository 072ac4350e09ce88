"""Small pieces every feature's listeners share: who is asking, dates, replies."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.app import Deps
from storage.org import Staff, staff_by_slack_id

Blocks = list[dict[str, Any]]

NOT_ON_STAFF = (
    "I don't know you yet: you're not on this authority's staff list. "
    "Ask your team's admin to add you (they use `practice-bot import staff`), then try again."
)


def workspace_of(context: Any, deps: Deps) -> str:
    return str(context.get("team_id") or deps.workspace_id)


async def asker(deps: Deps, workspace_id: str, slack_user_id: str) -> Staff | None:
    async with deps.db.session() as session:
        return await staff_by_slack_id(session, workspace_id, slack_user_id)


def day(d: date) -> str:
    """'Tue 5 Jan 2027': unambiguous for British readers."""
    return f"{d:%a} {d.day} {d:%b %Y}"


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}


def context_line(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:3000]}]}


def fields(*pairs: tuple[str, str]) -> dict[str, Any]:
    return {
        "type": "section",
        "fields": [{"type": "mrkdwn", "text": f"*{k}*\n{v}"[:2000]} for k, v in pairs][:10],
    }


def header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": text[:150]}}


def divider() -> dict[str, Any]:
    return {"type": "divider"}


def button(text: str, action_id: str, value: str = "", style: str | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": text[:75]},
        "action_id": action_id,
        "value": value,
    }
    if style:
        element["style"] = style
    return element


def help_blocks(message: str, usage: str) -> Blocks:
    return [section(message), section(usage)]


Answer = Callable[[Deps, str, str, str], Awaitable[tuple[str, Blocks]]]


def ephemeral_command(app: AsyncApp, deps: Deps, name: str, answer: Answer) -> None:
    """Register `name` as a command whose reply, from `answer`, only the asker sees.

    The ack goes first and the answer after it, so Slack never waits on the database.
    """

    async def listener(ack: Any, command: dict[str, Any], respond: Any, context: Any) -> None:
        await ack()
        text, blocks = await answer(deps, workspace_of(context, deps), command["user_id"], command.get("text", ""))
        await respond(text=text, blocks=blocks, response_type="ephemeral")

    listener.__name__ = f"{name.strip('/')}_command"
    app.command(name)(listener)
