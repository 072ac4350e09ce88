"""Manager alerts: a worker over their cap or rising fast, a team over its average target.

Each stretch over a limit is a breach with a start date; the manager is told
once per breach (through the ledger), not every day while it lasts.
"""

from __future__ import annotations

from contextlib import aclosing
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import select

from bot.app import Deps
from bot.caseload import CaseloadStatus, FastRise, TeamSummary, assess, fast_rise, summarise_team
from handlers.caseload import alert_blocks
from schedules import Job
from schedules.ledger import Send, sending
from storage.caseload import CaseloadBreach, as_worker, counts_on, holdings_by_team, open_breaches
from storage.org import Staff, Team
from storage.streams import ByTeam
from storage.upsert import insert_ignore

JOB = "caseload.alerts"


@dataclass(frozen=True)
class Breach:
    subject: str
    kind: str
    team_id: int
    text: str


def jobs(deps: Deps) -> list[Job]:
    trigger = CronTrigger(day_of_week="mon-fri", hour=7, minute=45, timezone=deps.settings.timezone)
    return [Job(JOB, trigger, lambda d, at: check_all(d, at))]


async def check_all(deps: Deps, at: datetime) -> list[Send]:
    async with deps.db.session() as session:
        workspaces = list(await session.scalars(select(Staff.workspace_id).distinct()))
    sends: list[Send] = []
    for workspace_id in workspaces:
        sends += await check_caseloads(deps, workspace_id, at)
    return sends


def _over_cap_text(status: CaseloadStatus) -> str:
    cap = status.cap
    assert cap is not None
    return (
        f"{status.worker.name} now holds {status.held} children, {status.over_by} over their cap of "
        f"{cap.children}. A conversation about rebalancing would help them."
    )


def _rise_text(status: CaseloadStatus, rise: FastRise, days: int) -> str:
    added = ", ".join(rise.added) if rise.added else "none recorded"
    return (
        f"{status.worker.name}'s caseload rose by {rise.risen_by} in {days} days "
        f"(now {status.held}). Children added: {added}."
    )


def _team_text(summary: TeamSummary) -> str:
    return (
        f"{summary.team}'s average is {summary.average:g} children per full-time worker, "
        f"above the target of {summary.target:g}."
    )


async def check_caseloads(deps: Deps, workspace_id: str, at: datetime) -> list[Send]:
    """Open and close breaches as of `at`, then alert managers about every open one."""
    policy = deps.policy.caseload
    on = at.astimezone(deps.clock.now().tzinfo).date()
    window_start = on - timedelta(days=policy.fast_rise_days)
    current: dict[tuple[str, str], Breach] = {}
    async with deps.db.transaction() as session:
        staff = list(await session.scalars(select(Staff).where(Staff.workspace_id == workspace_id)))
        teams = {t.id: t for t in await session.scalars(select(Team).where(Team.workspace_id == workspace_id))}
        before = await counts_on(session, workspace_id, [s.id for s in staff], window_start)
        members_of: dict[int, list[Staff]] = {}
        for member in staff:
            members_of.setdefault(member.team_id, []).append(member)
        # What everyone holds, a team at a time as one query streams it: a large authority's
        # 40,000 children are never all in memory at once.
        async with aclosing(holdings_by_team(session, workspace_id)) as stream:
            held_in = ByTeam(stream)
            for team_id in sorted(members_of):
                held = await held_in.get(team_id, {})
                statuses: list[CaseloadStatus] = []
                for member in members_of[team_id]:
                    status = assess(as_worker(member), held.get(member.id, []), policy, on)
                    statuses.append(status)
                    if status.cap is None:
                        continue
                    subject = f"staff:{member.id}"
                    if status.is_over:
                        current[(subject, "over_cap")] = Breach(subject, "over_cap", team_id, _over_cap_text(status))
                    rise = fast_rise(held.get(member.id, []), before.get(member.id, 0), window_start, policy)
                    if rise is not None:
                        text = _rise_text(status, rise, policy.fast_rise_days)
                        current[(subject, "fast_rise")] = Breach(subject, "fast_rise", team_id, text)
                summary = summarise_team(teams[team_id].name, statuses, policy)
                if summary.over_target:
                    subject = f"team:{team_id}"
                    current[(subject, "team_average")] = Breach(subject, "team_average", team_id, _team_text(summary))
        opened = await open_breaches(session, workspace_id)
        for key, row in opened.items():
            if key not in current:
                row.ended_on = on
        started: dict[tuple[str, str], date] = {k: b.started_on for k, b in opened.items() if k in current}
        # Another replica may be opening the same breach right now: the unique key settles it
        # (ON CONFLICT DO NOTHING), and a fixed order keeps two such transactions from deadlocking.
        for key in sorted(current):
            if key not in opened:
                subject, kind = key
                values: dict[str, object] = {"workspace_id": workspace_id, "subject": subject}
                values |= {"kind": kind, "started_on": on}
                await insert_ignore(session, CaseloadBreach, values, list(values))
                started[key] = on
        managers: dict[int, list[Staff]] = {}
        for member in staff:
            if member.role == "manager":
                managers.setdefault(member.team_id, []).append(member)
    client = deps.client_for(workspace_id)
    sends: list[Send] = []
    async with sending(deps, workspace_id, JOB) as run:
        for key, breach in sorted(current.items()):
            due_key = f"{breach.subject}:{breach.kind}:{started[key].isoformat()}"
            for manager in managers.get(breach.team_id, []):
                if f"staff:{manager.id}" == breach.subject:
                    continue

                async def send(manager: Staff = manager, breach: Breach = breach) -> None:
                    await client.chat_postMessage(
                        channel=manager.slack_user_id, text=breach.text, blocks=alert_blocks(breach.text)
                    )

                sends.append(await run.once(manager.slack_user_id, due_key, send))
    return sends
