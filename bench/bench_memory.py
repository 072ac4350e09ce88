"""Memory: resident memory of `practice-bot run` serving the large authority.

Starts the real command as a subprocess (the local workspace in-process, as
`make run` has it) on the large database, with a policy file pointing at the
large authority's office layout. It loads the staff directory, syncs the
layout, catches up on the morning's scheduled sends (reminders, alerts,
digests), then serves 2,000 slash commands (/caseload and /visits, 50 at a
time, in bursts) through the workspace's own page API. VmRSS is read from /proc.
The "floor" column holds the budget (150 MB), not a measurement.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import time
from pathlib import Path

import aiohttp
from sqlalchemy import select

from bench.authority import LARGE, NOW, Backend
from bench.common import Result, get_json, rss_mb
from storage.db import Database
from storage.org import Staff

BUDGET_MB = 150.0
REQUESTS = 2_000
CONCURRENCY = 50


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _command() -> list[str]:
    script = Path(sys.executable).with_name("practice-bot")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot.cli"]


def _logged(log: Path, words: str) -> bool:
    return log.exists() and words in log.read_text(errors="replace")


async def _wait_for(log: Path, words: str, proc: asyncio.subprocess.Process, within: float) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if await asyncio.to_thread(_logged, log, words):
            return
        if proc.returncode is not None:
            raise RuntimeError(f"practice-bot run exited with {proc.returncode}: see {log}")
        await asyncio.sleep(0.5)
    raise TimeoutError(f"practice-bot run did not log '{words}' within {within:.0f}s: see {log}")


async def _users(url: str) -> list[str]:
    db = Database(url)
    try:
        async with db.session() as session:
            return list(
                await session.scalars(
                    select(Staff.slack_user_id)
                    .where(Staff.workspace_id == LARGE, Staff.role == "social_worker")
                    .order_by(Staff.id)
                )
            )
    finally:
        await db.dispose()


async def _load(base: str, users: list[str]) -> int:
    """REQUESTS commands through the page API in bursts of CONCURRENCY, as the ack benchmark
    sends them, letting the bot finish each burst's replies; how many the bot took."""
    ok = 0
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONCURRENCY)) as http:

        async def one(i: int) -> None:
            nonlocal ok
            user, text = users[i * 7 % len(users)], "/caseload" if i % 2 else "/visits"
            async with http.post(base + "/_local/command", json={"user": user, "text": text}) as response:
                if (await response.json()).get("ok"):
                    ok += 1

        for start in range(0, REQUESTS, CONCURRENCY):
            await asyncio.gather(*(one(i) for i in range(start, min(REQUESTS, start + CONCURRENCY))))
            await _settled(base, quiet=0.15)
    return ok


async def _settled(base: str, quiet: float = 2.0, within: float = 300.0) -> None:
    """Until the workspace has seen nothing new for `quiet` seconds (the bot's replies are in)."""
    deadline = time.monotonic() + within
    last, since = None, time.monotonic()
    while time.monotonic() < deadline:
        version = (await get_json(base + "/_local/version"))["version"]
        if version != last:
            last, since = version, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return
        await asyncio.sleep(0.25)


async def measure(backend: Backend, folder: Path) -> tuple[list[Result], list[str]]:
    assert backend.layout_file is not None
    policy = folder / f"policy-{backend.name.lower()}.toml"
    policy.write_text(f'[desks]\nlayout_file = "{backend.layout_file}"\n')
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if "SLACK" not in k and not k.startswith("PRACTICE_BOT_")}
    env |= {
        "PRACTICE_BOT_DATABASE_URL": backend.url,
        "PRACTICE_BOT_POLICY_FILE": str(policy),
        "PRACTICE_BOT_PORT": str(port),
    }
    log = folder / f"run-{backend.name.lower()}.log"
    users = await _users(backend.url)
    with log.open("w") as out:
        proc = await asyncio.create_subprocess_exec(
            *_command(), "--now", NOW, "run", "--no-demo", cwd=folder, env=env, stdout=out, stderr=out
        )
    base = f"http://127.0.0.1:{port}"
    try:
        started = time.perf_counter()
        await _wait_for(log, "catch-up finished", proc, within=600)
        startup = time.perf_counter() - started
        after_start, _ = rss_mb(proc.pid)
        served = await _load(base, users)
        await _settled(base)
        after_load, peak = rss_mb(proc.pid)
    finally:
        if proc.returncode is None:
            proc.terminate()
            await proc.wait()
    problems = [] if served == REQUESTS else [f"memory run: the bot answered {served} of {REQUESTS} commands"]
    note = (
        f"after start-up and catch-up ({startup:.0f}s): {after_start:.0f} MB; after {served} commands: "
        f"{after_load:.0f} MB; peak {peak:.0f} MB. Floor column: the budget"
    )
    return [Result("memory, practice-bot run", after_load, BUDGET_MB, "MB", 1.0, note, sound=not problems)], problems
