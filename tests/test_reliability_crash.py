"""kill -9 in the middle of the morning reminders, restart: every worker gets exactly one.

`practice-bot run` (the demo authority, on PostgreSQL) starts at 08:01 on a Monday and
catches up on the morning's sends. Slack is slow (each chat.postMessage takes 400 ms),
so the test can see a reminder in flight, and kills the process with SIGKILL right then:
three reminders delivered, the fourth claimed in the ledger but never posted.

The local workspace lives inside that process, so it keeps its record of messages in a
JSON-lines file (PRACTICE_BOT_LOCAL_LOG), which survives the kill. What everyone
received is read from the three runs' records together.

What the ledger promises, and the test holds it to:
- a restart sends everything not yet sent, and nothing already sent;
- the claim the killed process left is not taken over before it is STALE_CLAIM (10
  minutes) old, because a live replica could still be sending it: a restart at 08:04
  leaves that one worker waiting;
- the first catch-up after that (08:12 here; in a running bot, the scheduler's retry
  every few minutes) delivers it: exactly one reminder each, none lost, none doubled.

The one window the ledger cannot close: a process killed after Slack accepted a message
but before the ledger marked it sent (the time it takes to read Slack's reply). That
message is sent again after STALE_CLAIM: Slack's API has no idempotency key. This test
kills while the send is still in Slack's hands, the case a slow or failing Slack makes
likely.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.calendar import WorkingCalendar
from bot.clock import parse_now
from bot.policy import load_policy
from bot.settings import DEFAULT_POLICY
from bot.visits import due_list
from storage.db import Database
from storage.ledger import Delivery
from storage.visits import held_children
from tests.pg import PostgresServer, _bin
from tests.served import Served, bot_env, cli, command, free_port

BACKENDS = [b.strip() for b in os.environ.get("PRACTICE_BOT_TEST_DATABASES", "sqlite,postgresql").split(",")]
pytestmark = pytest.mark.skipif(
    "postgresql" not in BACKENDS,
    reason="the crash test runs `practice-bot run` processes on PostgreSQL, the production database",
)

START = "2026-11-23T08:01"  # Monday: the 07:45 caseload alerts and 08:00 reminders are due
TOO_SOON = "2026-11-23T08:04"  # the killed process's claim is 3 minutes old
LATER = "2026-11-23T08:12"  # ... and now 11 minutes old: past STALE_CLAIM
REMINDERS = "visits.reminders"
REMINDER = "have visits or reviews due soon"  # the reminder's text (schedules.visits.reminder_fallback)
SLOW_SLACK_MS = "400"
WAIT = 60.0


def dm(user: str) -> str:
    return "D" + user.removeprefix("U")  # the local workspace's DM with U123 is D123


def record(path: Path) -> list[dict[str, Any]]:
    """A run's record of Web API calls and messages (a line cut short by the kill is skipped)."""
    if not path.exists():
        return []
    entries = []
    for line in path.read_text().splitlines():
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return entries


def messages(path: Path) -> list[dict[str, Any]]:
    return [e for e in record(path) if e["event"] == "message"]


def reminders(path: Path) -> list[str]:
    """The DM channels a reminder was delivered to in one run."""
    return [m["channel"] for m in messages(path) if REMINDER in m["text"]]


def in_flight(path: Path, delivered: int) -> str | None:
    """Once `delivered` reminders have arrived: the user the next one is being posted to."""
    entries = record(path)
    done = [i for i, e in enumerate(entries) if e["event"] == "message" and REMINDER in e["text"]]
    if len(done) < delivered:
        return None
    calls = [
        e for e in entries[done[delivered - 1] + 1 :] if e["event"] == "call" and e["method"] == "chat.postMessage"
    ]
    return str(calls[0]["channel"]) if calls else None


@dataclass
class Authority:
    url: str
    root: Path
    db: Database

    def start(self, name: str, now: str, **env: str) -> Served:
        """`practice-bot --now NOW run` with the local workspace keeping its record in NAME.jsonl."""
        port = free_port()
        out = self.root / f"{name}.log"
        extra = {"PRACTICE_BOT_HOST": "127.0.0.1", "PRACTICE_BOT_LOCAL_LOG": str(self.root / f"{name}.jsonl"), **env}
        with out.open("wb") as sink:
            process = subprocess.Popen(
                [*command(), "--now", now, "run", "--port", str(port)],
                stdout=sink,
                stderr=subprocess.STDOUT,
                env=bot_env(self.url, **extra),
                cwd=self.root,
            )
        return Served(name, f"http://127.0.0.1:{port}", process, out)

    def jsonl(self, name: str) -> Path:
        return self.root / f"{name}.jsonl"

    async def ledger(self, job: str | None = None) -> list[Delivery]:
        async with self.db.session() as session:
            query = select(Delivery).order_by(Delivery.job, Delivery.target, Delivery.due_key)
            if job is not None:
                query = query.where(Delivery.job == job)
            return list(await session.scalars(query))

    async def workers_with_something_due(self) -> set[str]:
        """Who the morning reminder is for, worked out here from the children and the rules."""
        policy = load_policy(DEFAULT_POLICY)
        on = parse_now(START).date()
        async with self.db.session() as session:
            held = await held_children(session, "T0LOCAL")
        by_worker: dict[str, list[Any]] = {}
        for item in held:
            by_worker.setdefault(item.slack_user_id, []).append(item.facts)
        rules, calendar = policy.visits.rules(), WorkingCalendar()
        return {user for user, facts in by_worker.items() if due_list(facts, on, rules, calendar)}


@pytest.fixture
async def authority(postgres: PostgresServer, tmp_path: Path) -> AsyncIterator[Authority]:
    name = "crash_" + uuid.uuid4().hex[:8]
    psql = _bin("psql")
    assert psql is not None
    create = [psql, "-h", "127.0.0.1", "-p", str(postgres.port), "-U", "postgres", "-c", f"CREATE DATABASE {name}"]
    await asyncio.to_thread(subprocess.run, create, check=True, capture_output=True, timeout=60)
    url = postgres.url.rsplit("/", 1)[0] + "/" + name
    for step in (("db", "upgrade"), ("demo",)):
        done = await asyncio.to_thread(cli, url, *step, cwd=tmp_path, now=START)
        assert done.returncode == 0, f"practice-bot {' '.join(step)}: {done.stdout}{done.stderr}"
    db = Database(url)
    yield Authority(url, tmp_path, db)
    await db.dispose()


async def until(what: str, check: Any, bot: Served) -> Any:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        assert bot.alive(), f"{bot.name} exited with {bot.process.returncode}:\n{bot.output()[-3000:]}"
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}:\n{bot.output()[-3000:]}")


async def caught_up(bot: Served) -> None:
    # The line `run` prints last, once it has caught up and is waiting to be stopped.
    await until(f"{bot.name} to finish catching up", lambda: "Practice Bot is running" in bot.output(), bot)
    assert "catch-up finished" in bot.output()


async def signalled_mid_reminders(authority: Authority, sig: signal.Signals) -> tuple[Served, str]:
    """A first run, with Slack slow, sent `sig` while the fourth reminder is in Slack's hands;
    the run, ended, and the user that reminder was for."""
    first = authority.start("first", START, PRACTICE_BOT_LOCAL_POST_DELAY_MS=SLOW_SLACK_MS)
    try:
        user = await until("a fourth reminder in flight", lambda: in_flight(authority.jsonl("first"), 3), first)
        first.process.send_signal(sig)
        first.process.wait(timeout=30)
    finally:
        if first.alive():
            first.process.kill()
    return first, str(user)


def stop(bot: Served) -> None:
    bot.stop()
    assert bot.process.returncode == 0, bot.output()[-3000:]


async def test_a_bot_killed_mid_reminders_and_restarted_sends_each_worker_exactly_one(authority: Authority) -> None:
    # 1. Slow Slack; kill -9 while the fourth reminder is in Slack's hands.
    first, orphan = await signalled_mid_reminders(authority, signal.SIGKILL)
    assert first.process.returncode == -signal.SIGKILL
    delivered = reminders(authority.jsonl("first"))
    assert dm(orphan) not in delivered, "the kill landed after the send finished (is this machine very slow?)"
    assert len(delivered) == 3
    left = {row.target: row.status for row in await authority.ledger(REMINDERS)}
    assert Counter(left.values()) == {"sent": 3, "claimed": 1} and left[orphan] == "claimed"

    # 2. Restarted within STALE_CLAIM: everyone else, and not the orphaned claim (it might still be in flight).
    second = authority.start("second", TOO_SOON)
    try:
        await caught_up(second)
        assert dm(orphan) not in reminders(authority.jsonl("second"))
        rows = {row.target: row for row in await authority.ledger(REMINDERS)}
        assert (rows[orphan].status, rows[orphan].attempts) == ("claimed", 1)
        assert {r.status for t, r in rows.items() if t != orphan} == {"sent"}
    finally:
        stop(second)

    # 3. Restarted once the claim is stale: the orphan's reminder, and nothing else again.
    third = authority.start("third", LATER)
    try:
        await caught_up(third)
    finally:
        stop(third)
    assert reminders(authority.jsonl("third")) == [dm(orphan)]

    # Everyone with something due had exactly one reminder across the three runs; nothing else was sent twice.
    due = await authority.workers_with_something_due()
    runs = [authority.jsonl(name) for name in ("first", "second", "third")]
    received = Counter(channel for run in runs for channel in reminders(run))
    assert received == Counter({dm(user): 1 for user in due})
    ledger = await authority.ledger()
    assert {row.target for row in ledger if row.job == REMINDERS} == due
    assert {row.status for row in ledger} == {"sent"}
    assert [row.attempts for row in ledger if row.target == orphan and row.job == REMINDERS] == [2]
    # One message per ledger row, whatever the job: a restart repeats no alert, digest or reminder.
    assert sum(len(messages(run)) for run in runs) == len(ledger)


async def test_a_bot_stopped_mid_reminders_lets_the_one_in_flight_land_and_a_restart_sends_the_rest_at_once(
    authority: Authority,
) -> None:
    # A deploy's SIGTERM during the morning catch-up, while the fourth reminder is in Slack's hands.
    first, landing = await signalled_mid_reminders(authority, signal.SIGTERM)
    assert first.process.returncode == 0, first.output()[-3000:]
    # The one in flight landed and was recorded: nothing is left claimed for a restart to wait on.
    assert reminders(authority.jsonl("first"))[3:] == [dm(landing)]
    left = {row.target: row.status for row in await authority.ledger(REMINDERS)}
    assert len(left) == 4 and set(left.values()) == {"sent"}

    # Restarted at once (well within STALE_CLAIM): everyone else's reminder, nobody's twice.
    second = authority.start("second", TOO_SOON)
    try:
        await caught_up(second)
    finally:
        stop(second)
    due = await authority.workers_with_something_due()
    runs = [authority.jsonl(name) for name in ("first", "second")]
    received = Counter(channel for run in runs for channel in reminders(run))
    assert received == Counter({dm(user): 1 for user in due})
    ledger = await authority.ledger()
    assert {row.status for row in ledger} == {"sent"}
    assert sum(len(messages(run)) for run in runs) == len(ledger)
