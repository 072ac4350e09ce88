"""/caseload: a worker's children against their cap; a manager's team table."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.app import Deps
from bot.caseload import (
    USAGE,
    CaseloadStatus,
    Help,
    Mine,
    Person,
    TeamSummary,
    TeamView,
    describe_statuses,
    headline,
    holds_capped_caseload,
    parse_command,
    plural,
)
from bot.clock import today
from bot.commands import CommandError
from handlers.common import (
    NOT_ON_STAFF,
    Blocks,
    context_line,
    day,
    ephemeral_command,
    fields,
    header,
    help_blocks,
    section,
)
from storage import audit
from storage.caseload import team_summary, worker_status
from storage.org import Staff, staff_by_slack_id, team_by_name

TONE_EMOJI = {"ok": ":seedling:", "full": ":large_yellow_circle:", "over": ":raised_hands:", "none": ":wave:"}


def worker_blocks(status: CaseloadStatus, on: Any) -> Blocks:
    line = headline(status)
    blocks: Blocks = [section(f"{TONE_EMOJI[line.tone]} {line.text}")]
    cap = status.cap
    if status.held:
        blocks.append(fields(("Children", str(status.held)), ("By status", describe_statuses(status.by_status))))
    if cap is not None:
        tenure = (
            f"{cap.tenure_months} months since qualifying"
            if cap.tenure_months is not None
            else "tenure date not recorded: the first band is used until it is"
        )
        pairs = [("Your cap", f"{cap.children} ({cap.full_time} at full time, {status.worker.fte:g} FTE)")]
        pairs.append(("Tenure", tenure))
        if cap.next_rise_on is not None and cap.next_rise_to is not None:
            pairs.append(("Next step", f"On {day(cap.next_rise_on)} your cap rises to {cap.next_rise_to}"))
        if status.points is not None:
            pairs.append(("Weighted points", f"{status.points.held:g} of {status.points.cap:g}"))
        blocks.append(fields(*pairs))
    blocks.append(
        context_line(
            f"Counted on {day(on)}. Caps follow time since qualifying and FTE, rounded down. `/caseload help` for more."
        )
    )
    return blocks


def member_line(member: CaseloadStatus) -> str | None:
    """'Tom Hughes: 14 of 15 (room for 1)', as a manager reads it."""
    cap = member.cap
    if cap is None or not holds_capped_caseload(member):
        held = plural(member.held, "child", "children")
        return f"{member.worker.name}: {held} (no cap)" if member.held else None
    if member.is_over:
        note = f":warning: {member.over_by} over"
    elif member.headroom == 0:
        note = "at cap"
    else:
        note = f"room for {member.headroom}"
    return f"{member.worker.name}: {member.held} of {cap.children} ({note})"


def team_blocks(summary: TeamSummary, show_members: bool) -> Blocks:
    blocks: Blocks = [header(f"{summary.team}: caseloads")]
    if summary.average is None:
        blocks.append(section("Nobody in this team holds a capped caseload yet."))
    else:
        verdict = (
            "above the target: worth a look together at allocation" if summary.over_target else "within the target"
        )
        blocks.append(
            section(
                f"Team average: *{summary.average:g}* children per full-time worker, "
                f"against a target of {summary.target:g}: {verdict}."
            )
        )
    if show_members:
        lines = []
        # Alphabetical, never ranked: this is a team's picture, not a league table.
        for member in sorted(summary.members, key=lambda m: m.worker.name):
            line = member_line(member)
            if line:
                lines.append(f"• {line}")
        for start in range(0, len(lines), 40):
            blocks.append(section("\n".join(lines[start : start + 40])))
        if summary.workers_over:
            blocks.append(context_line(f"{plural(summary.workers_over, 'worker')} over their cap."))
    else:
        blocks.append(context_line("Colleagues' own figures are shared with them and their manager only."))
    return blocks


async def answer(deps: Deps, workspace_id: str, slack_user_id: str, text: str) -> tuple[str, Blocks]:
    """The reply to `/caseload TEXT` from `slack_user_id`, as (fallback text, blocks)."""
    try:
        command = parse_command(text)
    except CommandError as e:
        return e.message, help_blocks(e.message, e.help)
    on = today(deps.clock)
    policy = deps.policy.caseload
    async with deps.db.transaction() as session:
        me = await staff_by_slack_id(session, workspace_id, slack_user_id)
        if me is None:
            return NOT_ON_STAFF, [section(NOT_ON_STAFF)]
        match command:
            case Help():
                return "How to use /caseload", [section(USAGE)]
            case Mine():
                status = await worker_status(session, workspace_id, me, policy, on)
                if not status.held and me.is_manager:
                    text = "You don't hold a caseload yourself. `/caseload team` shows your team."
                    return text, [section(f":wave: {text}")]
                return headline(status).text, worker_blocks(status, on)
            case TeamView(team_name=None):
                summary = await team_summary(session, workspace_id, me.team, policy, on)
                audit.record(session, workspace_id, deps.clock.now(), me.user_id, "caseload.team", f"team:{me.team_id}")
                return f"{summary.team} caseloads", team_blocks(summary, show_members=me.is_manager)
            case TeamView(team_name=str(name)):
                team = await team_by_name(session, workspace_id, name)
                if team is None:
                    msg = f"There's no team called '{name}'."
                    return msg, [section(msg)]
                if me.role != "admin" and team.id != me.team_id:
                    msg = "You can see your own team's figures; other teams' are for admins."
                    return msg, [section(msg)]
                summary = await team_summary(session, workspace_id, team, policy, on)
                audit.record(session, workspace_id, deps.clock.now(), me.user_id, "caseload.team", f"team:{team.id}")
                return f"{summary.team} caseloads", team_blocks(summary, show_members=me.is_manager)
            case Person(slack_user_id=other_id):
                other = await staff_by_slack_id(session, workspace_id, other_id)
                if other is None or not _manages(me, other):
                    msg = "You can look at a colleague's caseload only as their team manager."
                    return msg, [section(msg)]
                status = await worker_status(session, workspace_id, other, policy, on)
                audit.record(
                    session, workspace_id, deps.clock.now(), me.user_id, "caseload.view", f"staff:{other.user_id}"
                )
                line = member_line(status) or f"{other.name} holds no children."
                blocks = [section(f"*{line}*")] + worker_blocks(status, on)[1:]
                return f"{other.name}: {status.held} children", blocks
    raise AssertionError("unreachable")  # pragma: no cover


def _manages(me: Staff, other: Staff) -> bool:
    return me.role == "manager" and me.team_id == other.team_id and me.id != other.id


async def home_blocks(deps: Deps, workspace_id: str, me: Staff) -> Blocks:
    """The caseload card on App Home; a manager's adds the team table."""
    on = today(deps.clock)
    policy = deps.policy.caseload
    async with deps.db.session() as session:
        blocks: Blocks = [header("Your caseload")]
        status = await worker_status(session, workspace_id, me, policy, on)
        if not status.held and me.is_manager:
            blocks.append(section("You don't hold a caseload yourself."))
        else:
            blocks += worker_blocks(status, on)
        if me.is_manager:
            summary = await team_summary(session, workspace_id, me.team, policy, on)
            blocks += team_blocks(summary, show_members=True)
    return blocks


def alert_blocks(text: str) -> Blocks:
    return [
        section(f":bell: {text}"),
        context_line("You'll hear about this once while it lasts. `/caseload team` shows the whole team."),
    ]


def register(app: AsyncApp, deps: Deps) -> None:
    ephemeral_command(app, deps, "/caseload", answer)
