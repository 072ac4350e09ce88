"""Visit reminders, weekly team digests and manager lapse alerts.

Every send goes through the delivery ledger, keyed by the period it is for:
a worker's reminder by the day, a team digest by the ISO week, a lapse by the
child, obligation and due date it missed (so a manager hears once per lapse,
however many days it lasts). Each job loads what it needs in a constant
number of queries, whatever the number of workers or teams.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import aclosing
from datetime import date, datetime, timedelta

from apscheduler.triggers.cron import CronTrigger

from bot.app import Deps
from bot.clock import today
from bot.visits import (
    ChildDue,
    Compliance,
    Digest,
    DueMemo,
    Obligation,
    due_list,
    lapsed,
    team_digest,
    visit_compliance,
    week_key,
)
from handlers.visits import digest_blocks, digest_text, lapse_blocks, lapse_text, reminder_blocks
from schedules import Job
from schedules.ledger import Send, sending
from storage.visits import (
    Held,
    held_by,
    history_start,
    history_with_last,
    managers_by_team,
    teams_by_id,
    visit_dates,
    visit_texts,
    workspaces,
)

REMINDERS = "visits.reminders"
DIGEST = "visits.digest"
LAPSES = "visits.lapses"

# A morning reminder caught up after a short outage is still useful that day;
# yesterday's is not (today's will come). A weekly digest is worth posting any
# day of its week, so a bot started mid-week (or the demo) posts this week's.
REMINDER_CATCH_UP = timedelta(hours=12)
DIGEST_CATCH_UP = timedelta(days=7)


def jobs(deps: Deps) -> list[Job]:
    policy = deps.policy.visits
    zone = deps.settings.timezone
    hour, minute = policy.hour_minute(policy.reminder_time)
    d_hour, d_minute = policy.hour_minute(policy.digest_time)
    weekdays = CronTrigger(day_of_week="mon-fri", hour=hour, minute=minute, timezone=zone)
    lapse_trigger = CronTrigger(day_of_week="mon-fri", hour=hour, minute=minute, timezone=zone)
    weekly = CronTrigger(day_of_week=policy.digest_day, hour=d_hour, minute=d_minute, timezone=zone)
    return [
        Job(
            REMINDERS,
            weekdays,
            lambda d, at: _each_workspace(d, at, send_reminders),
            REMINDER_CATCH_UP,
        ),
        Job(DIGEST, weekly, lambda d, at: _each_workspace(d, at, post_digests), DIGEST_CATCH_UP),
        Job(LAPSES, lapse_trigger, lambda d, at: _each_workspace(d, at, alert_lapses)),
    ]


PerWorkspace = Callable[[Deps, str, datetime], Awaitable[list[Send]]]


async def _each_workspace(deps: Deps, at: datetime, run: PerWorkspace) -> list[Send]:
    async with deps.db.session() as session:
        ids = await workspaces(session)
    sends: list[Send] = []
    for workspace_id in ids:
        sends += await run(deps, workspace_id, at)
    return sends


def _local_date(deps: Deps, at: datetime) -> date:
    return at.astimezone(deps.clock.now().tzinfo).date()


# --- morning reminders -------------------------------------------------------------


async def send_reminders(deps: Deps, workspace_id: str, at: datetime) -> list[Send]:
    """One DM per worker with anything due soon or overdue; nothing due, no message."""
    on = _local_date(deps, at)
    if not deps.calendar.is_working_day(on):
        return []  # no reminders on bank holidays: the next working day's covers it
    lists = await due_lists(deps, workspace_id, on)
    client = deps.client_for(workspace_id)
    sends: list[Send] = []
    async with sending(deps, workspace_id, REMINDERS) as run:
        for slack_user_id, due in lists.items():

            async def send(user: str = slack_user_id, due: list[ChildDue] = due) -> None:
                await client.chat_postMessage(
                    channel=user, text=reminder_fallback(due), blocks=reminder_blocks(due, on)
                )

            sends.append(await run.once(slack_user_id, on.isoformat(), send))
    return sends


async def due_lists(deps: Deps, workspace_id: str, on: date) -> dict[str, list[ChildDue]]:
    """Every worker's due list for `on`, by Slack user id, in user id order; nothing due, no entry.

    Worked out a worker at a time as one query streams their children: a run holds the
    due lists (a quarter of the children), never every child's facts at once.
    """
    rules = deps.policy.visits.rules()
    lists: dict[str, list[ChildDue]] = {}
    memo = DueMemo(on, rules, deps.calendar)
    async with deps.db.session() as session, aclosing(held_by(session, workspace_id, "worker")) as workers:
        async for held in workers:
            due = due_list([h.facts for h in held], on, rules, deps.calendar, memo)
            if due:
                lists[held[0].slack_user_id] = due
    return {user: lists[user] for user in sorted(lists)}


def reminder_fallback(due: list[ChildDue]) -> str:
    overdue = sum(1 for c in due if c.is_overdue)
    text = f"{len(due)} of your children have visits or reviews due soon"
    return text + (f", {overdue} overdue" if overdue else "")


# --- weekly team digest ------------------------------------------------------------


async def team_digests(deps: Deps, workspace_id: str, on: date) -> dict[int, Digest]:
    """Every team's digest in three queries (teams, children, visit history), a team at a time.

    The children are streamed in team order and the visit history read as compact text,
    turned into dates a team at a time: a run holds one team's children and visits.
    """
    rules = deps.policy.visits.rules()
    since = history_start(on)
    window = (on - timedelta(days=28), on - timedelta(days=1))
    out: dict[int, Digest] = {}
    memo = DueMemo(on, rules, deps.calendar)
    async with deps.db.session() as session:
        teams = await teams_by_id(session, workspace_id)
        visited = await visit_texts(session, workspace_id, since)
        async with aclosing(held_by(session, workspace_id, "team")) as by_team:
            async for items in by_team:
                team_id = items[0].team_id
                history = visit_dates(visited, (item.child_id for item in items))
                compliance = Compliance()
                for item in items:
                    visits = history_with_last(item, history, since)
                    compliance += visit_compliance(item.facts, visits, *window, since, rules, deps.calendar)
                pairs = [(item.worker, item.facts) for item in items]
                out[team_id] = team_digest(teams[team_id].name, pairs, compliance, on, rules, deps.calendar, memo)
    return out


async def post_digests(deps: Deps, workspace_id: str, at: datetime) -> list[Send]:
    """Each team channel gets its week's digest once: refs, counts and worker names only."""
    week_of = _local_date(deps, at)
    # Figures as of today (a digest caught up mid-week reports the week so far).
    on = max(week_of, today(deps.clock))
    digests = await team_digests(deps, workspace_id, on)
    async with deps.db.session() as session:
        teams = await teams_by_id(session, workspace_id)
    client = deps.client_for(workspace_id)
    sends: list[Send] = []
    async with sending(deps, workspace_id, DIGEST) as run:
        for team_id, digest in sorted(digests.items(), key=lambda kv: teams[kv[0]].name):
            channel = teams[team_id].channel_id
            if channel is None or digest.is_empty:
                continue

            async def send(channel: str = channel, digest: Digest = digest) -> None:
                await client.chat_postMessage(channel=channel, text=digest_text(digest), blocks=digest_blocks(digest))

            # Keyed by the week the digest was due in, whenever it is actually posted.
            sends.append(await run.once(channel, week_key(week_of), send))
    return sends


# --- manager lapse alerts ----------------------------------------------------------


async def alert_lapses(deps: Deps, workspace_id: str, at: datetime) -> list[Send]:
    """A manager hears once when a child in their team is overdue past the threshold."""
    on = _local_date(deps, at)
    policy = deps.policy.visits
    rules = policy.rules()
    memo = DueMemo(on, rules, deps.calendar)
    # Found a team at a time as one query streams the children (the lapses are few), then sent.
    lapses: list[tuple[Held, Obligation]] = []
    async with deps.db.session() as session:
        managers = await managers_by_team(session, workspace_id)
        async with aclosing(held_by(session, workspace_id, "team")) as by_team:
            async for items in by_team:
                for item in items:
                    for due in due_list([item.facts], on, rules, deps.calendar, memo):
                        for obligation in due.items:
                            if lapsed(obligation, on, policy.manager_lapse_working_days, deps.calendar):
                                lapses.append((item, obligation))
    client = deps.client_for(workspace_id)
    sends: list[Send] = []
    async with sending(deps, workspace_id, LAPSES) as run:
        for item, obligation in lapses:
            # The lapse is the obligation missed: a new visit makes a new due date.
            due_key = f"child:{item.child_id}:{obligation.kind}:{obligation.due_on.isoformat()}"
            for manager in managers.get(item.team_id, []):
                if manager.id == item.staff_id:
                    continue  # their own child: the morning reminder already says so

                async def send(
                    user: str = manager.slack_user_id,
                    item: Held = item,
                    ob: Obligation = obligation,
                ) -> None:
                    await client.chat_postMessage(
                        channel=user,
                        text=lapse_text(item.facts.child_ref, item.worker, ob),
                        blocks=lapse_blocks(item.facts.child_ref, item.worker, ob),
                    )

                sends.append(await run.once(manager.slack_user_id, due_key, send))
    return sends
