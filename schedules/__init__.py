"""Scheduled jobs: defined in code from settings, run by APScheduler or `practice-bot tick`.

Each job is a function of the moment it was due. `tick(now)` runs, for every
job, its latest due moment within the catch-up window, so a bot that was down
catches up; the delivery ledger makes running a moment twice send nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot import heap
from bot.app import Deps
from schedules.ledger import Send

log = logging.getLogger("practice_bot.schedules")

JobRun = Callable[[Deps, datetime], Awaitable[list[Send]]]


@dataclass(frozen=True)
class Job:
    name: str
    trigger: CronTrigger
    run: JobRun
    # This job's own catch-up window; None: the settings' catch_up_hours.
    # (A morning reminder is stale by evening; a weekly digest is worth posting all week.)
    catch_up: timedelta | None = None

    def window(self, deps: Deps) -> timedelta:
        return self.catch_up if self.catch_up is not None else timedelta(hours=deps.settings.catch_up_hours)


def jobs(deps: Deps) -> list[Job]:
    from schedules import caseload, desks, visits, worries

    return [*caseload.jobs(deps), *visits.jobs(deps), *desks.jobs(deps), *worries.jobs(deps)]


def latest_due(trigger: CronTrigger, now: datetime, window: timedelta) -> datetime | None:
    """The last moment at or before `now` (and within `window`) the trigger fired."""
    moment = trigger.get_next_fire_time(None, now - window)
    latest = None
    while moment is not None and moment <= now:
        latest = moment
        moment = trigger.get_next_fire_time(moment, moment + timedelta(seconds=1))
    return latest


async def prepare(deps: Deps) -> None:
    """Before a run: find every workspace's own Slack client (many-workspace installs)."""
    from sqlalchemy import select

    from storage.org import Staff

    async with deps.db.session() as session:
        workspaces = list(await session.scalars(select(Staff.workspace_id).distinct()))
    await deps.load_clients(workspaces)


async def tick(deps: Deps, now: datetime, only: str | None = None) -> list[Send]:
    await prepare(deps)
    sends: list[Send] = []
    for job in jobs(deps):
        if only is not None and job.name != only:
            continue
        due = latest_due(job.trigger, now, job.window(deps))
        if due is not None:
            sends += await job.run(deps, due)
    return sends


# How soon a send that failed (Slack down past the client's retries) or whose sender died
# (a killed replica's claim, once STALE_CLAIM old) is tried again: minutes, not the next day.
RETRY_EVERY = timedelta(minutes=5)


async def retry_failed(deps: Deps, now: datetime) -> list[Send]:
    """Run again, at their latest due moment, the jobs with a failed or orphaned send.

    A daily job's next run is tomorrow, under a new due key: without this, a morning
    reminder that failed during an outage would never arrive. The ledger sends nothing
    twice, so the rest of the job's sends come back as already sent.
    """
    from sqlalchemy import or_, select

    from schedules.ledger import STALE_CLAIM
    from storage.ledger import Delivery

    async with deps.db.session() as session:
        pending = set(
            await session.scalars(
                select(Delivery.job)
                .where(
                    or_(
                        Delivery.status == "failed",
                        (Delivery.status == "claimed") & (Delivery.claimed_at < now - STALE_CLAIM),
                    )
                )
                .distinct()
            )
        )
    sends: list[Send] = []
    for job in jobs(deps):
        if job.name in pending:
            sends += await tick(deps, now, only=job.name)
    return sends


def build_scheduler(deps: Deps) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(
        timezone=deps.settings.timezone,
        # APScheduler's default grace of 1 s silently skips a job that wakes late.
        job_defaults={"misfire_grace_time": 6 * 3600, "coalesce": True, "max_instances": 1},
    )
    for job in jobs(deps):

        async def run(job: Job = job) -> None:
            # The moment the job was due, not when it woke: that is the ledger's key.
            due = latest_due(job.trigger, deps.clock.now(), job.window(deps))
            if due is not None:
                await prepare(deps)
                for send in await job.run(deps, due):
                    log.info("scheduled send", extra={"send": str(send)})
                heap.trim()  # a morning job's peak, handed back (bot/heap.py)

        scheduler.add_job(run, job.trigger, id=job.name, name=job.name, replace_existing=True)

    async def retry() -> None:
        for send in await retry_failed(deps, deps.clock.now()):
            log.info("retried send", extra={"send": str(send)})

    every = IntervalTrigger(seconds=RETRY_EVERY.total_seconds())
    scheduler.add_job(retry, every, id="ledger.retry", name="ledger.retry")
    return scheduler
