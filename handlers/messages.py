"""Direct messages to the bot: the same words as the slash commands, without the slash."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.app import Deps
from handlers import caseload, desks, visits, worries
from handlers.common import section, workspace_of

GREETING = (
    "Hello! I can help with:\n"
    "• `caseload`: your children against your cap (`caseload team` for your team)\n"
    "• `visits`: what's due soon or overdue (`visit CHILD_REF` records a visit)\n"
    "• `desk tomorrow`: book a desk (`desk mine` for your bookings, `whosin` for your team)\n"
    "• `worried`: raise a worry with a colleague in the office today (`worried list` for open ones)\n"
    "Type any of these here, or use the slash command (e.g. `/caseload`) anywhere."
)


def register(app: AsyncApp, deps: Deps) -> None:
    @app.event("message")
    async def direct_message(event: dict[str, Any], say: Any, context: Any) -> None:
        # Only people talking to the bot in its DM; edits, bots and channels are not for us.
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
            return
        words = (event.get("text") or "").strip()
        first, _, rest = words.partition(" ")
        workspace_id = workspace_of(context, deps)
        match first.lower().lstrip("/"):
            case "caseload":
                text, blocks = await caseload.answer(deps, workspace_id, event["user"], rest)
            case "visit":
                text, blocks = await visits.answer_visit(deps, workspace_id, event["user"], rest)
            case "visits":
                text, blocks = await visits.answer_visits(deps, workspace_id, event["user"], rest)
            case "desk" | "desks":
                text, blocks = await desks.answer(deps, workspace_id, event["user"], rest)
            case "whosin":
                text, blocks = await desks.answer_whosin(deps, workspace_id, event["user"], rest)
            case "worried" | "worry" | "worries":
                text, blocks = await worries.answer_dm(deps, workspace_id, event["user"], rest)
            case _:
                text, blocks = GREETING, [section(GREETING)]
        await say(text=text, blocks=blocks)
