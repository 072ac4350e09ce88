"""`practice-bot run`: serve the local workspace, or Slack over HTTP or Socket Mode."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from collections.abc import Callable
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.exc import SQLAlchemyError

from bot import heap
from bot.app import Deps, create_app, dispatch_request, oauth_settings, web_client
from bot.clock import Clock
from bot.runtime import build_deps, start_local
from bot.settings import Settings
from storage.db import schema_is_current, upgrade

log = logging.getLogger("practice_bot")


def health_routes(web_app: web.Application, deps: Deps) -> None:
    async def healthz(request: web.Request) -> web.StreamResponse:
        return web.json_response({"ok": True})

    async def readyz(request: web.Request) -> web.StreamResponse:
        try:
            current, revision, head = await schema_is_current(deps.db)
        except Exception as e:  # noqa: BLE001 - any database failure means not ready
            return web.json_response({"ok": False, "error": type(e).__name__}, status=503)
        status = 200 if current else 503
        return web.json_response({"ok": current, "schema": revision, "expected": head}, status=status)

    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/readyz", readyz)


def bolt_route(web_app: web.Application, app: Callable[[], AsyncApp]) -> None:
    """Slack's endpoint; `app` is looked up per request, as routes freeze before the app exists."""

    async def events(request: web.Request) -> web.StreamResponse:
        bolt_request = await to_bolt_request(request)
        return await to_aiohttp_response(await dispatch_request(app(), bolt_request))

    async def oauth(request: web.Request) -> web.StreamResponse:
        flow = app().oauth_flow
        if flow is None:
            return web.Response(status=404, text="This bot is not set up for installing (no SLACK_CLIENT_ID).")
        bolt_request = await to_bolt_request(request)
        if request.path == flow.install_path:
            return await to_aiohttp_response(await flow.handle_installation(bolt_request))
        return await to_aiohttp_response(await flow.handle_callback(bolt_request))

    web_app.router.add_post("/slack/events", events)
    web_app.router.add_get("/slack/install", oauth)
    web_app.router.add_get("/slack/oauth_redirect", oauth)


def _stop_on_signals() -> asyncio.Event:
    """An event set by SIGINT or SIGTERM, heard from the first moment of start-up.

    A deploy stops replicas with SIGTERM whenever it likes, the morning catch-up
    included; without a handler the process would die at once, like kill -9.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def serve(settings: Settings, clock: Clock, *, demo: bool = True, port: int | None = None) -> int:
    from schedules import build_scheduler

    port = port or settings.port
    stop = _stop_on_signals()
    # Before any thread starts (each database connection is one): see bot/heap.py.
    heap.limit_arenas()
    deps = build_deps(settings, clock)
    if deps.db.is_sqlite:
        await upgrade(deps.db)
    current, revision, head = await schema_is_current(deps.db)
    if not current:
        print(
            f"The database schema is at {revision or 'nothing'} but this version needs {head}. "
            "Run `practice-bot db upgrade` first."
        )
        return 2
    web_app = web.Application()
    health_routes(web_app, deps)
    runner: web.AppRunner | None = None
    socket_handler: Any = None
    local = None
    if settings.uses_slack:
        secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
        if settings.uses_oauth:
            assert settings.slack_client_id is not None and settings.slack_client_secret is not None
            client = AsyncWebClient()
            oauth = oauth_settings(deps, settings.slack_client_id, settings.slack_client_secret.get_secret_value())
        else:
            assert settings.slack_bot_token is not None
            client = web_client(settings.slack_bot_token.get_secret_value(), post_rate=settings.slack_post_rate)
            oauth = None
        deps.client = client
        app = create_app(deps, client=client, signing_secret=secret, oauth=oauth)
        if settings.slack_app_token is not None:
            from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

            socket_handler = AsyncSocketModeHandler(app, settings.slack_app_token.get_secret_value())
            await socket_handler.connect_async()
            print("Practice Bot is connected to Slack over Socket Mode.")
        bolt_route(web_app, lambda: app)
        runner = web.AppRunner(web_app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, settings.host, port).start()
        print(f"Practice Bot is serving Slack at http://{settings.host}:{port}/slack/events")
    else:
        if demo:
            await _seed_demo(deps)
        apps: list[AsyncApp] = []
        bolt_route(web_app, lambda: apps[0])
        local = await start_local(deps, host=settings.host, port=port, web_app=web_app)
        apps.append(local.app)
    await _sync_desks(deps)
    scheduler = build_scheduler(deps)
    scheduler.start()
    banner = None
    if local is not None:
        # Said last, so it is the line a newcomer sees after the start-up logs.
        banner = (
            f"\nPractice Bot is running on the local workspace: {local.workspace.base_url}/\n"
            "Open it, pick who you are (try Tom Hughes), and type /caseload. Ctrl-C stops it.\n"
        )
    catching_up = asyncio.create_task(_catch_up(deps, clock, banner))
    try:
        await stop.wait()
    finally:
        # Stopped mid catch-up: the send in Slack's hands lands and is recorded (the ledger
        # waits for it); the rest are left for the next start, or another replica.
        catching_up.cancel()
        await asyncio.gather(catching_up, return_exceptions=True)
        scheduler.shutdown(wait=False)
        if socket_handler is not None:
            await socket_handler.close_async()
        if local is not None:
            await local.stop()
        if runner is not None:
            await runner.cleanup()
        await deps.db.dispose()
    return 0


async def _sync_desks(deps: Deps) -> None:
    """Bring the desks in line with the office layout, which may have changed since the last start.

    Bookings on removed desks are moved or waitlisted, and their owners told. Replicas
    starting together on a new database race to load the same layout: the loser's
    insert fails on the unique desk codes, and its second look finds the layout in.
    """
    from bot.desks import LayoutError, load_layout
    from handlers.desks import sync_layout_and_tell

    try:
        layout = load_layout(deps.policy.desks.layout_file)
    except LayoutError as e:
        print(f"Desk booking is unavailable until the layout is fixed:\n{e}")
        return
    for attempt in (1, 2):
        try:
            report = await sync_layout_and_tell(deps, deps.workspace_id, layout)
        except SQLAlchemyError:
            if attempt == 2:
                log.exception("desk layout not synced; desks load it on first use")
                return
            continue
        log.info("desk layout: %s", report.summary())
        return


async def _catch_up(deps: Deps, clock: Clock, banner: str | None) -> None:
    """Anything due while the bot was down; the ledger stops repeats."""
    from schedules import tick

    try:
        for send in await tick(deps, clock.now()):
            log.info("catch-up send: %s", send)
        log.info("catch-up finished")
    except Exception:
        # One failing job must never take a replica down; the scheduler tries again.
        log.exception("catch-up failed; the scheduler will try again")
    if banner is not None:
        print(banner, flush=True)
    # Start-up is over: its heap can be set aside.
    settle_heap()


def settle_heap() -> None:
    """Take what start-up made out of the garbage collector's way (gc.freeze).

    Libraries, caches and a large authority's directory are a big heap that lives as long
    as the process. Left in the collector's oldest generation, every full collection walks
    all of it: a pause of about 100 ms on the event loop, landing in the middle of a burst
    of requests. Frozen, they are skipped; what requests make is collected as usual.
    What the catch-up freed goes back to the operating system (bot/heap.py).
    """
    gc.collect()
    heap.trim()
    gc.freeze()


async def _seed_demo(deps: Deps) -> None:
    from bot.demo import is_empty, seed

    async with deps.db.transaction() as session:
        if await is_empty(session, deps.workspace_id):
            staff, children = await seed(session, deps.workspace_id, deps.clock.now().date())
            print(f"Seeded the demo authority: {staff} staff, {children} children (case references only).")
