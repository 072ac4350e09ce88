"""/worried: raise a worry with a colleague across the floor, take it, record what happened.

Privacy (domain.md, "Information sharing"): notifications carry the case
reference, the scale and the urgency only. The free text is shown in a modal,
to people `bot.worries.can_read` allows, and every showing is audited.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bot.app import Deps
from bot.commands import CommandError
from bot.worries import (
    OUTCOME_LABELS,
    OUTCOMES,
    URGENCY_LABELS,
    USAGE,
    Help,
    ListWorries,
    OutcomeForm,
    Raise,
    RaiseForm,
    can_read,
    can_take,
    chase_times,
    clean_child_ref,
    destination,
    looks_like_child_ref,
    parse_command,
    pick_recipients,
    summary_line,
    validate_outcome,
    validate_raise,
)
from handlers.common import (
    NOT_ON_STAFF,
    Blocks,
    button,
    context_line,
    fields,
    header,
    help_blocks,
    section,
    workspace_of,
)
from storage import audit
from storage.org import Staff, staff_by_slack_id
from storage.worries import (
    Worry,
    WorryCard,
    add_recipient,
    all_team_info,
    as_team_info,
    as_viewer,
    candidates,
    cards,
    claim,
    close,
    early_help_workers,
    get_worry,
    known_child_ref,
    managers_of,
    office_of,
    parties,
    raised_by,
    recipients,
    routed_to,
    team_open,
    team_outcomes,
)

log = logging.getLogger("practice_bot.worries")

RAISE_VIEW = "worries.raise"
OUTCOME_VIEW = "worries.outcome"
NEW = "worries.new"
TAKE = "worries.take"
OPEN = "worries.open"
RECORD = "worries.record_outcome"

PRIVACY_NOTE = (
    "Only the people this went to, the raiser and their managers can read the worry; each reading is recorded."
)


# --- Block Kit -------------------------------------------------------------------


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text[:150]}


def _input(
    block_id: str,
    label: str,
    element: dict[str, Any],
    optional: bool = False,
    hint: str | None = None,
) -> dict[str, Any]:
    block: dict[str, Any] = {
        "type": "input",
        "block_id": block_id,
        "label": _plain(label),
        "element": {**element, "action_id": block_id},
        "optional": optional,
    }
    if hint:
        block["hint"] = _plain(hint)
    return block


def _text_input(max_length: int = 3000, multiline: bool = True, initial: str | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "multiline": multiline,
        "max_length": max_length,
    }
    if initial:
        element["initial_value"] = initial
    return element


def _option(value: str, label: str) -> dict[str, Any]:
    return {"text": _plain(label), "value": value}


def raise_modal(child_ref: str | None) -> dict[str, Any]:
    urgency = [_option(u, f"{label[0].upper()}{label[1:]}") for u, label in URGENCY_LABELS.items()]
    return {
        "type": "modal",
        "callback_id": RAISE_VIEW,
        "title": _plain("Raise a worry"),
        "submit": _plain("Send"),
        "close": _plain("Cancel"),
        "blocks": [
            context_line(
                "It goes to an early help colleague in the office today (or to social work, for a step-up). "
                "Use case references, never names."
            ),
            _input("worried", "What are we worried about?", _text_input()),
            _input("working_well", "What's working well?", _text_input(), optional=True),
            _input("needs_to_happen", "What needs to happen?", _text_input(), optional=True),
            _input(
                "scale",
                "How safe is the child? (0-10)",
                {
                    "type": "number_input",
                    "is_decimal_allowed": False,
                    "min_value": "0",
                    "max_value": "10",
                },
                hint="10 means safe enough to close the case; 0 means the child is not safe.",
            ),
            _input(
                "child_ref",
                "Child's case reference",
                _text_input(64, multiline=False, initial=child_ref),
                optional=True,
                hint="Leave blank if the family isn't known to us yet.",
            ),
            _input(
                "urgency",
                "How soon do you need a reply?",
                {"type": "radio_buttons", "options": urgency, "initial_option": urgency[0]},
            ),
        ],
    }


def full_view(worry: Worry, card: WorryCard, worker_name: str | None) -> dict[str, Any]:
    """The worry itself: only ever opened for someone `can_read` allows, and audited."""
    blocks: Blocks = [
        fields(
            ("About", worry.child_ref or "a family not yet known"),
            ("Scale", f"{worry.scale}/10"),
            ("Reply needed", URGENCY_LABELS[worry.urgency]),
            ("Raised by", f"<@{card.raiser_slack_id}>"),
            ("State", _state_words(card)),
        ),
        section(f"*What are we worried about?*\n{worry.worried}"),
        section(f"*What's working well?*\n{worry.working_well or '_not said_'}"),
        section(f"*What needs to happen?*\n{worry.needs_to_happen or '_not said_'}"),
    ]
    if worry.state == "closed" and worry.outcome:
        held = f" (held by {worker_name})" if worker_name else ""
        blocks.append(section(f"*Outcome: {OUTCOME_LABELS[worry.outcome]}{held}*\n{worry.outcome_note or ''}"))
    blocks.append(context_line("This view is recorded. Please don't copy the worry into channels."))
    return {
        "type": "modal",
        "title": _plain(f"Worry #{worry.id}"),
        "close": _plain("Close"),
        "blocks": blocks,
    }


def outcome_modal(worry: Worry, workers: list[Staff]) -> dict[str, Any]:
    options = [_option(o, OUTCOME_LABELS[o][0].upper() + OUTCOME_LABELS[o][1:]) for o in OUTCOMES]
    worker_options = [_option(str(w.id), f"{w.name} ({w.team.name})"[:75]) for w in workers[:100]]
    blocks: Blocks = [
        section(summary_line(worry.id, worry.child_ref, worry.scale, worry.urgency)),
        _input("outcome", "What happened?", {"type": "radio_buttons", "options": options}),
        _input("note", "A short note", _text_input(500), hint="What was agreed, in a line or two."),
    ]
    if worker_options:
        blocks.append(
            _input(
                "worker",
                "Early help worker who will hold it (step down)",
                {
                    "type": "static_select",
                    "options": worker_options,
                    "placeholder": _plain("Choose a worker"),
                },
                optional=True,
            )
        )
    blocks.append(
        _input(
            "child_ref",
            "Child's case reference",
            _text_input(64, multiline=False, initial=worry.child_ref),
            optional=True,
            hint="Needed for a step down, so the child appears in the early help worker's caseload.",
        )
    )
    return {
        "type": "modal",
        "callback_id": OUTCOME_VIEW,
        "private_metadata": str(worry.id),
        "title": _plain("Record the outcome"),
        "submit": _plain("Record"),
        "close": _plain("Cancel"),
        "blocks": blocks,
    }


def _time(at: datetime, deps: Deps) -> str:
    local = at.astimezone(deps.clock.now().tzinfo)
    return (
        f"{local:%H:%M}"
        if local.date() == deps.clock.now().date()
        else f"{local:%a} {local.day} {local:%b} {local:%H:%M}"
    )


def _summary_fields(worry: Worry, deps: Deps) -> dict[str, Any]:
    return fields(
        ("About", worry.child_ref or "a family not yet known"),
        ("Scale", f"{worry.scale}/10"),
        ("Reply needed", URGENCY_LABELS[worry.urgency]),
        ("Raised", _time(worry.raised_at, deps)),
    )


def _actions(*elements: dict[str, Any]) -> dict[str, Any]:
    return {"type": "actions", "elements": list(elements)}


def routed_blocks(worry: Worry, raiser: Staff, deps: Deps, to_channel: bool, lead: str | None = None) -> Blocks:
    """A worry waiting to be taken: summary only, never the free text."""
    if lead is None:
        lead = (
            f":wave: <@{raiser.slack_user_id}> ({raiser.team.name}) is a bit worried and would like a word "
            "with someone in the office today."
        )
        if to_channel:
            lead = (
                f":wave: <@{raiser.slack_user_id}> ({raiser.team.name}) is a bit worried, and nobody from this "
                "team is in the office today. Can someone take it?"
            )
    buttons = [button("Take this", TAKE, str(worry.id), style="primary")]
    if not to_channel:
        buttons.append(button("Open", OPEN, str(worry.id)))
    return [
        section(f"*Worry #{worry.id}*  {lead}"),
        _summary_fields(worry, deps),
        _actions(*buttons),
        context_line(PRIVACY_NOTE),
    ]


def _state_words(card: WorryCard) -> str:
    if card.state == "open":
        return f"waiting for someone in {card.to_team}" if card.to_team else "waiting"
    if card.state == "claimed":
        return f"taken by <@{card.owner_slack_id}>"
    outcome = OUTCOME_LABELS.get(card.outcome or "", "closed")
    return f"closed: {outcome}" + (f" (<@{card.owner_slack_id}>)" if card.owner_slack_id else "")


def settled_blocks(worry: Worry, card: WorryCard, for_owner: bool, can_open: bool) -> Blocks:
    """A routed message once someone has taken the worry (or it is closed)."""
    if worry.state == "claimed" and for_owner:
        text = f":handshake: *Worry #{worry.id}*: you took this. Talk it through with <@{card.raiser_slack_id}>, then record the outcome."
    elif worry.state == "claimed":
        text = f":white_check_mark: *Worry #{worry.id}* was taken by <@{card.owner_slack_id}>. Thank you."
    else:
        text = f":white_check_mark: *Worry #{worry.id}* is closed: {OUTCOME_LABELS.get(worry.outcome or '', 'closed')}."
    blocks: Blocks = [
        section(text),
        section(summary_line(worry.id, worry.child_ref, worry.scale, worry.urgency)),
    ]
    elements = []
    if can_open:
        elements.append(button("Open", OPEN, str(worry.id)))
    if worry.state == "claimed" and for_owner:
        elements.append(button("Record outcome", RECORD, str(worry.id), style="primary"))
    if elements:
        blocks.append(_actions(*elements))
    return blocks


def thread_blocks(worry: Worry, card: WorryCard) -> Blocks:
    if worry.state == "closed":
        state = f"Closed: *{OUTCOME_LABELS.get(worry.outcome or '', 'closed')}*."
        elements = [button("Open", OPEN, str(worry.id))]
    else:
        state = f"<@{card.owner_slack_id}>, when you're done, record the outcome here."
        elements = [
            button("Open", OPEN, str(worry.id)),
            button("Record outcome", RECORD, str(worry.id), style="primary"),
        ]
    return [
        section(
            f":speech_balloon: *Worry #{worry.id}* about {worry.child_ref or 'a family not yet known'}: "
            f"<@{card.raiser_slack_id}> raised it and <@{card.owner_slack_id}> took it. Talk it through in this thread."
        ),
        section(state),
        _actions(*elements),
        context_line(PRIVACY_NOTE),
    ]


def _card_line(card: WorryCard, deps: Deps, overdue: bool = False) -> str:
    about = card.child_ref or "a family not yet known"
    flag = " :hourglass_flowing_sand: *waiting longer than it should*" if overdue else ""
    return (
        f"*#{card.id}* {about} · scale {card.scale}/10 · {URGENCY_LABELS[card.urgency]} · "
        f"raised {_time(card.raised_at, deps)} by {card.raiser_name} · {_state_words(card)}{flag}"
    )


def _line_with(text: str, element: dict[str, Any]) -> dict[str, Any]:
    block = section(text)
    block["accessory"] = element
    return block


# --- helpers -----------------------------------------------------------------------


def _values(view: dict[str, Any]) -> dict[str, Any]:
    return dict((view.get("state") or {}).get("values") or {})


def _value(values: dict[str, Any], block: str) -> str:
    entry = (values.get(block) or {}).get(block) or {}
    if "selected_option" in entry:
        return str((entry.get("selected_option") or {}).get("value") or "")
    return str(entry.get("value") or "")


def _worry_id(body: dict[str, Any]) -> int | None:
    actions = body.get("actions") or [{}]
    try:
        return int(actions[0].get("value") or "")
    except ValueError:
        return None


async def _tell(client: Any, body: dict[str, Any], user: str, text: str) -> None:
    """A short private answer to someone who pressed a button, wherever it was."""
    channel = ((body.get("container") or {}).get("channel_id")) or (body.get("channel") or {}).get("id")
    try:
        if channel and not str(channel).startswith("D"):
            await client.chat_postEphemeral(channel=channel, user=user, text=text)
        else:
            await client.chat_postMessage(channel=user, text=text, blocks=[section(text)])
    except SlackApiError as e:
        log.warning("could not answer a worry action: %s", e.response.get("error"))


async def _post(
    client: Any, channel: str, text: str, blocks: Blocks, thread_ts: str | None = None
) -> tuple[str, str] | None:
    try:
        kwargs: dict[str, Any] = {"channel": channel, "text": text, "blocks": blocks}
        if thread_ts:
            kwargs["thread_ts"] = thread_ts
        response = await client.chat_postMessage(**kwargs)
    except SlackApiError as e:
        # The chase job still nudges and escalates, so a failed post loses nothing.
        log.warning("worry message not delivered: %s", e.response.get("error"))
        return None
    return str(response["channel"]), str(response["ts"])


def _now(deps: Deps) -> datetime:
    return deps.clock.now()


# --- raising -----------------------------------------------------------------------


async def create_and_route(
    deps: Deps, client: Any, workspace_id: str, me_id: int, source_key: str, draft: Any
) -> int | None:
    """Store the worry, send it to whoever is in, and tell the raiser. None for a repeat."""
    from storage.worries import create_worry

    now = _now(deps)
    today = now.date()
    async with deps.db.transaction() as session:
        me = await session.get(Staff, me_id)
        assert me is not None
        teams = await all_team_info(session, workspace_id)
        dest = destination(as_team_info(me.team), teams, deps.policy.worries)
        worry = await create_worry(
            session,
            workspace_id,
            source_key,
            me,
            draft,
            dest.team.id if dest else None,
            dest.duty_channel if dest else None,
            now,
        )
        if worry is None:
            return None
        audit.record(session, workspace_id, now, me.user_id, "worry.raise", f"worry:{worry.id}")
        people: list[Staff] = []
        duty: str | None = None
        if dest is not None:
            office = await office_of(session, workspace_id, me, today)
            pool = await candidates(session, workspace_id, dest.team, dest.recipient_role, today)
            chosen = pick_recipients(me.id, office, [c for _, c in pool.values()])
            people = [pool[i][0] for i in chosen]
            if not people:
                duty = dest.duty_channel
        if not people and duty is None:
            # Nobody in and no duty channel: the receiving team's managers (or the raiser's) have it now.
            people = [
                m for m in await managers_of(session, workspace_id, [dest.team.id if dest else None]) if m.id != me.id
            ]
            if not people:
                people = [m for m in await managers_of(session, workspace_id, [me.team_id]) if m.id != me.id]
        for person in people:
            add_recipient(session, workspace_id, worry.id, person.id, "route", None, None)
        raiser = me
        worry_id = worry.id
        team_name = dest.team.name if dest else None
    # Outside the transaction: Slack calls may be slow, and the worry is safe in the database.
    blocks = routed_blocks(worry, raiser, deps, to_channel=False)
    text = summary_line(worry.id, worry.child_ref, worry.scale, worry.urgency)
    posted: list[tuple[int | None, str, str]] = []
    for person in people:
        where = await _post(client, person.slack_user_id, text, blocks)
        if where:
            posted.append((person.id, *where))
    if duty is not None:
        where = await _post(client, duty, text, routed_blocks(worry, raiser, deps, to_channel=True))
        if where:
            posted.append((None, *where))
    async with deps.db.transaction() as session:
        rows = await recipients(session, workspace_id, worry_id)
        for staff_id, channel, ts in posted:
            row = next(
                (r for r in rows if r.staff_id == staff_id and r.staff_id is not None and r.ts is None),
                None,
            )
            if row is not None:
                row.channel, row.ts = channel, ts
            else:
                add_recipient(session, workspace_id, worry_id, staff_id, "duty", channel, ts)
    if people:
        who = ", ".join(f"<@{p.slack_user_id}>" for p in people)
        where_text = f"has gone to {who}" + (f" ({team_name}, in the office today)" if team_name else "")
    elif duty is not None:
        where_text = f"has gone to <#{duty}|duty>: nobody from {team_name} is in the office today"
    else:
        where_text = "is saved, but I couldn't find anyone to send it to: please tell your manager"
    thanks = (
        f":seedling: Thank you. Worry #{worry_id} ({worry.child_ref or 'a family not yet known'}, scale {worry.scale}/10, "
        f"reply needed {URGENCY_LABELS[worry.urgency]}) {where_text}. I'll tell you who takes it, "
        "and I'll chase it if nobody does."
    )
    await _post(
        client,
        raiser.slack_user_id,
        thanks,
        [section(thanks), _actions(button("Open", OPEN, str(worry_id)))],
    )
    return worry_id


# --- taking, reading and closing -----------------------------------------------------


async def refresh_messages(deps: Deps, client: Any, workspace_id: str, worry_id: int) -> None:
    """Bring every message about the worry up to date: who took it, or how it ended."""
    async with deps.db.session() as session:
        worry = await get_worry(session, workspace_id, worry_id)
        if worry is None:
            return
        card = (await cards(session, workspace_id, [worry]))[0]
        rows = await recipients(session, workspace_id, worry_id)
    text = summary_line(worry.id, worry.child_ref, worry.scale, worry.urgency)
    for row in rows:
        if row.channel is None or row.ts is None:
            continue
        blocks = settled_blocks(
            worry, card, for_owner=row.staff_id == worry.owner_id, can_open=row.staff_id is not None
        )
        try:
            await client.chat_update(channel=row.channel, ts=row.ts, text=text, blocks=blocks)
        except SlackApiError as e:
            log.warning("could not update a worry message: %s", e.response.get("error"))
    if worry.thread_channel and worry.thread_ts:
        try:
            await client.chat_update(
                channel=worry.thread_channel,
                ts=worry.thread_ts,
                text=text,
                blocks=thread_blocks(worry, card),
            )
        except SlackApiError as e:
            log.warning("could not update a worry thread: %s", e.response.get("error"))


async def take(deps: Deps, client: Any, body: dict[str, Any], workspace_id: str, user: str) -> None:
    worry_id = _worry_id(body)
    if worry_id is None:
        return
    now = _now(deps)
    async with deps.db.transaction() as session:
        me = await staff_by_slack_id(session, workspace_id, user)
        worry = await get_worry(session, workspace_id, worry_id)
        if me is None or worry is None:
            await _tell(client, body, user, NOT_ON_STAFF if me is None else "I can't find that worry.")
            return
        allowed = can_take(as_viewer(me), await parties(session, workspace_id, worry))
        won = allowed and await claim(session, workspace_id, worry_id, me.id, now)
        if won:
            audit.record(session, workspace_id, now, me.user_id, "worry.take", f"worry:{worry_id}")
    if not allowed:
        await _tell(
            client,
            body,
            user,
            "This worry went to colleagues in another team, so it's theirs to take.",
        )
        return
    if not won:
        async with deps.db.session() as session:
            worry = await get_worry(session, workspace_id, worry_id)
            card = (await cards(session, workspace_id, [worry]))[0] if worry else None
        who = f"<@{card.owner_slack_id}>" if card and card.owner_slack_id else "someone else"
        await _tell(
            client,
            body,
            user,
            f"{who} took worry #{worry_id} just before you: thank you for stepping in.",
        )
        await refresh_messages(deps, client, workspace_id, worry_id)
        return
    # The owner reads the worry straight away (recorded like any other reading).
    await show_worry(deps, client, body.get("trigger_id"), workspace_id, user, worry_id, body)
    await refresh_messages(deps, client, workspace_id, worry_id)
    await start_thread(deps, client, workspace_id, worry_id)


async def start_thread(deps: Deps, client: Any, workspace_id: str, worry_id: int) -> None:
    """A group DM for the raiser and the owner (the owner's DM if that can't be opened)."""
    async with deps.db.session() as session:
        worry = await get_worry(session, workspace_id, worry_id)
        if worry is None or worry.owner_id is None:
            return
        card = (await cards(session, workspace_id, [worry]))[0]
    assert card.owner_slack_id is not None
    channel = card.owner_slack_id
    try:
        opened = await client.conversations_open(users=f"{card.raiser_slack_id},{card.owner_slack_id}")
        channel = str(opened["channel"]["id"])
    except SlackApiError as e:
        log.warning("group DM for a worry not opened: %s", e.response.get("error"))
    text = summary_line(worry.id, worry.child_ref, worry.scale, worry.urgency)
    where = await _post(client, channel, text, thread_blocks(worry, card))
    if where is not None:
        async with deps.db.transaction() as session:
            stored = await get_worry(session, workspace_id, worry_id)
            if stored is not None:
                stored.thread_channel, stored.thread_ts = where
    note = f":raised_hands: <@{card.owner_slack_id}> has taken your worry #{worry.id}. You can talk it through together in your group message."
    await _post(
        client,
        card.raiser_slack_id,
        note,
        [section(note), _actions(button("Open", OPEN, str(worry.id)))],
    )


async def show_worry(
    deps: Deps,
    client: Any,
    trigger_id: str | None,
    workspace_id: str,
    user: str,
    worry_id: int,
    body: dict[str, Any],
) -> bool:
    """Open the worry for `user` if they may read it, and record that they did."""
    now = _now(deps)
    async with deps.db.transaction() as session:
        me = await staff_by_slack_id(session, workspace_id, user)
        worry = await get_worry(session, workspace_id, worry_id)
        if me is None or worry is None:
            allowed = False
        else:
            allowed = can_read(as_viewer(me), await parties(session, workspace_id, worry))
        if not allowed or worry is None or me is None:
            pass
        else:
            card = (await cards(session, workspace_id, [worry]))[0]
            worker = await session.get(Staff, worry.outcome_worker_id) if worry.outcome_worker_id else None
            view = full_view(worry, card, worker.name if worker else None)
            audit.record(session, workspace_id, now, me.user_id, "worry.view", f"worry:{worry_id}")
    if not allowed:
        await _tell(
            client,
            body,
            user,
            "Only the people a worry went to, the person who raised it and their managers can read it.",
        )
        return False
    try:
        await client.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as e:
        log.warning("worry view not opened: %s", e.response.get("error"))
        return False
    return True


async def open_outcome(deps: Deps, client: Any, body: dict[str, Any], workspace_id: str, user: str) -> None:
    worry_id = _worry_id(body)
    if worry_id is None:
        return
    async with deps.db.session() as session:
        me = await staff_by_slack_id(session, workspace_id, user)
        worry = await get_worry(session, workspace_id, worry_id)
        if me is None or worry is None or worry.owner_id != me.id:
            message = "Only the colleague who took this worry records its outcome."
        elif worry.state == "closed":
            message = f"Worry #{worry_id} is already closed: {OUTCOME_LABELS.get(worry.outcome or '', '')}."
        else:
            message = ""
            workers = await early_help_workers(
                session,
                workspace_id,
                worry.to_team_id if me.team.kind != "early_help" else me.team_id,
            )
            view = outcome_modal(worry, workers)
    if message:
        await _tell(client, body, user, message)
        return
    await client.views_open(trigger_id=body.get("trigger_id"), view=view)


async def notify_outcome(deps: Deps, client: Any, workspace_id: str, worry_id: int) -> None:
    async with deps.db.session() as session:
        worry = await get_worry(session, workspace_id, worry_id)
        if worry is None or worry.owner_id is None:
            return
        card = (await cards(session, workspace_id, [worry]))[0]
        raiser = await session.get(Staff, worry.raiser_id)
        owner = await session.get(Staff, worry.owner_id)
        worker = await session.get(Staff, worry.outcome_worker_id) if worry.outcome_worker_id else None
        managers: list[Staff] = []
        if worry.outcome == "step_up" and raiser is not None and owner is not None:
            social_work_team = raiser.team_id if raiser.team.kind == "social_work" else owner.team_id
            managers = await managers_of(session, workspace_id, [social_work_team])
    assert raiser is not None and owner is not None
    outcome = OUTCOME_LABELS.get(worry.outcome or "", "closed")
    held = f" (held by <@{worker.slack_user_id}>)" if worker else ""
    about = worry.child_ref or "a family not yet known"
    open_button = _actions(button("Open", OPEN, str(worry.id)))
    told = f":memo: <@{owner.slack_user_id}> recorded the outcome of your worry #{worry.id} about {about}: *{outcome}*{held}. Open it to read the note."
    await _post(client, raiser.slack_user_id, told, [section(told), open_button])
    if worker is not None and worker.id != owner.id:
        text = f":seedling: <@{owner.slack_user_id}> stepped {about} down to early help: it's now in your caseload (worry #{worry.id})."
        await _post(client, worker.slack_user_id, text, [section(text), open_button])
    for manager in managers:
        if manager.id in (owner.id,):
            continue
        text = (
            f":arrow_up: Worry #{worry.id} about {about} has been stepped up to social work by <@{owner.slack_user_id}> "
            f"(raised by <@{raiser.slack_user_id}>). It needs a social work decision."
        )
        await _post(client, manager.slack_user_id, text, [section(text), open_button])
    if worry.thread_channel and worry.thread_ts:
        text = f"Outcome recorded: *{outcome}*{held}."
        await _post(client, worry.thread_channel, text, [section(text)], thread_ts=worry.thread_ts)
    _ = card


# --- lists and home -------------------------------------------------------------------


async def list_blocks(deps: Deps, workspace_id: str, me: Staff) -> tuple[str, Blocks]:
    now = _now(deps)
    policy = deps.policy.worries
    async with deps.db.session() as session:
        mine_to_do = await cards(session, workspace_id, await routed_to(session, workspace_id, me.id))
        raised = await cards(session, workspace_id, await raised_by(session, workspace_id, me.id))
        team: list[WorryCard] = []
        outcomes: dict[str, int] = {}
        if me.role == "manager":
            team = await cards(session, workspace_id, await team_open(session, workspace_id, me.team_id))
            outcomes = dict(await team_outcomes(session, workspace_id, me.team_id, now - timedelta(days=90)))

    def overdue(card: WorryCard) -> bool:
        return (
            card.state == "open"
            and now >= chase_times(card.raised_at, card.urgency, policy, deps.calendar, now.tzinfo).nudge_at
        )

    blocks: Blocks = [header("Worries")]
    if mine_to_do:
        blocks.append(section("*Waiting for you*"))
        for card in mine_to_do[:15]:
            element = (
                button("Take this", TAKE, str(card.id), style="primary")
                if card.state == "open"
                else button("Record outcome", RECORD, str(card.id))
            )
            blocks.append(_line_with(_card_line(card, deps, overdue(card)), element))
    if raised:
        blocks.append(section("*You raised*"))
        for card in raised[:15]:
            blocks.append(_line_with(_card_line(card, deps, overdue(card)), button("Open", OPEN, str(card.id))))
    if me.role == "manager":
        late = sum(1 for c in team if overdue(c))
        blocks.append(
            section(f"*Your team* ({me.team.name}): {len(team)} open, {late} waiting longer than they should.")
        )
        for card in team[:20]:
            blocks.append(_line_with(_card_line(card, deps, overdue(card)), button("Open", OPEN, str(card.id))))
        counts = ", ".join(f"{OUTCOME_LABELS[o]} {outcomes.get(o, 0)}" for o in OUTCOMES)
        blocks.append(context_line(f"Closed in the last 90 days: {counts}."))
    if len(blocks) == 1:
        blocks.append(section("Nothing open: no worries waiting for you and none you raised still open."))
    blocks.append(context_line("`/worried` raises a new one. Lists show references and scales only."))
    return "Worries", blocks


async def answer(deps: Deps, workspace_id: str, slack_user_id: str, text: str) -> tuple[str, Blocks, str | None]:
    """The reply to `/worried TEXT`: (fallback, blocks, child ref to open the modal with, or None)."""
    try:
        command = parse_command(text)
    except CommandError as e:
        return e.message, help_blocks(e.message, e.help), None
    async with deps.db.session() as session:
        me = await staff_by_slack_id(session, workspace_id, slack_user_id)
    if me is None:
        return NOT_ON_STAFF, [section(NOT_ON_STAFF)], None
    match command:
        case Help():
            return "How to use /worried", [section(USAGE)], None
        case ListWorries():
            fallback, blocks = await list_blocks(deps, workspace_id, me)
            return fallback, blocks, None
        case Raise(child_ref=ref):
            return "", [], ref or ""
    raise AssertionError("unreachable")  # pragma: no cover


async def answer_dm(deps: Deps, workspace_id: str, slack_user_id: str, text: str) -> tuple[str, Blocks]:
    """`worried` typed in the bot's DM: a message can't open a modal, so offer the button."""
    fallback, blocks, ref = await answer(deps, workspace_id, slack_user_id, text)
    if ref is None:
        return fallback, blocks
    about = f" about {ref}" if ref else ""
    line = f"Press the button to raise your worry{about}: it goes to a colleague who is in the office today."
    return line, [section(line), _actions(button("Raise a worry", NEW, ref, style="primary"))]


async def home_blocks(deps: Deps, workspace_id: str, me: Staff) -> Blocks:
    """The worries card on App Home: counts only, and the button to raise one."""
    async with deps.db.session() as session:
        waiting = await routed_to(session, workspace_id, me.id)
        raised = await raised_by(session, workspace_id, me.id)
        team = await team_open(session, workspace_id, me.team_id) if me.role == "manager" else []
    parts = []
    if waiting:
        parts.append(f"{len(waiting)} waiting for you")
    if raised:
        parts.append(f"{len(raised)} you raised still open")
    if me.role == "manager":
        parts.append(f"{len(team)} open in your team")
    line = (
        ("Worries: " + ", ".join(parts) + ". `/worried list` for details.")
        if parts
        else ("A bit worried about a child or family? Raise it with a colleague who is in today.")
    )
    return [
        header("Worries"),
        section(line),
        _actions(button("Raise a worry", NEW, "", style="primary")),
    ]


# --- listeners -----------------------------------------------------------------------


def register(app: AsyncApp, deps: Deps) -> None:
    @app.command("/worried")
    async def worried_command(ack: Any, command: dict[str, Any], respond: Any, client: Any, context: Any) -> None:
        await ack()
        workspace_id = workspace_of(context, deps)
        text, blocks, ref = await answer(deps, workspace_id, command["user_id"], command.get("text", ""))
        if ref is None:
            await respond(text=text, blocks=blocks, response_type="ephemeral")
            return
        await client.views_open(trigger_id=command["trigger_id"], view=raise_modal(ref or None))

    @app.action(NEW)
    async def new_worry(ack: Any, body: dict[str, Any], client: Any) -> None:
        await ack()
        ref = ((body.get("actions") or [{}])[0].get("value") or "").strip() or None
        await client.views_open(trigger_id=body["trigger_id"], view=raise_modal(ref))

    @app.view(RAISE_VIEW)
    async def raise_submitted(ack: Any, body: dict[str, Any], view: dict[str, Any], client: Any, context: Any) -> None:
        workspace_id = workspace_of(context, deps)
        user = body["user"]["id"]
        values = _values(view)
        form = RaiseForm(
            worried=_value(values, "worried"),
            working_well=_value(values, "working_well"),
            needs_to_happen=_value(values, "needs_to_happen"),
            scale=_value(values, "scale"),
            child_ref=_value(values, "child_ref"),
            urgency=_value(values, "urgency"),
        )
        async with deps.db.session() as session:
            me = await staff_by_slack_id(session, workspace_id, user)
            ref = clean_child_ref(form.child_ref)
            known = None
            if me is not None and ref is not None and looks_like_child_ref(ref):
                known = await known_child_ref(session, workspace_id, me, ref)
        if me is None:
            await ack(
                response_action="errors",
                errors={"worried": "You're not on the staff list yet: ask your admin."},
            )
            return
        draft, errors = validate_raise(form, child_known=known is not None)
        if errors or draft is None:
            # The modal stays open with what was typed; only the problems are marked.
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        draft = replace(draft, child_ref=known)
        await create_and_route(deps, client, workspace_id, me.id, f"view:{view['id']}", draft)

    @app.action(TAKE)
    async def take_action(ack: Any, body: dict[str, Any], client: Any, context: Any) -> None:
        await ack()
        await take(deps, client, body, workspace_of(context, deps), body["user"]["id"])

    @app.action(OPEN)
    async def open_action(ack: Any, body: dict[str, Any], client: Any, context: Any) -> None:
        await ack()
        worry_id = _worry_id(body)
        if worry_id is not None:
            await show_worry(
                deps,
                client,
                body.get("trigger_id"),
                workspace_of(context, deps),
                body["user"]["id"],
                worry_id,
                body,
            )

    @app.action(RECORD)
    async def record_action(ack: Any, body: dict[str, Any], client: Any, context: Any) -> None:
        await ack()
        await open_outcome(deps, client, body, workspace_of(context, deps), body["user"]["id"])

    @app.view(OUTCOME_VIEW)
    async def outcome_submitted(
        ack: Any, body: dict[str, Any], view: dict[str, Any], client: Any, context: Any
    ) -> None:
        workspace_id = workspace_of(context, deps)
        user = body["user"]["id"]
        values = _values(view)
        worker_text = _value(values, "worker")
        form = OutcomeForm(
            outcome=_value(values, "outcome"),
            note=_value(values, "note"),
            # isdigit() alone lets "²" through, which int() refuses.
            worker_id=int(worker_text) if worker_text.isascii() and worker_text.isdigit() else None,
            child_ref=_value(values, "child_ref"),
        )
        draft, errors = validate_outcome(form)
        try:
            worry_id = int(view.get("private_metadata") or "")
        except ValueError:
            await ack()
            return
        now = _now(deps)
        async with deps.db.transaction() as session:
            me = await staff_by_slack_id(session, workspace_id, user)
            worry = await get_worry(session, workspace_id, worry_id)
            if draft is not None and draft.worker_id is not None:
                worker = await session.get(Staff, draft.worker_id)
                if worker is None or worker.workspace_id != workspace_id or worker.role != "early_help":
                    errors = {"worker": "Choose an early help worker."}
            if not errors and (me is None or worry is None or worry.owner_id != me.id or worry.state != "claimed"):
                errors = {"outcome": "This worry is already closed, or it isn't yours to close."}
            if errors or draft is None or me is None or worry is None:
                await ack(response_action="errors", errors=errors)
                return
            if not await close(session, workspace_id, worry, me.id, draft, now):
                await ack(response_action="errors", errors={"outcome": "This worry is already closed."})
                return
            audit.record(session, workspace_id, now, me.user_id, "worry.outcome", f"worry:{worry_id}")
        await ack()
        await refresh_messages(deps, client, workspace_id, worry_id)
        await notify_outcome(deps, client, workspace_id, worry_id)
