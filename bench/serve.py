"""The processes a benchmark talks to, each started with `python -m bench.serve ROLE`.

Real Slack is another machine, so in the benchmarks the bot, the Slack
stand-in (the local workspace) and the load generator are separate
processes: the stand-in's own work (storing every reply, answering the Web
API) is not charged to the bot.

- `workspace`: the local workspace, with the staff directory of a database
  (users and team channels) and optional Slack rate limits.
- `bot`: the real Bolt app served over HTTP the way `practice-bot run` serves
  Slack (`bolt_route`), its Web API client pointed at the workspace.
- `floor`: an empty Bolt app whose listeners only ack, served the same way.

Each prints one JSON line with its URL when ready and runs until SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
from collections import Counter
from typing import Any

from aiohttp import web


async def _until_stopped() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


def _ready(**info: Any) -> None:
    print(json.dumps(info), flush=True)


def _quiet_logs() -> None:
    """The JSON request log `practice-bot run` writes, to /dev/null: its cost stays in, its noise out."""
    from bot import logs

    logs.configure(logging.INFO, [], stream=open(os.devnull, "w"))  # noqa: SIM115 - lives as long as the process


async def serve_workspace(args: argparse.Namespace) -> None:
    from bot.app import LOCAL_SIGNING_SECRET
    from bot.clock import SystemClock
    from bot.runtime import build_deps, sync_directory
    from bot.settings import Settings
    from bot.workspace import LocalWorkspace

    # Every message and call kept: the benchmarks count them all.
    ws = LocalWorkspace(LOCAL_SIGNING_SECRET, team_id=args.workspace, keep_messages=None, keep_per_channel=None)
    ws.channel_interval = args.channel_interval
    for spec in args.rate:
        method, _, rate = spec.partition("=")
        ws.method_rates[method] = float(rate)
    settings = Settings(_env_file=None, database_url=args.db)  # type: ignore[call-arg]
    deps = build_deps(settings, SystemClock(), workspace_id=args.workspace)
    try:
        await sync_directory(deps, ws)
    finally:
        await deps.db.dispose()

    app = web.Application()

    async def response_urls(request: web.Request) -> web.StreamResponse:
        users = request.query.get("users", "").split(",")
        return web.json_response({u: ws._response_url(u, ws.im_channel(u)) for u in users if u})  # noqa: SLF001

    async def stats(request: web.Request) -> web.StreamResponse:
        per_channel = Counter(m.channel for m in ws.messages if m.user == ws.bot_user_id)
        statuses = Counter(f"{c.method} {c.status}" for c in ws.calls)
        return web.json_response(
            {
                "messages": sum(per_channel.values()),
                "channels": len(per_channel),
                "most_in_one_channel": max(per_channel.values(), default=0),
                "calls": dict(statuses),
                "first_post": min((c.at for c in ws.calls if c.method == "chat.postMessage"), default=None),
                "last_post": max((c.at for c in ws.calls if c.method == "chat.postMessage"), default=None),
            }
        )

    async def reset(request: web.Request) -> web.StreamResponse:
        ws.messages.clear()
        ws.calls.clear()
        ws._method_tokens.clear()  # noqa: SLF001 - a fresh bucket for the next run
        return web.json_response({"ok": True})

    app.router.add_get("/_bench/response_urls", response_urls)

    async def count(request: web.Request) -> web.StreamResponse:
        return web.json_response({"messages": len(ws.messages)})

    app.router.add_get("/_bench/stats", stats)
    app.router.add_get("/_bench/count", count)
    app.router.add_post("/_bench/reset", reset)
    url = await ws.start("127.0.0.1", 0, app)
    _ready(url=url)
    await _until_stopped()
    await ws.stop()


async def _serve_app(app_of: Any) -> web.AppRunner:
    from bot.server import bolt_route

    web_app = web.Application()
    bolt_route(web_app, app_of)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner


async def serve_bot(args: argparse.Namespace) -> None:
    from bot.app import LOCAL_SIGNING_SECRET, create_app, web_client
    from bot.clock import FixedClock, parse_now
    from bot.runtime import build_deps
    from bot.server import settle_heap
    from bot.settings import Settings

    _quiet_logs()
    settings = Settings(_env_file=None, database_url=args.db, db_pool_size=args.pool)  # type: ignore[call-arg]
    deps = build_deps(settings, FixedClock(parse_now(args.now)), workspace_id=args.workspace)
    if deps.db.is_sqlite:
        from storage.db import upgrade

        await upgrade(deps.db)  # as `practice-bot run` does on SQLite (and so its planner statistics)
    client = web_client("xoxb-local-workspace", args.api + "/api/")
    deps.client = client
    app = create_app(deps, client=client, signing_secret=LOCAL_SIGNING_SECRET)
    runner = await _serve_app(lambda: app)
    settle_heap()  # as `practice-bot run` does once it has started
    _ready(url=f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events", pid=os.getpid())
    await _until_stopped()
    await runner.cleanup()
    await deps.db.dispose()


def empty_app(api: str) -> Any:
    """A Bolt app with the same client and secret as ours, whose listeners only ack."""
    from slack_bolt.async_app import AsyncApp

    from bot.app import LOCAL_SIGNING_SECRET, web_client

    app = AsyncApp(
        client=web_client("xoxb-local-workspace", api + "/api/"),
        signing_secret=LOCAL_SIGNING_SECRET,
        process_before_response=False,
        ssl_check_enabled=False,
    )

    async def ack_only(ack: Any) -> None:
        await ack()

    for command in ("/caseload", "/visits"):
        app.command(command)(ack_only)
    return app


async def serve_floor(args: argparse.Namespace) -> None:
    from bot.server import settle_heap

    _quiet_logs()
    app = empty_app(args.api)
    runner = await _serve_app(lambda: app)
    settle_heap()  # served exactly as the bot is
    _ready(url=f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events", pid=os.getpid())
    await _until_stopped()
    await runner.cleanup()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.serve")
    sub = parser.add_subparsers(dest="role", required=True)
    w = sub.add_parser("workspace")
    w.add_argument("--db", required=True)
    w.add_argument("--workspace", default="T0LOCAL")
    w.add_argument("--channel-interval", type=float, default=0.0)
    w.add_argument("--rate", action="append", default=[], metavar="METHOD=PER_SECOND")
    b = sub.add_parser("bot")
    b.add_argument("--db", required=True)
    b.add_argument("--api", required=True)
    b.add_argument("--workspace", default="T0LOCAL")
    b.add_argument("--now", default="2026-11-23T09:00")
    b.add_argument("--pool", type=int, default=5)
    f = sub.add_parser("floor")
    f.add_argument("--api", required=True)
    args = parser.parse_args(argv)
    role = {"workspace": serve_workspace, "bot": serve_bot, "floor": serve_floor}[args.role]
    try:
        asyncio.run(role(args))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
