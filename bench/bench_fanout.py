"""DM fan-out: 2,000 morning reminders through a local workspace set to Slack's limits.

The local workspace runs in its own process with Slack's limits on:
chat.postMessage about 1 message per second per channel, and a workspace-wide
limit (Slack's "special tier"; it publishes no figure, so we set RATE), both
answered with 429 and Retry-After. 2,000 workers each have a visit due, so
the real reminders job sends 2,000 DMs to 2,000 different DM channels: the
per-channel limit never binds and the workspace-wide one does.

Floor: the time those limits alone allow: a full bucket of RATE x burst
messages at once, then RATE a second. Checked, not assumed: 2,000 messages
in 2,000 channels, none twice, every ledger row sent.
"""

from __future__ import annotations

import time
from datetime import datetime

from sqlalchemy import func, select

from bench.authority import FANOUT, FANOUT_WORKERS, NOW, Backend, settings_for
from bench.common import Process, Result, get_json, post_json
from bot.app import web_client
from bot.clock import LONDON, FixedClock, parse_now
from bot.runtime import build_deps
from schedules.ledger import Outcome
from schedules.visits import REMINDERS, send_reminders
from storage.ledger import Delivery

RATE = 100.0  # chat.postMessage per second, workspace-wide
BURST_SECONDS = 1.0  # the local workspace's default bucket


async def measure(backend: Backend) -> tuple[list[Result], list[str]]:
    workspace = await Process.start(
        "workspace",
        "--db",
        backend.url,
        "--workspace",
        FANOUT,
        "--channel-interval",
        "1.0",
        "--rate",
        f"chat.postMessage={RATE:g}",
    )
    settings = settings_for(backend.url, slack_post_rate=RATE)
    deps = build_deps(settings, FixedClock(parse_now(NOW)), workspace_id=FANOUT)
    problems: list[str] = []
    try:
        client = web_client("xoxb-local-workspace", workspace.url + "/api/", post_rate=RATE)
        deps.client = client
        await client.auth_test()  # the connection is open before the clock starts
        await post_json(workspace.url + "/_bench/reset")
        at = datetime(2026, 11, 23, 8, 30, tzinfo=LONDON)
        started = time.perf_counter()
        sends = await send_reminders(deps, FANOUT, at)
        took = time.perf_counter() - started
        stats = await get_json(workspace.url + "/_bench/stats")
        async with deps.db.session() as session:
            ledger = dict(
                (
                    await session.execute(
                        select(Delivery.status, func.count())
                        .where(Delivery.workspace_id == FANOUT, Delivery.job == REMINDERS)
                        .group_by(Delivery.status)
                    )
                ).all()
            )
    finally:
        await deps.db.dispose()
        await workspace.stop()
    sent = sum(1 for s in sends if s.outcome is Outcome.SENT)
    limited = int(stats["calls"].get("chat.postMessage 429", 0))
    lost = FANOUT_WORKERS - stats["channels"]
    twice = stats["messages"] - stats["channels"]
    if sent != FANOUT_WORKERS or lost or twice or ledger.get("sent", 0) != FANOUT_WORKERS:
        problems.append(
            f"fan-out: {sent} sent, {stats['messages']} messages in {stats['channels']} channels, ledger {ledger}"
        )
    floor = (FANOUT_WORKERS - RATE * BURST_SECONDS) / RATE
    note = (
        f"{stats['messages']} DMs in {stats['channels']} channels at {RATE:g}/s; "
        f"lost {max(0, lost)}, sent twice {twice}; 429s answered: {limited}"
    )
    return [Result("DM fan-out, 2,000 reminders", took, floor, "s", 1.1, note, sound=not problems)], problems
