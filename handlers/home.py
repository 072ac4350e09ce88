"""App Home: each feature contributes its card for the person looking."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.app import Deps
from handlers import caseload, desks, visits, worries
from handlers.common import NOT_ON_STAFF, Blocks, asker, context_line, divider, section, workspace_of

log = logging.getLogger("practice_bot.home")


async def home_view(deps: Deps, workspace_id: str, slack_user_id: str) -> dict[str, Any]:
    me = await asker(deps, workspace_id, slack_user_id)
    if me is None:
        blocks: Blocks = [section(NOT_ON_STAFF)]
    else:
        blocks = [section(f"Hello {me.name.split()[0]} :wave:  ({me.team.name})")]
        blocks += await caseload.home_blocks(deps, workspace_id, me)
        visit_card = await visits.home_blocks(deps, workspace_id, me)
        if visit_card:
            blocks += [divider(), *visit_card]
        desk_card = await desks.home_blocks(deps, workspace_id, me)
        if desk_card:
            blocks += [divider(), *desk_card]
        blocks += [divider(), *await worries.home_blocks(deps, workspace_id, me)]
        blocks.append(divider())
        blocks.append(
            context_line(
                "I answer `/caseload`, `/visits`, `/visit`, `/desk`, `/whosin` and `/worried` anywhere; "
                "add `help` to any of them to see what they do."
            )
        )
    return {"type": "home", "blocks": blocks[:100]}


def register(app: AsyncApp, deps: Deps) -> None:
    @app.event("app_home_opened")
    async def app_home_opened(event: dict[str, Any], client: Any, context: Any) -> None:
        if event.get("tab", "home") != "home":
            return
        view = await home_view(deps, workspace_of(context, deps), event["user"])
        await client.views_publish(user_id=event["user"], view=view)
