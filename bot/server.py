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


async def _wait_for_stop() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    # Once a stop signal would be heard: start-up is over, its heap can be set aside.
    settle_heap()
    await stop.wait()


async def serve(settings: Settings, clock: Clock, *, demo: bool = True, port: int | None = None) -> int:
    from schedules import build_scheduler, tick

    port = port or settings.port
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
    # The office layout may have changed since the last start: bring the desks in line
    # (bookings on removed desks are moved or waitlisted, and their owners told).
    from bot.desks import LayoutError, load_layout
    from handlers.desks import sync_layout_and_tell

    try:
        layout = load_layout(deps.policy.desks.layout_file)
        report = await sync_layout_and_tell(deps, deps.workspace_id, layout)
        log.info("desk layout: %s", report.summary())
    except LayoutError as e:
        print(f"Desk booking is unavailable until the layout is fixed:\n{e}")
    scheduler = build_scheduler(deps)
    scheduler.start()
    # Catch up on anything due while the bot was down; the ledger stops repeats.
    try:
        for send in await tick(deps, clock.now()):
            log.info("catch-up send: %s", send)
        log.info("catch-up finished")
    except Exception:
        # One failing job must never take a replica down; the scheduler tries again.
        log.exception("catch-up failed; the scheduler will try again")
    if local is not None:
        # Said last, so it is the line a newcomer sees after the start-up logs.
        print(
            f"\nPractice Bot is running on the local workspace: {local.workspace.base_url}/\n"
            "Open it, pick who you are (try Tom Hughes), and type /caseload. Ctrl-C stops it.\n",
            flush=True,
        )
    try:
        await _wait_for_stop()
    finally:
        scheduler.shutdown(wait=False)
        if socket_handler is not None:
            await socket_handler.close_async()
        if local is not None:
            await local.stop()
        if runner is not None:
            await runner.cleanup()
        await deps.db.dispose()
    return 0


def settle_heap() -> None:
    """Take what start-up made out of the garbage collector's way (gc.freeze).

    Libraries, caches and a large authority's directory are a big heap that lives as long
    as the process. Left in the collector's oldest generation, every full collection walks
    all of it: a pause of about 100 ms on the event loop, landing in the middle of a burst
    of requests. Frozen, they are skipped; what requests make is collected as usual.
    """
    gc.collect()
    gc.freeze()


async def _seed_demo(deps: Deps) -> None:
    from bot.demo import is_empty, seed

    async with deps.db.transaction() as session:
        if await is_empty(session, deps.workspace_id):
            staff, children = await seed(session, deps.workspace_id, deps.clock.now().date())
            print(f"Seeded the demo authority: {staff} staff, {children} children (case references only).")
