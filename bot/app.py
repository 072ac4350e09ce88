"""The Bolt `AsyncApp` factory and the dependencies every listener and job shares."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.exc import SQLAlchemyError

from bot.calendar import WorkingCalendar
from bot.clock import Clock
from bot.logs import route_of, user_of
from bot.policy import Policy
from bot.settings import Settings
from storage.db import Database

log = logging.getLogger("practice_bot")

LOCAL_SIGNING_SECRET = "local-workspace-signing-secret"
UNAVAILABLE = (
    "I can't reach my records right now, so I couldn't do that. "
    "Nothing was lost: please try again in a minute."
)


@dataclass
class Deps:
    """What listeners and jobs need, built once per process and passed in."""

    settings: Settings
    db: Database
    clock: Clock
    policy: Policy
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)
    # The client scheduled jobs send with (single-workspace installs and the local workspace).
    client: AsyncWebClient | None = None
    workspace_id: str = "T0LOCAL"
    # Installed workspaces (OAuth): each sends with its own bot token.
    installations: AsyncInstallationStore | None = None
    clients: dict[str, AsyncWebClient] = field(default_factory=dict)

    def client_for(self, workspace_id: str) -> AsyncWebClient:
        if workspace_id in self.clients:
            return self.clients[workspace_id]
        if self.client is None:
            raise RuntimeError("no Slack client configured")
        return self.client

    async def load_clients(self, workspace_ids: list[str]) -> None:
        """Look up each installed workspace's bot token before a job sends to it."""
        if self.installations is None:
            return
        base_url = self.client.base_url if self.client is not None else None
        for workspace_id in workspace_ids:
            if workspace_id in self.clients:
                continue
            bot = await self.installations.async_find_bot(enterprise_id=None, team_id=workspace_id)
            if bot is not None and bot.bot_token:
                self.clients[workspace_id] = web_client(bot.bot_token, base_url)


def web_client(token: str, base_url: str | None = None) -> AsyncWebClient:
    """A Slack client that retries outages and rate limits with backoff instead of dropping."""
    kwargs: dict[str, Any] = {"token": token}
    if base_url:
        kwargs["base_url"] = base_url
    client = AsyncWebClient(**kwargs)
    client.retry_handlers.extend(
        [
            AsyncRateLimitErrorRetryHandler(max_retry_count=5),
            AsyncServerErrorRetryHandler(max_retry_count=4),
        ]
    )
    # The default connection handler retries once; an outage deserves more.
    client.retry_handlers = [
        h for h in client.retry_handlers if not isinstance(h, AsyncConnectionErrorRetryHandler)
    ] + [AsyncConnectionErrorRetryHandler(max_retry_count=4)]
    return client


def _delivery_key(body: dict[str, Any]) -> str | None:
    """What makes a delivery from Slack a repeat of one already handled."""
    if body.get("type") == "event_callback" and body.get("event_id"):
        return "event:" + str(body["event_id"])
    if body.get("type") == "view_submission":
        view = body.get("view") or {}
        # A double-click submits the same view twice: same id, same hash.
        state = json.dumps(view.get("state", {}), sort_keys=True)
        digest = hashlib.sha256(f"{view.get('id')}|{view.get('hash')}|{state}".encode()).hexdigest()
        return "view:" + digest[:40]
    return None


SCOPES = ("chat:write", "commands", "im:history", "im:write", "mpim:write", "users:read")


def oauth_settings(deps: Deps, client_id: str, client_secret: str) -> AsyncOAuthSettings:
    """Install into many workspaces, with slack-sdk's stores in our own database."""
    from storage.oauth import installation_store, state_store

    store = installation_store(client_id, deps.db.engine)
    deps.installations = store
    return AsyncOAuthSettings(
        client_id=client_id,
        client_secret=client_secret,
        scopes=list(SCOPES),
        installation_store=store,
        state_store=state_store(deps.db.engine),
        install_path="/slack/install",
        redirect_uri_path="/slack/oauth_redirect",
    )


def create_app(
    deps: Deps,
    *,
    client: AsyncWebClient,
    signing_secret: str,
    register: Callable[[AsyncApp, Deps], None] | None = None,
    oauth: AsyncOAuthSettings | None = None,
) -> AsyncApp:
    app = AsyncApp(
        client=client,
        signing_secret=signing_secret,
        process_before_response=False,
        oauth_settings=oauth,
        # Our own middleware answers duplicate deliveries; Bolt's SSL check is for Slack's.
        ssl_check_enabled=False,
    )

    @app.middleware
    async def dedupe(body: dict[str, Any], context: Any, next: Callable[[], Awaitable[Any]]) -> Any:
        from storage.events import first_sighting

        key = _delivery_key(body)
        team = context.get("team_id") or deps.workspace_id
        if key is not None:
            try:
                async with deps.db.transaction() as session:
                    first = await first_sighting(session, team, key, deps.clock.now())
            except (SQLAlchemyError, OSError):
                # Without the database the listener will fail too, and say so politely.
                first = True
            if not first:
                log.info("duplicate delivery ignored", extra={"route": route_of(body)})
                return BoltResponse(status=200, body="")
        return await next()

    @app.error
    async def on_error(error: Exception, body: dict[str, Any], respond: Any, client: Any, ack: Any) -> None:
        # Bolt clears the ack after an error handler returns, and its request path polls for
        # the ack every 10 ms: a listener that fails fast after acking would lose its 200.
        acked = ack.response
        log.error("listener failed", extra={"route": route_of(body), "error": type(error).__name__})
        if isinstance(error, SQLAlchemyError | OSError):
            text = UNAVAILABLE
        else:
            text = "Sorry, something went wrong on my side. It has been logged; please try again."
        try:
            if body.get("response_url"):
                await respond(text=text, response_type="ephemeral", replace_original=False)
            elif user := user_of(body):
                await client.chat_postMessage(channel=user, text=text)
        except Exception:  # noqa: BLE001 - the apology itself must never raise
            log.warning("could not tell the user about a failure", extra={"route": route_of(body)})
        finally:
            if acked is not None:
                asyncio.get_running_loop().call_soon(setattr, ack, "response", acked)

    if register is None:
        from handlers import register_all

        register = register_all
    register(app, deps)
    return app


async def dispatch(app: AsyncApp, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    """Hand a signed request to Bolt exactly as its HTTP adapters do, and log one line."""
    response = await dispatch_request(
        app, AsyncBoltRequest(body=body.decode(), headers={k: [v] for k, v in headers.items()})
    )
    return response.status, response.body.encode() if isinstance(response.body, str) else response.body


async def dispatch_request(app: AsyncApp, request: AsyncBoltRequest) -> BoltResponse:
    # One line per request: where it went and how it ended, never what was typed.
    started = time.perf_counter()
    response = await app.async_dispatch(request)
    body = request.body if isinstance(request.body, dict) else {}
    log.info(
        "request",
        extra={
            "route": route_of(body),
            "user": user_of(body),
            "team": request.context.team_id,
            "latency_ms": round((time.perf_counter() - started) * 1000, 1),
            "outcome": response.status,
        },
    )
    return response
