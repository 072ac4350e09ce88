"""Two replicas of `practice-bot run` on one PostgreSQL database.

Both start on a morning after the 07:45 caseload alerts were due, so both run
the same catch-up at the same moment: every alert must still reach its manager
exactly once. And Slack's retry of an event, landing on the other replica, must
not be answered twice.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.app import LOCAL_SIGNING_SECRET
from bot.workspace import signed_headers
from tests.pg import PostgresServer, _bin
from tests.served import Served, cli, running

BACKENDS = [b.strip() for b in os.environ.get("PRACTICE_BOT_TEST_DATABASES", "sqlite,postgresql").split(",")]
pytestmark = pytest.mark.skipif(
    "postgresql" not in BACKENDS,
    reason="replicas share a PostgreSQL database (PRACTICE_BOT_TEST_DATABASES)",
)

# A Monday after the 07:45 caseload alerts were due: each replica's start-up catch-up sends them.
NOW = "2026-11-23T08:00"
GRACE = "U000001"  # manager of Ipswich CIN 2, where Priya Shah is over her cap (demo authority)
TOM = "U000003"  # Tom Hughes, a social worker with room for 1 more
WAIT = 30.0


class Sql:
    """psql against one database of the test PostgreSQL server."""

    def __init__(self, server: PostgresServer, database: str) -> None:
        psql = _bin("psql")
        assert psql is not None
        self.base = [
            psql,
            "-h",
            "127.0.0.1",
            "-p",
            str(server.port),
            "-U",
            "postgres",
            "-At",
            "-v",
            "ON_ERROR_STOP=1",
        ]
        self.database = database

    def rows(self, query: str, database: str | None = None) -> list[list[str]]:
        result = subprocess.run(
            [*self.base, "-d", database or self.database, "-F", "\t", "-c", query],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        return [line.split("\t") for line in result.stdout.splitlines() if line]


def dm_channel(target: str) -> str:
    # The local workspace's DM with U123 is D123 (LocalWorkspace.im_channel).
    return "D" + target.removeprefix("U") if target.startswith("U") else target


def bot_messages(bot: Served) -> dict[str, list[dict[str, object]]]:
    """Every message the bot posted on this replica's workspace, by channel, as staff see them."""
    state = bot.get("/_local/state")
    seen: dict[str, dict[str, dict[str, object]]] = {}
    for user in state["users"]:
        for conversation in bot.get(f"/_local/conversations?user={user['id']}")["conversations"]:
            channel = conversation["id"]
            messages = bot.get(f"/_local/messages?user={user['id']}&channel={channel}")["messages"]
            for message in messages:
                if message["user"] == state["bot_user_id"]:
                    seen.setdefault(channel, {})[message["ts"]] = message
    return {channel: list(by_ts.values()) for channel, by_ts in seen.items()}


def wait_for(what: str, check: Callable[[], bool], bots: list[Served], timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        for bot in bots:
            assert bot.alive(), f"{bot.name} exited with {bot.process.returncode}:\n{bot.output()}"
        time.sleep(0.2)
    logs = "\n".join(f"--- {bot.name}\n{bot.output()[-3000:]}" for bot in bots)
    raise AssertionError(f"timed out waiting for {what}\n{logs}")


@pytest.fixture(scope="module")
def replicas(postgres: PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[list[Served], Sql]]:
    root: Path = tmp_path_factory.mktemp("replicas")
    database = "replicas_" + uuid.uuid4().hex[:8]
    sql = Sql(postgres, database)
    sql.rows(f"CREATE DATABASE {database}", database="postgres")
    url = postgres.url.rsplit("/", 1)[0] + "/" + database
    for step in (("db", "upgrade"), ("demo",)):
        done = cli(url, *step, cwd=root, now=NOW)
        assert done.returncode == 0, f"practice-bot {' '.join(step)}: {done.stdout}{done.stderr}"

    with running(url, cwd=root, now=NOW, names=("replica-a", "replica-b")) as bots:

        def caught_up() -> bool:
            # Both replicas logged every send of their catch-up, and no claim is left unfinished.
            statuses = Counter(status for (status,) in sql.rows("SELECT status FROM deliveries"))
            total = sum(statuses.values())
            return (
                total > 0
                and statuses["claimed"] == 0
                and all(bot.output().count("catch-up send") >= total for bot in bots)
            )

        wait_for("both replicas to finish catching up", caught_up, bots)
        yield bots, sql
        for bot in bots:
            assert bot.alive(), f"{bot.name} exited with {bot.process.returncode}:\n{bot.output()}"
    # Stopped with SIGTERM, as a container runtime stops them: both shut down cleanly.
    assert [bot.process.returncode for bot in bots] == [0, 0], [bot.output()[-2000:] for bot in bots]


def test_two_replicas_catching_up_on_the_same_morning_send_each_alert_exactly_once(
    replicas: tuple[list[Served], Sql],
) -> None:
    bots, sql = replicas
    ledger = sql.rows("SELECT job, target, due_key, status, attempts FROM deliveries ORDER BY 1, 2, 3")
    alerts = [row for row in ledger if row[0] == "caseload.alerts"]
    assert any(target == GRACE and "over_cap" in due_key for _, target, due_key, _, _ in alerts), ledger
    assert {status for _, _, _, status, _ in ledger} == {"sent"}, ledger
    assert {attempts for _, _, _, _, attempts in ledger} == {"1"}, ledger

    # Count what staff actually received, on both replicas' workspaces together.
    received: Counter[str] = Counter()
    for bot in bots:
        for channel, messages in bot_messages(bot).items():
            received[channel] += len(messages)
    expected = Counter(dm_channel(target) for _, target, _, _, _ in ledger)
    assert received == expected
    grace = [m for bot in bots for m in bot_messages(bot).get(dm_channel(GRACE), [])]
    assert any("Priya Shah now holds 26 children, 1 over their cap of 25" in str(m["text"]) for m in grace)


def signed_event(event_id: str, user: str, text: str) -> tuple[bytes, dict[str, str]]:
    body = {
        "token": "local",
        "team_id": "T0LOCAL",
        "api_app_id": "A0LOCAL",
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()),
        "authorizations": [{"team_id": "T0LOCAL", "user_id": "U0BOT", "is_bot": True}],
        "event": {
            "type": "message",
            "channel": dm_channel(user),
            "channel_type": "im",
            "user": user,
            "text": text,
            "ts": f"{time.time():.6f}",
        },
    }
    raw = json.dumps(body).encode()
    return raw, signed_headers(LOCAL_SIGNING_SECRET, raw, "application/json")


def test_a_slack_retry_landing_on_the_other_replica_is_answered_once(
    replicas: tuple[list[Served], Sql],
) -> None:
    (a, b), _ = replicas
    bots = [a, b]
    # What the bot has already said to Tom on either replica (this morning's reminder, say).
    earlier = {(bot.name, m["ts"]) for bot in bots for m in bot_messages(bot).get(dm_channel(TOM), [])}

    def replies() -> list[str]:
        """What the bot has said to Tom since, on either replica."""
        return [
            str(m["text"])
            for bot in bots
            for m in bot_messages(bot).get(dm_channel(TOM), [])
            if (bot.name, m["ts"]) not in earlier
        ]

    event_id = "Ev" + uuid.uuid4().hex[:10].upper()
    raw, headers = signed_event(event_id, TOM, "caseload")

    status, _ = a.request("POST", "/slack/events", raw, headers)
    assert status == 200
    wait_for("replica A to answer", lambda: len(replies()) == 1, bots)

    # Slack didn't see A's ack in time and sends the same event again; B receives it.
    retry = {**headers, "x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout"}
    status, _ = b.request("POST", "/slack/events", raw, retry)
    assert status == 200
    # A new message to B after the retry: once B has answered it, B has done all it will do.
    raw, headers = signed_event("Ev" + uuid.uuid4().hex[:10].upper(), TOM, "hello")
    status, _ = b.request("POST", "/slack/events", raw, headers)
    assert status == 200
    wait_for("replica B to answer the new message", lambda: any("Hello!" in t for t in replies()), bots)

    new = replies()
    assert len(new) == 2, new
    assert sum("You hold 14 children against your cap of 15" in text for text in new) == 1, new


async def test_four_replicas_catching_up_at_the_very_same_moment_all_finish_and_alert_once(
    postgres: PostgresServer,
) -> None:
    """The processes above start a few milliseconds apart; here the catch-ups truly overlap."""
    import asyncio

    from bot.clock import FixedClock, parse_now
    from bot.demo import seed
    from bot.runtime import build_deps, start_local
    from bot.settings import Settings
    from schedules import tick
    from storage.db import Database, upgrade

    database = "overlap_" + uuid.uuid4().hex[:8]
    Sql(postgres, database).rows(f"CREATE DATABASE {database}", database="postgres")
    url = postgres.url.rsplit("/", 1)[0] + "/" + database
    settings = Settings(_env_file=None, database_url=url)  # type: ignore[call-arg]
    clock = FixedClock(parse_now(NOW))
    # One engine per replica, as separate processes have.
    replicas = [build_deps(settings, clock, db=Database(url)) for _ in range(4)]
    await upgrade(replicas[0].db)
    async with replicas[0].db.transaction() as session:
        await seed(session, replicas[0].workspace_id, clock.now().date())
    locals_ = [await start_local(deps) for deps in replicas]
    try:
        results = await asyncio.gather(*(tick(deps, clock.now()) for deps in replicas), return_exceptions=True)
        failures = [r for r in results if isinstance(r, BaseException)]
        assert failures == [], failures
        rows = Sql(postgres, database).rows("SELECT target, status FROM deliveries")
        assert rows and {status for _, status in rows} == {"sent"}
        sent = [s for r in results if not isinstance(r, BaseException) for s in r if s.outcome == "sent"]
        assert len(sent) == len(rows)
        posted = [m for local in locals_ for m in local.workspace.messages if m.user == local.workspace.bot_user_id]
        assert len(posted) == len(rows)
    finally:
        for local in locals_:
            await local.stop()
        for deps in replicas:
            await deps.db.dispose()
