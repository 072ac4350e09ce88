"""Test setup: both databases, a pinned clock, and the bot on the local workspace."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from bot.clock import FixedClock, parse_now
from bot.settings import Settings
from storage.db import Database, upgrade
from storage.models import Base
from tests.pg import PostgresServer, start_postgres
from tests.support import Bot

BACKENDS = [b.strip() for b in os.environ.get("PRACTICE_BOT_TEST_DATABASES", "sqlite,postgresql").split(",")]


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = start_postgres()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def sqlite_url() -> Iterator[str]:
    root = tempfile.mkdtemp(prefix="practice-bot-sqlite-")
    yield f"sqlite+aiosqlite:///{root}/test.db"
    shutil.rmtree(root, ignore_errors=True)


_databases: dict[str, Database] = {}


@pytest.fixture(scope="session", params=BACKENDS)
async def database(request: pytest.FixtureRequest) -> AsyncIterator[Database]:
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres").url
    else:
        url = request.getfixturevalue("sqlite_url")
    db = Database(url, pool_size=20)
    await upgrade(db)
    yield db
    await db.dispose()


async def wipe(db: Database) -> None:
    async with db.engine.begin() as conn:
        # Only tables the migrations made: a model without a migration is test_migrations' to report.
        existing = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
        tables = [t.name for t in reversed(Base.metadata.sorted_tables) if t.name in existing]
        if db.is_sqlite:
            for name in tables:
                await conn.execute(text(f'DELETE FROM "{name}"'))
        else:
            names = ", ".join(f'"{n}"' for n in tables)
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture
async def db(database: Database) -> AsyncIterator[Database]:
    await wipe(database)
    yield database


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(parse_now("2026-11-23T09:00"))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(_env_file=None, database_url="sqlite+aiosqlite:///unused.db")  # type: ignore[call-arg]


@pytest.fixture
async def bot(db: Database, clock: FixedClock, settings: Settings) -> AsyncIterator[Bot]:
    harness = await Bot.start(db, clock, settings)
    yield harness
    await harness.stop()
