"""Steps the reliability tests share.

- `Loop`: the real bot on an event loop of its own, for hypothesis (which drives
  examples synchronously), against the database the fixtures prepared.
- `fingerprint`: a digest of every row the bot keeps, to prove nothing was written.
- `type_at_once` / `submit_at_once`: a crowd of people typing commands or submitting
  forms at the same moment, each answer kept apart by who it was for.
- `Failures`: every "listener failed" the bot logs (an exception that reached Bolt).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import uuid
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Table, inspect, select

from bot.app import UNAVAILABLE
from bot.clock import FixedClock
from bot.settings import Settings
from bot.workspace import Message
from storage.db import Database
from storage.models import Base
from tests.support import Bot

T = TypeVar("T")

# Fuzzed inputs per command and per form: 1,000 in CI (CI=true), 100 locally so the dev
# loop stays quick; PRACTICE_BOT_FUZZ_INPUTS sets any other number.
FUZZ_INPUTS = int(os.environ.get("PRACTICE_BOT_FUZZ_INPUTS") or (1000 if os.environ.get("CI") else 100))


def fuzz_inputs(db: Database, full: int = FUZZ_INPUTS) -> int:
    """Inputs to fuzz against `db`: all of them on PostgreSQL, a tenth (at least 100) on SQLite.

    PostgreSQL is the production database and the stricter reader of odd text (it
    refuses the NUL characters SQLite stores), so it gets the full count; SQLite, the
    embedded default, runs the same properties on fewer inputs, which keeps the
    reliability suite within its three minutes in CI.
    """
    return full if not db.is_sqlite else min(full, max(100, full // 10))


APOLOGY = "Sorry, something went wrong"
# Bookkeeping, not records: which Slack deliveries were already handled (a signed
# request that is answered writes its key, whatever it says).
NOT_RECORDS = frozenset({"seen_requests"})


class Loop:
    """The real bot on a private event loop."""

    def __init__(self, url: str, clock: FixedClock, settings: Settings) -> None:
        self.loop = asyncio.new_event_loop()
        self.db = Database(url, pool_size=20)
        self.bot: Bot = self.run(Bot.start(self.db, clock, settings))

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(work)

    def close(self) -> None:
        self.run(self.bot.stop())
        self.run(self.db.dispose())
        self.loop.close()


_tables: dict[str, list[Table]] = {}


async def fingerprint(db: Database, skip: frozenset[str] = NOT_RECORDS) -> str:
    """A digest of every row of every table the migrations made (but `skip`)."""
    digest = hashlib.sha256()
    async with db.session() as session:
        if db.url not in _tables:
            existing = set(await session.run_sync(lambda s: inspect(s.connection()).get_table_names()))
            _tables[db.url] = [t for t in Base.metadata.sorted_tables if t.name in existing]
        for table in _tables[db.url]:
            if table.name in skip:
                continue
            rows = (await session.execute(select(table).order_by(*table.primary_key.columns))).all()
            digest.update(table.name.encode())
            digest.update(repr([tuple(r) for r in rows]).encode())
    return digest.hexdigest()


@dataclass
class Answer:
    """What one person got back: the HTTP status, the bot's replies to them, a modal it opened."""

    status: int
    replies: list[Message] = field(default_factory=list)
    modal: dict[str, Any] | None = None

    @property
    def answered(self) -> bool:
        return bool(self.replies) or self.modal is not None


def received_text(command: str, typed: str) -> str:
    """What the bot's listener reads for `command typed`: the text as the local workspace
    sends it (as Slack does), less the NUL characters the bot drops on arrival."""
    return f"{command} {typed}".strip().partition(" ")[2].strip().replace("\x00", "")


async def type_at_once(bot: Bot, command: str, typed: dict[str, str]) -> dict[str, Answer]:
    """Each person (user id -> text) types `command text` at the same moment."""
    ws = bot.ws
    start = len(ws.messages)
    for user in typed:
        ws.modal_stacks.pop(user, None)
    results = await asyncio.gather(*(ws.command(user, f"{command} {text}") for user, text in typed.items()))
    await ws.settle()
    new = [m for m in ws.messages[start:] if m.user == ws.bot_user_id]
    return {
        user: Answer(status, [m for m in new if m.ephemeral_to == user], ws.modal_of(user))
        for (user, _), (status, _) in zip(typed.items(), results, strict=True)
    }


async def submit_at_once(
    bot: Bot, forms: dict[str, tuple[str, dict[str, Any]]]
) -> dict[str, tuple[int, dict[str, Any] | None]]:
    """Each person (user id -> (view id, values)) presses Submit at the same moment."""
    results = await asyncio.gather(*(bot.ws.submit(user, view_id, values) for user, (view_id, values) in forms.items()))
    await bot.ws.settle()
    return dict(zip(forms, results, strict=True))


def is_errors(response: dict[str, Any] | None) -> bool:
    return bool(response) and response.get("response_action") == "errors"  # type: ignore[union-attr]


def apologies(bot: Bot, since: int = 0) -> list[str]:
    """Every reply since message `since` that says the bot failed."""
    return [
        m.text
        for m in bot.ws.messages[since:]
        if m.user == bot.ws.bot_user_id and (APOLOGY in m.text or m.text == UNAVAILABLE)
    ]


class Failures(logging.Handler):
    """Collects what the bot logs at ERROR and above (a listener that raised, a job that crashed)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def __str__(self) -> str:
        return "; ".join(f"{r.getMessage()} {getattr(r, 'route', '')} {getattr(r, 'error', '')}" for r in self.records)


@contextmanager
def failures() -> Iterator[Failures]:
    handler = Failures()
    logger = logging.getLogger("practice_bot")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


# --- opening forms as people do ----------------------------------------------------------------


async def form_from_home(bot: Bot, user: str, action_id: str, value: str) -> str:
    """`user` presses a button on App Home (carrying `value`); the id of the form it opened."""
    await bot.home(user)
    status, _ = await bot.ws.click(user, {"action_id": action_id, "value": value}, view_id=bot.ws.homes[user])
    assert status == 200
    await bot.ws.settle()
    modal = bot.ws.modal_of(user)
    assert modal is not None, f"{action_id} opened no form for {user}"
    return str(modal["id"])


async def form_from_command(bot: Bot, user: str, command: str) -> str:
    """`user` types `command` (e.g. `/worried`); the id of the form it opened."""
    await bot.command(user, command)
    modal = bot.ws.modal_of(user)
    assert modal is not None, f"{command} opened no form for {user}"
    return str(modal["id"])


async def taken_worry(bot: Bot, owner: str, raiser: str = "tom", ref: str = "IPS101") -> int:
    """A worry `raiser` raised, sent to `owner` and taken by them (stored as the bot stores it)."""
    from bot.worries import WorryDraft
    from storage.org import Staff
    from storage.worries import add_recipient, claim, create_worry

    now = bot.clock.now()
    workspace = bot.deps.workspace_id
    async with bot.deps.db.transaction() as session:
        staff = {s.user_id: s for s in await session.scalars(select(Staff).where(Staff.workspace_id == workspace))}
        draft = WorryDraft("Worried about the school run", "", "", 5, ref, "today")
        key = f"test:{owner}:{uuid.uuid4().hex}"
        worry = await create_worry(session, workspace, key, staff[raiser], draft, staff[owner].team_id, None, now)
        assert worry is not None
        add_recipient(session, workspace, worry.id, staff[owner].id, "route", None, None)
        await session.flush()
        assert await claim(session, workspace, worry.id, staff[owner].id, now)
        return worry.id
