"""/visit and /visits, the "Record visit" button and modal, and the visit messages jobs send.

Children appear by case reference only. Workers record and see their own
children; a team manager their team's.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.app import Deps
from bot.clock import today
from bot.commands import CommandError
from bot.visits import (
    VISIT_USAGE,
    VISITS_USAGE,
    ChildDue,
    Compliance,
    DateProblem,
    Digest,
    ExplainChild,
    MyVisits,
    Obligation,
    RecordVisit,
    State,
    TeamVisits,
    VisitsHelp,
    check_visit_date,
    describe,
    due_list,
    explain,
    next_visit,
    parse_visit,
    parse_visits,
    visit_compliance,
    week_bounds,
)
from handlers.common import (
    NOT_ON_STAFF,
    Blocks,
    asker,
    button,
    context_line,
    day,
    ephemeral_command,
    fields,
    header,
    help_blocks,
    section,
    workspace_of,
)
from storage import audit
from storage.org import Staff, staff_by_slack_id
from storage.visits import (
    STATUTORY,
    child_facts,
    held_children,
    history_start,
    history_with_last,
    record_visit,
    visit_history,
)

log = logging.getLogger("practice_bot.visits")

RECORD_ACTION = "visits.record"
CONFIRM_ACTION = "visits.confirm"
MODAL = "visits.record"
MAX_LISTED = 40

NOT_YOURS = (
    "I can't find {ref} among the children you can record visits for. "
    "You can record visits for children allocated to you; a team manager for their team's."
)


# --- who may do what -------------------------------------------------------------


def may_record(me: Staff, owner: Staff | None) -> bool:
    if owner is None:
        return False
    return me.id == owner.id or (me.role == "manager" and me.team_id == owner.team_id)


def may_view(me: Staff, owner: Staff | None) -> bool:
    """Explaining a child's obligations: their worker, the worker's manager, or an admin."""
    return me.role == "admin" or may_record(me, owner)


# --- recording a visit -------------------------------------------------------------


@dataclass(frozen=True)
class Recorded:
    ok: bool
    message: str
    # When the date needs a confirmation (earlier than the last recorded visit).
    needs_confirm: bool = False
    # A problem with the date itself (shown inline in the modal).
    date_problem: bool = False


async def record(deps: Deps, workspace_id: str, me: Staff, ref: str, visited_on: date, confirmed: bool) -> Recorded:
    on = today(deps.clock)
    rules = deps.policy.visits.rules()
    async with deps.db.transaction() as session:
        found = await child_facts(session, workspace_id, ref)
        owner = None
        if found is not None and found[0].allocated_to is not None:
            owner = await session.get(Staff, found[0].allocated_to)
        if found is None or not may_record(me, owner):
            return Recorded(False, NOT_YOURS.format(ref=ref))
        child, facts = found
        problem = check_visit_date(visited_on, on, facts.last_visit_on, confirmed)
        if problem is DateProblem.FUTURE:
            return Recorded(
                False,
                f"{day(visited_on)} is in the future: record the visit once it has happened.",
                date_problem=True,
            )
        if problem is DateProblem.BEFORE_LAST:
            assert facts.last_visit_on is not None
            return Recorded(
                False,
                f"The last recorded visit to {ref} was on {day(facts.last_visit_on)}, after "
                f"{day(visited_on)}. If this is an earlier visit that wasn't recorded, confirm and "
                "I'll add it to the history (the next due date won't move).",
                needs_confirm=True,
                date_problem=True,
            )
        added = await record_visit(session, workspace_id, child, visited_on, STATUTORY, me.id, deps.clock.now())
        audit.record(session, workspace_id, deps.clock.now(), me.user_id, "visits.record", f"child:{ref}")
        latest = max(facts.last_visit_on or visited_on, visited_on)
        upcoming = next_visit(replace(facts, last_visit_on=latest), on, rules, deps.calendar)
    first = (
        f":white_check_mark: Thanks: your visit to *{ref}* on {day(visited_on)} is recorded."
        if added
        else f"The visit to *{ref}* on {day(visited_on)} was already recorded: nothing to add."
    )
    if upcoming is None:
        return Recorded(True, first)
    return Recorded(True, f"{first}\nNext visit due by *{day(upcoming.due_on)}* ({upcoming.rule}).")


def _visit_reply(result: Recorded, ref: str, visited_on: date) -> Blocks:
    blocks: Blocks = [section(result.message)]
    if result.needs_confirm:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    button(
                        "Record it anyway",
                        CONFIRM_ACTION,
                        f"{ref}|{visited_on.isoformat()}",
                        style="primary",
                    )
                ],
            }
        )
        blocks.append(context_line(f"Or type `/visit {ref} {visited_on.isoformat()} confirm`."))
    return blocks


async def answer_visit(deps: Deps, workspace_id: str, slack_user_id: str, text: str) -> tuple[str, Blocks]:
    """The reply to `/visit TEXT`."""
    try:
        command = parse_visit(text, today(deps.clock))
    except CommandError as e:
        return e.message, help_blocks(e.message, e.help)
    me = await asker(deps, workspace_id, slack_user_id)
    if me is None:
        return NOT_ON_STAFF, [section(NOT_ON_STAFF)]
    if isinstance(command, VisitsHelp):
        return "How to use /visit", [section(VISIT_USAGE)]
    assert isinstance(command, RecordVisit)
    result = await record(deps, workspace_id, me, command.child_ref, command.visited_on, command.confirmed)
    return result.message, _visit_reply(result, command.child_ref, command.visited_on)


# --- /visits -----------------------------------------------------------------------


def _child_line(child: ChildDue) -> str:
    first, *more = child.items
    text = f"*{child.child_ref}*: {describe(first)} (due {day(first.due_on)})"
    if more:
        text += "; also " + ", ".join(f"{describe(o)} ({day(o.due_on)})" for o in more)
    icon = ":red_circle:" if child.is_overdue else ":large_yellow_circle:"
    return f"{icon} {text}"


def due_blocks(due: list[ChildDue], with_buttons: bool = True) -> Blocks:
    blocks: Blocks = []
    for child in due[:MAX_LISTED]:
        block = section(_child_line(child))
        if with_buttons and child.visit_due:
            block["accessory"] = button("Record visit", RECORD_ACTION, child.child_ref)
        blocks.append(block)
    if len(due) > MAX_LISTED:
        blocks.append(context_line(f"…and {len(due) - MAX_LISTED} more: `/visits` lists them all."))
    return blocks


def reminder_blocks(due: list[ChildDue], on: date) -> Blocks:
    overdue = sum(1 for c in due if c.is_overdue)
    soon = len(due) - overdue
    parts = []
    if overdue:
        parts.append(f"{overdue} overdue")
    if soon:
        parts.append(f"{soon} due soon")
    blocks: Blocks = [section(f":sunrise: Good morning. Visits and reviews for {day(on)}: {', '.join(parts)}.")]
    blocks += due_blocks(due)
    blocks.append(context_line("Most urgent first. Record a visit with the button or `/visit CHILD_REF [DATE]`."))
    return blocks


async def _my_visits(deps: Deps, workspace_id: str, me: Staff) -> tuple[str, Blocks]:
    on = today(deps.clock)
    rules = deps.policy.visits.rules()
    async with deps.db.session() as session:
        held = await held_children(session, workspace_id, staff_ids=[me.id])
    if not held and me.is_manager:
        text = "You don't hold children yourself. `/visits team` shows your team."
        return text, [section(f":wave: {text}")]
    due = due_list([h.facts for h in held], on, rules, deps.calendar)
    if not due:
        text = (
            f"Nothing due in the next {rules.due_soon_working_days} working days "
            f"for your {len(held)} children. Well done :seedling:"
        )
        return text, [section(text)]
    overdue = sum(1 for c in due if c.is_overdue)
    text = f"{len(due)} of your children need a visit or review soon ({overdue} overdue)"
    blocks = [header("Your visits and reviews"), *due_blocks(due)]
    blocks.append(context_line(f"As of {day(on)}. `/visits CHILD_REF` explains any date."))
    return text, blocks


@dataclass(frozen=True)
class WorkerRow:
    name: str
    children: int
    overdue: int
    compliance: Compliance


async def _team_visits(deps: Deps, workspace_id: str, me: Staff) -> tuple[str, Blocks]:
    if not me.is_manager:
        text = "The team view is for managers. `/visits` shows your own children."
        return text, [section(text)]
    on = today(deps.clock)
    rules = deps.policy.visits.rules()
    since = history_start(on)
    window = (on - timedelta(days=28), on - timedelta(days=1))
    async with deps.db.transaction() as session:
        held = await held_children(session, workspace_id, team_id=me.team_id)
        history = await visit_history(session, workspace_id, since, [h.child_id for h in held])
        audit.record(session, workspace_id, deps.clock.now(), me.user_id, "visits.team", f"team:{me.team_id}")
    rows: dict[str, WorkerRow] = {}
    overdue_lines: list[str] = []
    total = Compliance()
    for item in held:
        visits = history_with_last(item, history, since)
        comp = visit_compliance(item.facts, visits, *window, since, rules, deps.calendar)
        total += comp
        due = due_list([item.facts], on, rules, deps.calendar)
        late = [o for c in due for o in c.items if o.state is State.OVERDUE]
        for o in late:
            overdue_lines.append(f"• *{item.facts.child_ref}*: {describe(o)} ({item.worker})")
        row = rows.get(item.worker) or WorkerRow(item.worker, 0, 0, Compliance())
        rows[item.worker] = WorkerRow(
            row.name, row.children + 1, row.overdue + (1 if late else 0), row.compliance + comp
        )
    blocks: Blocks = [header(f"{me.team.name}: visits")]
    blocks.append(
        fields(
            ("On time, last 4 weeks", str(total)),
            ("Children overdue", str(sum(r.overdue for r in rows.values()))),
        )
    )
    # Alphabetical, never ranked: a team's picture, not a league table.
    worker_lines = [
        f"• {r.name}: {r.children} children, {r.overdue} overdue; on time {_percent(r.compliance)}"
        for r in sorted(rows.values(), key=lambda r: r.name)
    ]
    for start in range(0, len(worker_lines), 40):
        blocks.append(section("\n".join(worker_lines[start : start + 40])))
    if overdue_lines:
        blocks.append(section("*Overdue*"))
        for start in range(0, min(len(overdue_lines), 160), 40):
            blocks.append(section("\n".join(overdue_lines[start : start + 40])))
    else:
        blocks.append(section("Nothing overdue in the team :seedling:"))
    blocks.append(
        context_line(
            f"As of {day(on)}. On time: visits made by their due date, out of visits due (over the last 4 weeks)."
        )
    )
    return f"{me.team.name}: visits", blocks


def _percent(c: Compliance) -> str:
    return "n/a (none due)" if c.percent is None else f"{c.percent}% ({c.on_time}/{c.due})"


async def _explain(deps: Deps, workspace_id: str, me: Staff, ref: str) -> tuple[str, Blocks]:
    on = today(deps.clock)
    async with deps.db.transaction() as session:
        found = await child_facts(session, workspace_id, ref)
        owner = None
        if found is not None and found[0].allocated_to is not None:
            owner = await session.get(Staff, found[0].allocated_to)
        if found is None or not may_view(me, owner):
            msg = f"I can't find {ref} among the children you can see."
            return msg, [section(msg)]
        audit.record(session, workspace_id, deps.clock.now(), me.user_id, "visits.explain", f"child:{ref}")
    _, facts = found
    lines = explain(facts, on, deps.policy.visits.rules(), deps.calendar)
    blocks: Blocks = [header(f"{ref}: what's due and why")]
    blocks += [section(f"• {line}") for line in lines[:20]]
    last = facts.last_visit_on
    blocks.append(
        context_line(
            f"As of {day(on)}. Last visit: {day(last) if last else 'none recorded'}. "
            "Weeks and months are calendar; working days skip weekends and bank holidays."
        )
    )
    return f"{ref}: what's due and why", blocks


async def answer_visits(deps: Deps, workspace_id: str, slack_user_id: str, text: str) -> tuple[str, Blocks]:
    """The reply to `/visits TEXT`."""
    try:
        command = parse_visits(text)
    except CommandError as e:
        return e.message, help_blocks(e.message, e.help)
    me = await asker(deps, workspace_id, slack_user_id)
    if me is None:
        return NOT_ON_STAFF, [section(NOT_ON_STAFF)]
    match command:
        case VisitsHelp():
            return "How to use /visits", [section(VISITS_USAGE)]
        case MyVisits():
            return await _my_visits(deps, workspace_id, me)
        case TeamVisits():
            return await _team_visits(deps, workspace_id, me)
        case ExplainChild(child_ref=ref):
            return await _explain(deps, workspace_id, me, ref)
    raise AssertionError("unreachable")  # pragma: no cover


# --- messages the jobs send ----------------------------------------------------------


def digest_text(digest: Digest) -> str:
    return (
        f"{digest.team} visits: {digest.due_this_week} due this week, "
        f"{len(digest.overdue)} overdue; on time over 4 weeks: {digest.compliance}"
    )


def digest_blocks(digest: Digest) -> Blocks:
    monday, _ = week_bounds(digest.on)
    blocks: Blocks = [header(f"{digest.team}: visits, week of {day(monday)}")]
    blocks.append(
        fields(
            ("Due this week", str(digest.due_this_week)),
            ("Overdue", str(len(digest.overdue))),
            ("On time, last 4 weeks", str(digest.compliance)),
        )
    )
    if digest.overdue:
        lines = [f"• {line.child_ref}: {describe(line.obligation)} ({line.worker})" for line in digest.overdue[:120]]
        for start in range(0, len(lines), 40):
            blocks.append(section(("*Overdue*\n" if start == 0 else "") + "\n".join(lines[start : start + 40])))
        if len(digest.overdue) > 120:
            blocks.append(context_line(f"…and {len(digest.overdue) - 120} more."))
    else:
        blocks.append(section("Nothing overdue :seedling: Thank you, everyone."))
    blocks.append(
        context_line(
            f"As of {day(digest.on)}. Case references only. Each worker's list comes by DM each "
            "morning; managers: `/visits team`."
        )
    )
    return blocks


def lapse_text(ref: str, worker: str, obligation: Obligation) -> str:
    return (
        f"{ref} ({worker}): {describe(obligation)} (was due {day(obligation.due_on)}). "
        f"A word with {worker.split()[0]} may help: is something getting in the way?"
    )


def lapse_blocks(ref: str, worker: str, obligation: Obligation) -> Blocks:
    return [
        section(f":bell: {lapse_text(ref, worker, obligation)}"),
        context_line(
            f"You'll hear about this once. `/visits {ref}` shows why it is due; `/visits team` shows the whole team."
        ),
    ]


# --- the Record visit modal ------------------------------------------------------------


def record_modal(ref: str, on: date, last_visit_on: date | None) -> dict[str, Any]:
    last = f"Last recorded visit: {day(last_visit_on)}." if last_visit_on else "No visit recorded yet."
    return {
        "type": "modal",
        "callback_id": MODAL,
        "private_metadata": ref,
        "title": {"type": "plain_text", "text": "Record a visit"},
        "submit": {"type": "plain_text", "text": "Record"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            section(f"Visit to *{ref}*. {last}"),
            {
                "type": "input",
                "block_id": "visited_on",
                "label": {"type": "plain_text", "text": "Date of the visit"},
                "element": {
                    "type": "datepicker",
                    "action_id": "date",
                    "initial_date": on.isoformat(),
                },
            },
            {
                "type": "input",
                "block_id": "confirm",
                "optional": True,
                "label": {"type": "plain_text", "text": "Earlier than the last recorded visit?"},
                "element": {
                    "type": "checkboxes",
                    "action_id": "confirm",
                    "options": [
                        {
                            "text": {
                                "type": "plain_text",
                                "text": "Yes, add it to the history anyway",
                            },
                            "value": "yes",
                        }
                    ],
                },
            },
        ],
    }


def _submitted(view: dict[str, Any]) -> tuple[date | None, bool]:
    values = view.get("state", {}).get("values", {})
    picked = (values.get("visited_on") or {}).get("date") or {}
    chosen = picked.get("selected_date")
    try:
        visited_on = date.fromisoformat(chosen) if chosen else None
    except ValueError:
        visited_on = None
    boxes = (values.get("confirm") or {}).get("confirm") or {}
    confirmed = any(o.get("value") == "yes" for o in boxes.get("selected_options") or [])
    return visited_on, confirmed


async def home_blocks(deps: Deps, workspace_id: str, me: Staff) -> Blocks:
    """The visits card on App Home: a count and the few most urgent."""
    on = today(deps.clock)
    async with deps.db.session() as session:
        held = await held_children(session, workspace_id, staff_ids=[me.id])
    if not held:
        return []
    due = due_list([h.facts for h in held], on, deps.policy.visits.rules(), deps.calendar)
    blocks: Blocks = [header("Your visits")]
    if not due:
        blocks.append(section("Nothing due soon :seedling:"))
        return blocks
    overdue = sum(1 for c in due if c.is_overdue)
    blocks.append(section(f"{len(due)} children need a visit or review soon ({overdue} overdue)."))
    blocks += due_blocks(due[:5])
    if len(due) > 5:
        blocks.append(context_line("`/visits` lists them all."))
    return blocks


def register(app: AsyncApp, deps: Deps) -> None:
    ephemeral_command(app, deps, "/visit", answer_visit)
    ephemeral_command(app, deps, "/visits", answer_visits)

    @app.action(RECORD_ACTION)
    async def record_button(ack: Any, body: dict[str, Any], action: dict[str, Any], client: Any, context: Any) -> None:
        await ack()
        workspace_id = workspace_of(context, deps)
        ref = str(action.get("value", ""))
        async with deps.db.session() as session:
            me = await staff_by_slack_id(session, workspace_id, body["user"]["id"])
            found = await child_facts(session, workspace_id, ref)
            owner = None
            if found is not None and found[0].allocated_to is not None:
                owner = await session.get(Staff, found[0].allocated_to)
        if me is None or found is None or not may_record(me, owner):
            # A DM, not `respond`: a button on App Home has no response_url.
            await client.chat_postMessage(channel=body["user"]["id"], text=NOT_YOURS.format(ref=ref))
            return
        modal = record_modal(ref, today(deps.clock), found[1].last_visit_on)
        await client.views_open(trigger_id=body["trigger_id"], view=modal)

    @app.action(CONFIRM_ACTION)
    async def confirm_button(
        ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any, context: Any
    ) -> None:
        await ack()
        workspace_id = workspace_of(context, deps)
        ref, _, when = str(action.get("value", "")).partition("|")
        me = await asker(deps, workspace_id, body["user"]["id"])
        if me is None:
            await respond(text=NOT_ON_STAFF, response_type="ephemeral")
            return
        result = await record(deps, workspace_id, me, ref, date.fromisoformat(when), confirmed=True)
        await respond(text=result.message, blocks=[section(result.message)], replace_original=True)

    @app.view(MODAL)
    async def record_submitted(ack: Any, body: dict[str, Any], view: dict[str, Any], client: Any, context: Any) -> None:
        workspace_id = workspace_of(context, deps)
        user = body["user"]["id"]
        ref = str(view.get("private_metadata", ""))
        visited_on, confirmed = _submitted(view)
        if visited_on is None:
            await ack(response_action="errors", errors={"visited_on": "Pick the date of the visit."})
            return
        me = await asker(deps, workspace_id, user)
        if me is None:
            await ack(response_action="errors", errors={"visited_on": NOT_ON_STAFF[:150]})
            return
        # Validated and recorded before acking, so a bad date is shown in the modal itself.
        result = await record(deps, workspace_id, me, ref, visited_on, confirmed)
        if not result.ok:
            problem = result.message
            if result.needs_confirm:
                problem = "That's before the last recorded visit. Tick the box below to add it anyway."
            await ack(response_action="errors", errors={"visited_on": problem[:150]})
            return
        await ack()
        await client.chat_postMessage(channel=user, text=result.message, blocks=[section(result.message)])
