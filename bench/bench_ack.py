"""Ack latency: signed request to HTTP response, 50 at once, against an empty Bolt app.

Three processes besides this one (the load generator): the local workspace
(Slack's stand-in, which takes the bot's replies to response_url), our bot,
and the floor: a Bolt app whose listeners only ack. Both apps are served by
aiohttp through the same route as `practice-bot run` (`bot.server.bolt_route`),
start up the same way, and are sent the same signed slash commands from
workers across the large authority.

The target rows are bursts: 50 requests at the same moment (fifty people
pressing Enter together), 30 times, floor and ours alternating so drift on a
shared machine hits both; after each of ours, the bot's 50 replies are waited
for and counted. A sustained row is also printed, untargeted: 50 always in
flight, as fast as each server answers. That one is bound by throughput: an
empty app does nothing after its ack, so the ratio there says how much work a
request is for us, not how long Slack waits.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlencode

import aiohttp
from sqlalchemy import select

from bench.authority import LARGE, NOW, Backend
from bench.common import Process, Result, get_json, percentile
from bot.app import LOCAL_SIGNING_SECRET
from bot.workspace import signed_headers
from storage.db import Database
from storage.org import Staff

CONCURRENCY = 50
BURSTS = 40
SUSTAINED = 1000
USERS = 400


def command_body(user: str, command: str, text: str, response_url: str) -> bytes:
    return urlencode(
        {
            "token": "x",
            "team_id": LARGE,
            "team_domain": "local",
            "channel_id": "D" + user.removeprefix("U"),
            "channel_name": "directmessage",
            "user_id": user,
            "user_name": user.lower(),
            "command": command,
            "text": text,
            "api_app_id": "A0LOCAL",
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": "1.2.3",
        }
    ).encode()


async def hammer(url: str, bodies: list[bytes]) -> list[float]:
    """Send every body, CONCURRENCY at a time; the latency of each, in ms."""
    latencies: list[float] = []
    queue = list(reversed(bodies))
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONCURRENCY)) as http:

        async def worker() -> None:
            while queue:
                body = queue.pop()
                headers = signed_headers(LOCAL_SIGNING_SECRET, body, "application/x-www-form-urlencoded")
                started = time.perf_counter()
                async with http.post(url, data=body, headers=headers) as response:
                    await response.read()
                    assert response.status == 200, response.status
                latencies.append((time.perf_counter() - started) * 1000)

        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return latencies


async def _users(url: str) -> list[str]:
    """Social workers spread across every team (each holds a caseload, so each has an answer)."""
    db = Database(url)
    try:
        async with db.session() as session:
            ids = list(
                await session.scalars(
                    select(Staff.slack_user_id)
                    .where(Staff.workspace_id == LARGE, Staff.role == "social_worker")
                    .order_by(Staff.id)
                )
            )
    finally:
        await db.dispose()
    step = max(1, len(ids) // USERS)
    return ids[::step][:USERS]


async def _replies_in(workspace: Process, expected: int, within: float = 300.0, poll: float = 0.2) -> int:
    """Wait until the workspace holds `expected` replies from the bot; how many it holds."""
    deadline = time.monotonic() + within
    count = 0
    while time.monotonic() < deadline:
        count = int((await get_json(workspace.url + "/_bench/count"))["messages"])
        if count >= expected:
            return count
        await asyncio.sleep(poll)
    return count


async def burst(http: aiohttp.ClientSession, url: str, bodies: list[bytes]) -> list[float]:
    """Every body at once (50 people pressing Enter together); the latency of each, in ms."""

    async def one(body: bytes) -> float:
        headers = signed_headers(LOCAL_SIGNING_SECRET, body, "application/x-www-form-urlencoded")
        started = time.perf_counter()
        async with http.post(url, data=body, headers=headers) as response:
            await response.read()
            assert response.status == 200, response.status
        return (time.perf_counter() - started) * 1000

    return list(await asyncio.gather(*(one(b) for b in bodies)))


@contextmanager
def collector_paused() -> Iterator[None]:
    """No garbage collection in this process (the load generator) while a burst is timed.

    This process built the large authority, so its heap is big, and a full collection
    here stops it for up to ~90 ms: a pause that lands in one burst, ours or the floor's
    at random, and is counted as that server's latency. Collected between bursts instead.
    """
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect()


async def measure(backend: Backend) -> tuple[list[Result], list[str]]:
    workspace = await Process.start("workspace", "--db", backend.url, "--workspace", LARGE)
    bot = await Process.start("bot", "--db", backend.url, "--api", workspace.url, "--workspace", LARGE, "--now", NOW)
    floor = await Process.start("floor", "--api", workspace.url)
    users = await _users(backend.url)
    results: list[Result] = []
    problems: list[str] = []
    try:
        urls = await get_json(workspace.url + "/_bench/response_urls?users=" + ",".join(users))
        replies = 0
        connector = aiohttp.TCPConnector(limit=CONCURRENCY)
        async with aiohttp.ClientSession(connector=connector) as http:
            for command in ("/caseload", "/visits"):
                bodies = [command_body(u, command, "", urls[u]) for u in users]
                # Warm both: connections, auth.test, the database's caches.
                for _ in range(3):
                    await burst(http, floor.url, bodies[:CONCURRENCY])
                    await burst(http, bot.url, bodies[:CONCURRENCY])
                    replies += CONCURRENCY
                await _replies_in(workspace, replies)
                floor_ms: list[float] = []
                ours_ms: list[float] = []
                settle_ms: list[float] = []
                for b in range(BURSTS):
                    group = [bodies[(b * CONCURRENCY + i) % len(bodies)] for i in range(CONCURRENCY)]
                    with collector_paused():
                        floor_ms += await burst(http, floor.url, group)
                    started = time.perf_counter()
                    with collector_paused():
                        ours_ms += await burst(http, bot.url, group)
                    replies += CONCURRENCY
                    got = await _replies_in(workspace, replies, poll=0.005)
                    settle_ms.append((time.perf_counter() - started) * 1000)
                    if got < replies:
                        problems.append(f"ack {command}: {replies - got} replies never arrived")
                        replies = got
                note = (
                    f"{BURSTS} bursts of {CONCURRENCY} at once; all {CONCURRENCY} replies in "
                    f"{percentile(settle_ms, 50):.0f} ms (median burst), {percentile(settle_ms, 99):.0f} ms (p99)"
                )
                results += [
                    Result(f"ack {command} p50", percentile(ours_ms, 50), percentile(floor_ms, 50), "ms", None, note),
                    Result(f"ack {command} p99", percentile(ours_ms, 99), percentile(floor_ms, 99), "ms", 1.3, note),
                ]
                # Sustained: 50 always in flight, as fast as each server answers. Throughput-bound:
                # the ratio is how much more work a request is for us than for an empty app.
                stream = [bodies[i % len(bodies)] for i in range(SUSTAINED)]
                floor_sustained = await hammer(floor.url, stream)
                ours_sustained = await hammer(bot.url, stream)
                replies += SUSTAINED
                await _replies_in(workspace, replies)
                results.append(
                    Result(
                        f"ack {command} p99, sustained",
                        percentile(ours_sustained, 99),
                        percentile(floor_sustained, 99),
                        "ms",
                        None,
                        f"{SUSTAINED} requests, {CONCURRENCY} always in flight: throughput-bound, untargeted",
                    )
                )
    finally:
        for process in (floor, bot, workspace):
            await process.stop()
    return results, problems
