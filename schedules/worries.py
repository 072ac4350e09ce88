"""Never left waiting: nudge the recipients of an unclaimed worry once, then escalate.

Thresholds come from `bot.worries.stages_due` (policy [worries]); every send
goes through the delivery ledger keyed by worry and stage, so a restart, a
second replica or a second `tick` sends nothing twice.
"""

from __future__ import annotations

from datetime import datetime

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import select

from bot.app import Deps
from bot.worries import Stage, stages_due, summary_line
from handlers.common import section
from handlers.worries import routed_blocks
from schedules import Job
from schedules.ledger import Send, send_once
from storage.org import Staff
from storage.worries import Worry, add_recipient, get_worry, managers_of, open_worries, recipients

JOB = "worries.chase"


def jobs(deps: Deps) -> list[Job]:
    # Every 5 minutes through the working day: a "today" worry is nudged within minutes of 30.
    trigger = CronTrigger(day_of_week="mon-fri", hour="7-18", minute="*/5", timezone=deps.settings.timezone)
    return [Job(JOB, trigger, lambda d, at: chase_all(d, at))]


async def chase_all(deps: Deps, at: datetime) -> list[Send]:
    async with deps.db.session() as session:
        workspaces = list(await session.scalars(select(Worry.workspace_id).where(Worry.state == "open").distinct()))
    sends: list[Send] = []
    for workspace_id in workspaces:
        sends += await chase(deps, workspace_id, at)
    return sends


async def chase(deps: Deps, workspace_id: str, at: datetime) -> list[Send]:
    """Nudge and escalate every open worry whose thresholds have passed at `at`."""
    policy = deps.policy.worries
    async with deps.db.session() as session:
        due = [
            (w, stages_due(w.raised_at, w.urgency, policy, deps.calendar, at))
            for w in await open_worries(session, workspace_id)
        ]
    sends: list[Send] = []
    for worry, stages in due:
        for stage in stages:
            sends += await _send_stage(deps, workspace_id, worry.id, stage)
    return sends


async def _still_open(deps: Deps, workspace_id: str, worry_id: int) -> bool:
    async with deps.db.session() as session:
        worry = await get_worry(session, workspace_id, worry_id)
        return worry is not None and worry.state == "open"


async def _send_stage(deps: Deps, workspace_id: str, worry_id: int, stage: Stage) -> list[Send]:
    client = deps.client_for(workspace_id)
    async with deps.db.session() as session:
        worry = await get_worry(session, workspace_id, worry_id)
        if worry is None:
            return []
        raiser = await session.get(Staff, worry.raiser_id)
        assert raiser is not None
        rows = [r for r in await recipients(session, workspace_id, worry_id) if r.kind in ("route", "duty")]
        people = {r.staff_id for r in rows if r.staff_id is not None}
        staff = (
            list(await session.scalars(select(Staff).where(Staff.workspace_id == workspace_id, Staff.id.in_(people))))
            if people
            else []
        )
        channels = sorted({r.channel for r in rows if r.staff_id is None and r.channel})
        if stage == "escalate":
            staff = await managers_of(session, workspace_id, [worry.to_team_id])
            if not staff:
                staff = await managers_of(session, workspace_id, [worry.raiser_team_id])
            staff = [m for m in staff if m.id != raiser.id]
            channels = [worry.duty_channel] if worry.duty_channel else []
    due_key = f"worry:{worry_id}:{stage}"
    text = summary_line(worry.id, worry.child_ref, worry.scale, worry.urgency)
    waited = (
        "is still waiting for someone to take it"
        if stage == "nudge"
        else "has waited too long without anyone taking it"
    )
    sends: list[Send] = []

    async def deliver(channel: str, staff_id: int | None, to_channel: bool) -> None:
        # Taken since the run began: nothing to chase (the ledger still records the key).
        if not await _still_open(deps, workspace_id, worry_id):
            return
        lead = f":hourglass_flowing_sand: <@{raiser.slack_user_id}>'s worry ({raiser.team.name}) {waited}."
        if stage == "escalate" and not to_channel:
            lead += " You're hearing because you manage the team it went to: could you take it or find someone who can?"
        response = await client.chat_postMessage(
            channel=channel,
            text=text,
            blocks=routed_blocks(worry, raiser, deps, to_channel=to_channel, lead=lead),
        )
        async with deps.db.transaction() as session:
            add_recipient(
                session,
                workspace_id,
                worry_id,
                staff_id,
                stage,
                str(response["channel"]),
                str(response["ts"]),
            )

    for member in staff:
        sends.append(
            await send_once(
                deps,
                workspace_id,
                JOB,
                member.slack_user_id,
                due_key,
                lambda member=member: deliver(member.slack_user_id, member.id, False),  # type: ignore[misc]
            )
        )
    for channel in channels:
        sends.append(
            await send_once(
                deps,
                workspace_id,
                JOB,
                channel,
                due_key,
                lambda channel=channel: deliver(channel, None, True),  # type: ignore[misc]
            )
        )
    if stage == "escalate":
        names = ", ".join(f"<@{m.slack_user_id}>" for m in staff) or "the duty channel"

        async def tell_raiser() -> None:
            if not await _still_open(deps, workspace_id, worry_id):
                return
            line = (
                f":hourglass_flowing_sand: Nobody has taken your worry #{worry_id} yet, so I've passed it to {names}. "
                "If it can't wait, talk to your manager now."
            )
            await client.chat_postMessage(channel=raiser.slack_user_id, text=line, blocks=[section(line)])

        sends.append(await send_once(deps, workspace_id, JOB, raiser.slack_user_id, due_key, tell_raiser))
    return sends
