"""Ack latency: signed request to HTTP response, 50 at a time, against an empty Bolt app.

Both apps are served by aiohttp on loopback and sent the same signed slash
commands; the floor is a Bolt app whose listener only acks.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from slack_bolt.async_app import AsyncApp

from bench.common import Result, percentile
from bot.app import LOCAL_SIGNING_SECRET, web_client
from bot.runtime import Local, start_local
from bot.server import bolt_route
from bot.workspace import signed_headers

CONCURRENCY = 50
REQUESTS = 1000


async def serve(app_of: Callable[[], AsyncApp]) -> tuple[web.AppRunner, str]:
    web_app = web.Application()
    bolt_route(web_app, app_of)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}/slack/events"


def command_body(user: str, command: str, text: str, response_url: str) -> bytes:
    return urlencode(
        {
            "token": "x",
            "team_id": "T0LOCAL",
            "channel_id": "D" + user,
            "user_id": user,
            "command": command,
            "text": text,
            "response_url": response_url,
            "trigger_id": "1.2",
        }
    ).encode()


async def hammer(url: str, bodies: list[bytes]) -> list[float]:
    """Send every body, CONCURRENCY at a time; the latency of each, in ms."""
    latencies: list[float] = []
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONCURRENCY)) as http:

        async def worker() -> None:
            while not queue.empty():
                body = queue.get_nowait()
                headers = signed_headers(LOCAL_SIGNING_SECRET, body, "application/x-www-form-urlencoded")
                started = time.perf_counter()
                async with http.post(url, data=body, headers=headers) as response:
                    await response.read()
                    assert response.status == 200, response.status
                latencies.append((time.perf_counter() - started) * 1000)

        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return latencies


def empty_app(base_url: str) -> AsyncApp:
    app = AsyncApp(client=web_client("xoxb-local-workspace", base_url + "/api/"), signing_secret=LOCAL_SIGNING_SECRET)

    async def ack_only(ack: Any) -> None:
        await ack()

    for command in ("/caseload", "/visits"):
        app.command(command)(ack_only)
    return app


async def measure(local: Local, users: list[str], command: str, settle: Callable[[], Awaitable[None]]) -> list[Result]:
    ws = local.workspace
    response_url = ws._response_url(users[0], ws.im_channel(users[0]))  # noqa: SLF001 - a real URL to answer to
    bodies = [command_body(users[i % len(users)], command, "", response_url) for i in range(REQUESTS)]
    ours_runner, ours_url = await serve(lambda: local.app)
    floor_app = empty_app(ws.base_url)
    floor_runner, floor_url = await serve(lambda: floor_app)
    try:
        await hammer(floor_url, bodies[:100])  # warm both: auth.test, connection pools, caches
        await hammer(ours_url, bodies[:100])
        await settle()
        floor_ms = await hammer(floor_url, bodies)
        ours_ms = await hammer(ours_url, bodies)
        await settle()
    finally:
        await ours_runner.cleanup()
        await floor_runner.cleanup()
    return [
        Result(f"ack {command} p50", percentile(ours_ms, 50), percentile(floor_ms, 50), "ms", None),
        Result(f"ack {command} p99", percentile(ours_ms, 99), percentile(floor_ms, 99), "ms", 1.3),
    ]
