"""The databases the benchmarks run against, seeded once per run.

Each backend gets, side by side (every query filters by workspace, so they
don't see each other, but they share tables and indexes, as tenants do):

- `T0LOCAL`: the large authority (`practice-bot demo --size large`);
- `TSMALL`: the small demo authority (5 teams), to show a digest's query
  count does not grow with the number of teams;
- `TFANOUT`: 2,000 workers who each have a visit due: 2,000 reminder DMs;
- `TDESKS`: 500 staff and one office of 50 desks, for desk contention.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, text

from bot.demo_large import Seeded, _bulk, seed_large
from bot.desks_demo import fifty_desks
from storage.db import Database, refresh_statistics, upgrade

TODAY = date(2026, 11, 23)  # a Monday
NOW = "2026-11-23T09:00"
LARGE = "T0LOCAL"
SMALL = "TSMALL"
FANOUT = "TFANOUT"
DESKS = "TDESKS"
FANOUT_WORKERS = 2_000
DESK_STAFF = 500


@dataclass
class Backend:
    name: str
    url: str
    seeded: Seeded | None = None
    seed_seconds: float = 0.0
    layout_file: Path | None = None


async def _fanout_workspace(db: Database) -> None:
    """2,000 workers in 120 teams, each holding a CP child due a visit this week and two not due."""
    from storage.children import Allocation, Child
    from storage.org import Staff, Team

    async with db.transaction() as session:
        await _bulk(
            session,
            Team,
            [
                {"workspace_id": FANOUT, "name": f"Fan-out team {t}", "office": "Ipswich", "kind": "social_work"}
                for t in range(120)
            ],
        )
        teams = list(await session.scalars(select(Team.id).where(Team.workspace_id == FANOUT).order_by(Team.id)))
        await _bulk(
            session,
            Staff,
            [
                {
                    "workspace_id": FANOUT,
                    "user_id": f"f{n:05d}",
                    "slack_user_id": f"UF{n:05d}",
                    "name": f"Fan-out Worker {n}",
                    "team_id": teams[n % len(teams)],
                    "role": "social_worker",
                    "fte": 1.0,
                    "qualified_on": date(2020, 9, 1),
                }
                for n in range(FANOUT_WORKERS)
            ],
        )
        staff = dict((await session.execute(select(Staff.user_id, Staff.id).where(Staff.workspace_id == FANOUT))).all())
        children = []
        for n in range(FANOUT_WORKERS):
            owner = staff[f"f{n:05d}"]
            for k, (status, last) in enumerate((("cp", 12), ("cin", 5), ("cla", 10))):
                children.append(
                    {
                        "workspace_id": FANOUT,
                        "child_ref": f"FAN{n:05d}{k}",
                        "status": status,
                        "allocated_to": owner,
                        "status_since": TODAY - timedelta(days=300),
                        "placement_start": TODAY - timedelta(days=200) if status == "cla" else None,
                        "placement_type": "foster" if status == "cla" else None,
                        "last_visit_on": TODAY - timedelta(days=last),
                        "last_review_on": TODAY - timedelta(days=40) if status != "cin" else None,
                    }
                )
        await _bulk(session, Child, children)
        rows = (await session.execute(select(Child.id, Child.allocated_to).where(Child.workspace_id == FANOUT))).all()
        await _bulk(
            session,
            Allocation,
            [
                {
                    "workspace_id": FANOUT,
                    "child_id": c,
                    "staff_id": s,
                    "start_on": TODAY - timedelta(days=200),
                    "end_on": None,
                }
                for c, s in rows
            ],
        )


async def _desks_workspace(db: Database) -> None:
    from bot.desks import parse_layout
    from storage.desks import sync_layout
    from storage.org import Staff, Team

    async with db.transaction() as session:
        await _bulk(
            session,
            Team,
            [
                {"workspace_id": DESKS, "name": f"Team {t}", "office": "Ipswich", "kind": "social_work"}
                for t in range(10)
            ],
        )
        teams = list(await session.scalars(select(Team.id).where(Team.workspace_id == DESKS).order_by(Team.id)))
        await _bulk(
            session,
            Staff,
            [
                {
                    "workspace_id": DESKS,
                    "user_id": f"d{i:03d}",
                    "slack_user_id": f"UD{i:05d}",
                    "name": f"Desk Worker {i:03d}",
                    "team_id": teams[i % len(teams)],
                    "role": "social_worker",
                    "fte": 1.0,
                }
                for i in range(DESK_STAFF)
            ],
        )
        at = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
        await sync_layout(session, DESKS, parse_layout(fifty_desks()), TODAY, at)


async def prepare(backend: Backend, folder: Path) -> None:
    """Migrate, then seed every workspace; PostgreSQL then gets fresh planner statistics.

    (A live PostgreSQL has them: autovacuum analyses a table after a bulk load. Run at once,
    the planner would still think the tables empty. SQLite gathers none by itself, so none.)
    """
    from bot.demo import seed
    from bot.demo_large import large_layout, layout_toml, plan_teams

    db = Database(backend.url)
    try:
        await upgrade(db)
        started = time.perf_counter()
        async with db.transaction() as session:
            backend.seeded = await seed_large(session, LARGE, TODAY)
        backend.seed_seconds = time.perf_counter() - started
        async with db.transaction() as session:
            await seed(session, SMALL, TODAY)
        await _fanout_workspace(db)
        await _desks_workspace(db)
        if db.is_sqlite:
            await refresh_statistics(db)  # what `practice-bot run` does at start on SQLite
        else:
            async with db.engine.begin() as conn:
                await conn.execute(text("ANALYZE"))  # what autovacuum does after a bulk load
        by_office: dict[str, list[str]] = {}
        for name, office, _k, _m in plan_teams():
            by_office.setdefault(office, []).append(name)
        backend.layout_file = folder / "large-layout.toml"
        backend.layout_file.write_text(layout_toml(large_layout(by_office)))
    finally:
        await db.dispose()


def sqlite_backend(folder: Path) -> Backend:
    return Backend("SQLite", f"sqlite+aiosqlite:///{folder}/bench.db")


def scratch() -> Path:
    return Path(tempfile.mkdtemp(prefix="practice-bot-bench-"))


def settings_for(url: str, **extra: Any) -> Any:
    from bot.settings import Settings

    return Settings(_env_file=None, database_url=url, **extra)  # type: ignore[call-arg]


async def keep_only(url: str, workspace_id: str) -> None:
    """Delete every other workspace's rows: `practice-bot run` then serves the large authority
    alone, as after `practice-bot demo --size large` (the other workspaces' jobs would otherwise
    run too, and fail: the local workspace is one Slack team)."""
    from storage.models import Base

    db = Database(url)
    try:
        async with db.engine.begin() as conn:
            for table in reversed(Base.metadata.sorted_tables):
                if "workspace_id" in table.c:
                    await conn.execute(table.delete().where(table.c.workspace_id != workspace_id))
    finally:
        await db.dispose()
