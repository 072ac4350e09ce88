"""Putting the parts together: deps, the Bolt app, and the local workspace or Slack."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select

from bot.app import LOCAL_SIGNING_SECRET, Deps, create_app, dispatch, oauth_settings, web_client
from bot.clock import Clock
from bot.policy import load_policy
from bot.settings import Settings
from bot.workspace import LocalWorkspace
from storage.db import Database
from storage.org import Staff, Team

log = logging.getLogger("practice_bot")


def build_deps(settings: Settings, clock: Clock, db: Database | None = None, workspace_id: str = "T0LOCAL") -> Deps:
    return Deps(
        settings=settings,
        db=db or Database(settings.database_url, settings.db_pool_size),
        clock=clock,
        policy=load_policy(settings.policy_file),
        workspace_id=workspace_id,
    )


@dataclass
class Local:
    """The bot wired to the local workspace, in one process."""

    workspace: LocalWorkspace
    app: AsyncApp
    deps: Deps

    async def sync_directory(self) -> None:
        await sync_directory(self.deps, self.workspace)

    async def stop(self) -> None:
        await self.workspace.stop()


async def sync_directory(deps: Deps, workspace: LocalWorkspace) -> None:
    """Give the local workspace a user for each staff member and a channel for each team."""
    async with deps.db.transaction() as session:
        teams = list(await session.scalars(select(Team).where(Team.workspace_id == workspace.team_id)))
        staff = list(await session.scalars(select(Staff).where(Staff.workspace_id == workspace.team_id)))
        for member in staff:
            title = f"{member.role.replace('_', ' ')}, {member.team.name}"
            workspace.add_user(member.slack_user_id, member.user_id, member.name, title, member.email)
        for team in teams:
            if team.channel_id is None:
                # Only the local workspace invents channels; a real install names them.
                team.channel_id = f"C{team.id:05d}"
            members = {m.slack_user_id for m in staff if m.team_id == team.id} | {workspace.bot_user_id}
            name = "".join(c if c.isalnum() else "-" for c in team.name.lower())
            workspace.add_channel(team.channel_id, name, members)


LOCAL_CLIENT_ID = "0000.local"
LOCAL_CLIENT_SECRET = "local-client-secret"


async def start_local(
    deps: Deps,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    web_app: web.Application | None = None,
    oauth: bool = False,
) -> Local:
    """The bot on the local workspace; with `oauth`, installable into many workspaces."""
    workspace = LocalWorkspace(
        LOCAL_SIGNING_SECRET,
        team_id=deps.workspace_id,
        log_path=deps.settings.local_log,
        post_delay=deps.settings.local_post_delay_ms / 1000,
        keep_messages=deps.settings.local_keep_messages or None,
        keep_per_channel=deps.settings.local_keep_per_channel or None,
    )
    base_url = await workspace.start(host, port, web_app)
    client = web_client(workspace.bot_token, base_url + "/api/")
    deps.client = client
    settings = None
    if oauth:
        workspace.client_secrets[LOCAL_CLIENT_ID] = LOCAL_CLIENT_SECRET
        settings = oauth_settings(deps, LOCAL_CLIENT_ID, LOCAL_CLIENT_SECRET)
        client = AsyncWebClient(base_url=base_url + "/api/")
    app = create_app(deps, client=client, signing_secret=LOCAL_SIGNING_SECRET, oauth=settings)

    async def deliver(body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        return await dispatch(app, body, headers)

    workspace.deliver = deliver
    local = Local(workspace, app, deps)
    await local.sync_directory()
    return local
