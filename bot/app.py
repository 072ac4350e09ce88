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

from aiohttp import ClientOSError, ServerConnectionError, ServerDisconnectedError
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.exc import SQLAlchemyError

from bot import ackfirst
from bot.calendar import WorkingCalendar
from bot.clock import Clock
from bot.logs import route_of, user_of
from bot.policy import Policy
from bot.settings import Settings
from storage.db import Database

log = logging.getLogger("practice_bot")

LOCAL_SIGNING_SECRET = "local-workspace-signing-secret"
UNAVAILABLE = (
    "I can't reach my records right now, so I couldn't do that. Nothing was lost: please try again in a minute."
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
                self.clients[workspace_id] = web_client(bot.bot_token, base_url, self.settings.slack_post_rate)


class _LoggedRetry(AsyncRetryHandler):
    """Says in the log that a Slack call failed and is being tried again (slack_sdk only does at DEBUG)."""

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        log.warning(
            "slack call retried",
            extra={
                "slack_method": request.url.rsplit("/", 1)[-1],
                "attempt": state.current_attempt + 1,
                "reason": str(response.status_code) if response is not None else type(error).__name__,
            },
        )
        await super().prepare_for_next_attempt_async(state=state, request=request, response=response, error=error)


class RateLimitRetry(_LoggedRetry, AsyncRateLimitErrorRetryHandler):
    pass


class ServerErrorRetry(_LoggedRetry, AsyncServerErrorRetryHandler):
    """500 and 503, as slack_sdk retries, and the gateway errors an outage also brings."""

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is not None and response.status_code in (500, 502, 503, 504)


class ConnectionRetry(_LoggedRetry, AsyncConnectionErrorRetryHandler):
    """Connection failures, and a call that timed out: Slack down rather than Slack saying no.

    A timed-out chat.postMessage that Slack did complete would be posted twice; Slack offers
    no idempotency key, and during an outage a timeout almost always means nothing happened,
    so a possible repeat is preferred to a lost reminder.
    """

    def __init__(self, max_retry_count: int) -> None:
        super().__init__(
            max_retry_count,
            error_types=[ServerConnectionError, ServerDisconnectedError, ClientOSError, TimeoutError],
        )


def web_client(token: str, base_url: str | None = None, post_rate: float | None = None) -> AsyncWebClient:
    """A Slack client that retries outages, timeouts and rate limits with backoff, and logs each retry.

    With `post_rate`, chat.postMessage calls are spaced at that many a second (bot/pacing.py).
    """
    kwargs: dict[str, Any] = {"token": token}
    if base_url:
        kwargs["base_url"] = base_url
    client: AsyncWebClient
    if post_rate:
        from bot.pacing import PacedWebClient, Pacer

        client = PacedWebClient(pacer=Pacer({"chat.postMessage": post_rate}), **kwargs)
    else:
        client = AsyncWebClient(**kwargs)
    # Replaces slack_sdk's default (one connection retry, unlogged): an outage deserves more.
    client.retry_handlers = [
        RateLimitRetry(max_retry_count=5),
        ServerErrorRetry(max_retry_count=4),
        ConnectionRetry(max_retry_count=4),
    ]
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


def _drop_nul(value: Any) -> Any:
    """`value` with every NUL character removed from its strings (dicts and lists in place)."""
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, dict):
        for key, item in value.items():
            value[key] = _drop_nul(item)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            value[i] = _drop_nul(item)
    return value


class _ForgetRejected(AsyncAck):
    """A modal's ack that forgets the submission when it is sent back with problems.

    A rejected submission did nothing, so the same form sent again (the person
    pressed Submit without changing anything) must be checked again and get its
    problems shown again, not be taken for a duplicate and answered with the
    empty reply that closes the modal.
    """

    def __init__(self, deps: Deps, team: str, key: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._deps, self._team, self._key = deps, team, key

    async def __call__(self, *args: Any, **kwargs: Any) -> BoltResponse:
        response = await super().__call__(*args, **kwargs)
        if kwargs.get("response_action") == "errors":
            from storage.events import forget

            try:
                async with self._deps.db.transaction() as session:
                    await forget(session, self._team, self._key)
            except (SQLAlchemyError, OSError):
                log.warning("a rejected submission could not be forgotten", extra={"route": "view_submission"})
        return response


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
    async def drop_nul(body: dict[str, Any], next: Callable[[], Awaitable[Any]]) -> Any:
        # PostgreSQL text can't hold NUL (0x00): a query with one fails, and the person would be
        # told the records are unreachable. No one means to type it; drop it before anything reads.
        _drop_nul(body)
        return await next()

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
            if body.get("type") == "view_submission":
                context["ack"] = _ForgetRejected(deps, team, key)
        return await next()

    # Acks before follow-up work (bot/ackfirst.py); dispatch_request does the counting.
    ackfirst.GATES[app] = ackfirst.AckGate()

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
    gate = ackfirst.GATES.get(app)
    token = gate.arrive() if gate is not None else None
    if gate is not None and token is not None:
        # Bolt makes the ack lazily, so this one is used unless a middleware swaps its own in.
        request.context["ack"] = ackfirst.AckThenYield(AsyncAck(), gate, token)  # type: ignore[no-untyped-call]
    try:
        response = await app.async_dispatch(request)
    finally:
        if gate is not None and token is not None:
            gate.acked(token)  # a request that ended without an ack stops holding others back
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
