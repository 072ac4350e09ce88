"""Bad input: any text after a slash command gets an answer, never an exception, and writes nothing.

Hypothesis drives examples synchronously, so each story runs the bot on an
event loop of its own, against the same database the fixtures prepared.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.clock import FixedClock
from bot.settings import Settings
from storage.children import Allocation, Child
from storage.db import Database
from storage.org import Staff
from tests.support import Bot

EXAMPLES = 1000 if os.environ.get("CI") else 150
WORDS = st.sampled_from(
    ["team", "help", "me", "<@tom>", "<@nobody|x>", "banana", "today", "am", "2026-13-45", "-1", "🙂", "\u00a0", "'"]
)
TEXT = st.one_of(st.text(max_size=60), st.lists(WORDS, max_size=5).map(" ".join))


class SyncBot:
    """The real bot on a private event loop, for property tests."""

    def __init__(self, url: str, clock: FixedClock, app_settings: Settings) -> None:
        self.loop = asyncio.new_event_loop()
        self.db = Database(url)
        self.bot = self.run(Bot.start(self.db, clock, app_settings))

    def run(self, work):  # type: ignore[no-untyped-def]
        return self.loop.run_until_complete(work)

    def fingerprint(self) -> tuple[int, ...]:
        async def counts() -> tuple[int, ...]:
            async with self.db.session() as session:
                models = (Staff, Child, Allocation)
                return tuple([int(await session.scalar(select(func.count()).select_from(m)) or 0) for m in models])

        return self.run(counts())

    def close(self) -> None:
        self.run(self.bot.stop())
        self.run(self.db.dispose())
        self.loop.close()


@pytest.fixture
def sync_bot(db: Database, clock: FixedClock, settings: Settings) -> Iterator[SyncBot]:
    harness = SyncBot(db.url, clock, settings)
    yield harness
    harness.close()


def test_caseload_answers_any_text_with_an_answer_or_help_and_writes_nothing(sync_bot: SyncBot) -> None:
    bot = sync_bot.bot
    sync_bot.run(
        bot.staff(
            "mgr,Grace Okafor,Ipswich CIN 2,manager,1.0,2016-09-01",
            "tom,Tom Hughes,Ipswich CIN 2,social_worker,1.0,2026-06-10",
        )
    )
    sync_bot.run(bot.hold("tom", 3))
    before = sync_bot.fingerprint()

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(user=st.sampled_from(["tom", "mgr"]), text=TEXT)
    def one(user: str, text: str) -> None:
        messages = sync_bot.run(bot.command(user, f"/caseload {text}"))
        assert messages, f"no answer to /caseload {text!r}"
        assert "Sorry, something went wrong" not in bot.text(messages)

    one()

    assert sync_bot.fingerprint() == before
    assert not bot.ws.errors
