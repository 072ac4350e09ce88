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

        scheduler.add_job(run, job.trigger, id=job.name, name=job.name, replace_existing=True)
    return scheduler
