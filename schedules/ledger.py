"""Exactly-once sends through the delivery ledger.

Claim a (job, target, due key) row, send, mark it sent. Another replica, a
second `tick`, or a restart finds the row and does nothing. A send that failed
is marked failed with the reason and claimed again on the next run; so is a
claim whose sender died before finishing (after `STALE_CLAIM`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from slack_sdk.errors import SlackApiError
from sqlalchemy import or_, update

from bot.app import Deps
from storage.ledger import Delivery
from storage.upsert import insert_ignore

log = logging.getLogger("practice_bot.ledger")

STALE_CLAIM = timedelta(minutes=10)


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


async def claim(deps: Deps, workspace_id: str, job: str, target: str, due_key: str, now: datetime) -> bool:
    async with deps.db.transaction() as session:
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


async def _finish(
    deps: Deps, workspace_id: str, job: str, target: str, due_key: str, status: str, error: str | None
) -> None:
    async with deps.db.transaction() as session:
        await session.execute(
            update(Delivery)
            .where(
                Delivery.workspace_id == workspace_id,
                Delivery.job == job,
                Delivery.target == target,
                Delivery.due_key == due_key,
            )
            .values(status=status, last_error=error, sent_at=deps.clock.now() if status == "sent" else None)
        )


async def send_once(
    deps: Deps,
    workspace_id: str,
    job: str,
    target: str,
    due_key: str,
    send: Callable[[], Awaitable[object]],
) -> Send:
    if not await claim(deps, workspace_id, job, target, due_key, deps.clock.now()):
        return Send(job, target, due_key, Outcome.ALREADY)
    try:
        await send()
    except (SlackApiError, OSError, TimeoutError) as e:
        reason = e.response.get("error", str(e)) if isinstance(e, SlackApiError) else type(e).__name__
        log.warning("send failed: %s to %s: %s", job, target, reason)
        await _finish(deps, workspace_id, job, target, due_key, "failed", str(reason)[:500])
        return Send(job, target, due_key, Outcome.FAILED, str(reason))
    await _finish(deps, workspace_id, job, target, due_key, "sent", None)
    return Send(job, target, due_key, Outcome.SENT)
