"""Exactly-once sends through the delivery ledger.

Claim a (job, target, due key) row, send, mark it sent. Another replica, a
second `tick`, or a restart finds the row and does nothing. A send that failed
is marked failed with the reason and claimed again on the next run; so is a
claim whose sender died before finishing (after `STALE_CLAIM`). A job with many
sends runs them through one `sending(...)` run, one transaction a send.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from slack_sdk.errors import SlackApiError
from sqlalchemy import or_, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import Deps
from storage.ledger import Delivery
from storage.upsert import insert_ignore

log = logging.getLogger("practice_bot.ledger")

STALE_CLAIM = timedelta(minutes=10)
# What a send may fail with that means "not delivered": recorded, and retried by a later run.
DELIVERY_FAILURES = (SlackApiError, OSError, TimeoutError)


class Outcome(StrEnum):
    SENT = "sent"
    ALREADY = "already"
    FAILED = "failed"


@dataclass(frozen=True)
class Send:
    job: str
    target: str
    due_key: str
    outcome: Outcome
    error: str | None = None

    def __str__(self) -> str:
        tail = f" ({self.error})" if self.error else ""
        return f"{self.job} -> {self.target} [{self.due_key}]: {self.outcome}{tail}"


@dataclass(frozen=True)
class _Outcome:
    """A send's result, to be written to its ledger row."""

    target: str
    due_key: str
    status: str
    error: str | None


async def _write(session: AsyncSession, deps: Deps, workspace_id: str, job: str, outcome: _Outcome) -> None:
    await session.execute(
        update(Delivery)
        .where(
            Delivery.workspace_id == workspace_id,
            Delivery.job == job,
            Delivery.target == outcome.target,
            Delivery.due_key == outcome.due_key,
        )
        .values(
            status=outcome.status,
            last_error=outcome.error,
            sent_at=deps.clock.now() if outcome.status == "sent" else None,
        )
    )


async def _claim(session: AsyncSession, workspace_id: str, job: str, target: str, due_key: str, now: datetime) -> bool:
    won = await insert_ignore(
        session,
        Delivery,
        {
            "workspace_id": workspace_id,
            "job": job,
            "target": target,
            "due_key": due_key,
            "status": "claimed",
            "attempts": 1,
            "claimed_at": now,
        },
        ["workspace_id", "job", "target", "due_key"],
    )
    if won:
        return True
    # Someone had it: take it over only if it failed, or its claimer died.
    result = await session.execute(
        update(Delivery)
        .where(
            Delivery.workspace_id == workspace_id,
            Delivery.job == job,
            Delivery.target == target,
            Delivery.due_key == due_key,
            or_(
                Delivery.status == "failed",
                (Delivery.status == "claimed") & (Delivery.claimed_at < now - STALE_CLAIM),
            ),
        )
        .values(status="claimed", claimed_at=now, attempts=Delivery.attempts + 1)
    )
    return bool(getattr(result, "rowcount", 0))


class Sending:
    """One job run's sends, one after another, through the ledger.

    Each send is claimed, sent, and its outcome written, exactly as a lone
    `send_once`; but the outcome is written in the same transaction as the next
    send's claim (and the last one's by `finish`), so a run of 2,000 reminders
    costs 2,000 transactions, not 4,000, and keeps pace with Slack's rate
    limit. The ledger passes through the same states at each commit as it
    would with two transactions a send, so a crash leaves at most one claim
    in flight, as before. Between two sends a job must not do slow work (or
    must call `finish` first): until the next claim, a delivered message is
    not yet marked sent.
    """

    def __init__(self, deps: Deps, workspace_id: str, job: str) -> None:
        self.deps = deps
        self.workspace_id = workspace_id
        self.job = job
        self._unwritten: _Outcome | None = None

    async def once(self, target: str, due_key: str, send: Callable[[], Awaitable[object]]) -> Send:
        deps, workspace_id, job = self.deps, self.workspace_id, self.job
        unwritten, self._unwritten = self._unwritten, None
        try:
            async with deps.db.transaction() as session:
                if unwritten is not None:
                    await _write(session, deps, workspace_id, job, unwritten)
                won = await _claim(session, workspace_id, job, target, due_key, deps.clock.now())
        except BaseException:
            # The claim can wait for the next run; the last send's outcome can't.
            self._unwritten = unwritten
            await self.finish()
            raise
        if not won:
            return Send(job, target, due_key, Outcome.ALREADY)
        delivery = asyncio.ensure_future(send())
        try:
            await asyncio.shield(delivery)
        except asyncio.CancelledError:
            # Stopping (SIGTERM): the message in Slack's hands lands and its outcome is
            # written on the way out, so a restart neither repeats it nor leaves it waiting
            # STALE_CLAIM. Then stop; the rest are for the next run.
            await asyncio.wait([delivery])
            self._unwritten = self._outcome(target, due_key, delivery)
            raise
        except DELIVERY_FAILURES:
            pass
        # Anything else (a bug) has gone up, leaving the claim to be retaken after STALE_CLAIM.
        outcome = self._unwritten = self._outcome(target, due_key, delivery)
        assert outcome is not None
        if outcome.status == "failed":
            return Send(job, target, due_key, Outcome.FAILED, outcome.error)
        return Send(job, target, due_key, Outcome.SENT)

    def _outcome(self, target: str, due_key: str, delivery: asyncio.Future[object]) -> _Outcome | None:
        """What to write for a finished delivery: sent, failed with the reason, or (a bug) nothing."""
        error = delivery.exception()
        if error is None:
            return _Outcome(target, due_key, "sent", None)
        if not isinstance(error, DELIVERY_FAILURES):
            return None
        reason = error.response.get("error", str(error)) if isinstance(error, SlackApiError) else type(error).__name__
        log.warning("send failed: %s to %s: %s", self.job, target, reason)
        return _Outcome(target, due_key, "failed", str(reason)[:500])

    async def finish(self) -> None:
        """Write the last send's outcome."""
        unwritten, self._unwritten = self._unwritten, None
        if unwritten is not None:
            async with self.deps.db.transaction() as session:
                await _write(session, self.deps, self.workspace_id, self.job, unwritten)


@asynccontextmanager
async def sending(deps: Deps, workspace_id: str, job: str) -> AsyncIterator[Sending]:
    """`async with sending(deps, ws, job) as run: await run.once(...)`: sends of one run."""
    run = Sending(deps, workspace_id, job)
    try:
        yield run
    finally:
        await run.finish()


async def send_once(
    deps: Deps,
    workspace_id: str,
    job: str,
    target: str,
    due_key: str,
    send: Callable[[], Awaitable[object]],
) -> Send:
    """Claim (job, target, due key), send, and write the outcome: once, whoever else tries."""
    async with sending(deps, workspace_id, job) as run:
        return await run.once(target, due_key, send)
