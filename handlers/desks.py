"""/desk and /whosin: book a desk, the booking form, check-in and cancel buttons, App Home."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

from slack_bolt.async_app import AsyncApp
from sqlalchemy.exc import IntegrityError

from bot.app import Deps
from bot.commands import CommandError
from bot.desks import (
    SPAN_LABELS,
    USAGE,
    WHOSIN_USAGE,
    AlreadyBooked,
    Alternative,
    Book,
    Booked,
    BookingWindow,
    BookOutcome,
    Cancel,
    CheckIn,
    DeskSpot,
    Every,
    Help,
    Layout,
    LayoutError,
    Mine,
    Moved,
    OpenForm,
    Recurrence,
    Released,
    Served,
    SetNeeds,
    Share,
    ShowNeeds,
    Span,
    StopEvery,
    Waitlisted,
    Worker,
    book_defaults,
    by_zone,
    describe_needs,
    halves_of,
    home_office,
    load_layout,
    occupancy,
    parse_command,
    parse_whosin,
    recurring_days,
    span_of,
    weekday_name,
    working_days,
)
from bot.policy import DESK_TAGS
from handlers.common import (
    NOT_ON_STAFF,
    Blocks,
    button,
    context_line,
    day,
    ephemeral_command,
    header,
    help_blocks,
    section,
    workspace_of,
)
from schedules.ledger import Send, send_once
from storage import audit
from storage import desks as store
from storage.org import Staff, staff_by_slack_id, team_by_name

log = logging.getLogger("practice_bot.desks")

CALLBACK = "desk_book"


# --- the layout in the database ----------------------------------------------------


async def ensure_desks(deps: Deps, workspace_id: str) -> None:
    """Load the policy's layout into a workspace that has no desks yet (first use)."""
    async with deps.db.session() as session:
        if await store.has_desks(session, workspace_id):
            return
    try:
        layout = load_layout(deps.policy.desks.layout_file)
    except LayoutError as e:
        # Answers then say no offices are set up; the admin sees why in the log.
        log.error("desk layout unusable: %s", e)
        return
    try:
        await sync_layout_and_tell(deps, workspace_id, layout)
    except IntegrityError:
        # Two first uses at once (or two replicas): the other loaded the same layout first.
        log.info("desk layout loaded by another request at the same moment")


async def sync_layout_and_tell(deps: Deps, workspace_id: str, layout: Layout) -> store.SyncReport:
    """Make the desks match `layout`, and tell everyone whose booking had to move."""
    now = deps.clock.now()
    async with deps.db.transaction() as session:
        report = await store.sync_layout(session, workspace_id, layout, now.date(), now, deps.policy.desks.scarce_tags)
    for moved in report.moved:
        await _tell(
            deps,
            workspace_id,
            "desks.layout",
            moved.worker,
            f"moved:{moved.booking_id}",
            moved_blocks(moved),
        )
    return report


# --- words -----------------------------------------------------------------------------


def when(d: date, halves: tuple[str, ...] | Span) -> str:
    span = halves if isinstance(halves, str) else span_of(halves)
    return f"{day(d)}, {SPAN_LABELS[span]}"


def desk_line(desk: DeskSpot, worker: Worker | None = None) -> str:
    base = " (your team's base)" if worker is not None and desk.team_base == worker.team else ""
    kit = f" · {describe_needs(desk.tags)}" if desk.tags else ""
    return f"*{desk.code}*: {desk.where}{base}{kit}"


def _cancel_value(d: date, span: str) -> str:
    return f"{d.isoformat()}|{span}"


def booked_blocks(outcome: Booked, worker: Worker) -> Blocks:
    extra = ""
    if outcome.already_had:
        extra = f" You already had the {SPAN_LABELS[span_of(outcome.already_had)]} booked."
    text = f":white_check_mark: You're booked for {when(outcome.day, outcome.halves)}.{extra}"
    blocks: Blocks = [section(text), section(desk_line(outcome.desk, worker))]
    blocks.append(
        {
            "type": "actions",
            "block_id": f"desk_booked_{outcome.booking_id}",
            "elements": [button("Cancel", "desk_cancel", _cancel_value(outcome.day, span_of(outcome.halves)))],
        }
    )
    blocks.append(context_line("I'll check in with you on the morning: a desk nobody confirms is freed for others."))
    return blocks


def waitlisted_blocks(outcome: Waitlisted) -> Blocks:
    needs = f" with {describe_needs(outcome.needs)}" if outcome.needs else ""
    text = (
        f":hourglass_flowing_sand: Every desk{needs} in {outcome.office} is taken for "
        f"{when(outcome.day, outcome.halves)}. You're *number {outcome.position}* on the waitlist: "
        "if one comes free I'll book it for you and message you."
    )
    blocks: Blocks = [section(text)]
    if outcome.alternatives:
        blocks.append(section("*Nearest alternatives*"))
        for i, alt in enumerate(outcome.alternatives):
            blocks.append(
                {
                    "type": "section",
                    "block_id": f"desk_alt_{i}",
                    "text": {"type": "mrkdwn", "text": alternative_text(alt)},
                    "accessory": button("Book this", "desk_book_alt", _alt_value(alt)),
                }
            )
    blocks.append(
        {
            "type": "actions",
            "block_id": "desk_waitlist",
            "elements": [button("Leave the waitlist", "desk_cancel", _cancel_value(outcome.day, "day"))],
        }
    )
    return blocks


def alternative_text(alt: Alternative) -> str:
    where = f"{alt.desk.code} ({alt.desk.where})"
    match alt.kind:
        case "other_half":
            return f"• The {SPAN_LABELS[alt.span]} instead: {where}"
        case "fewer_needs":
            return f"• Without {describe_needs(alt.missing)}: {where}"
        case "other_office":
            return f"• {alt.office} instead: {where}"
        case _:
            return f"• {day(alt.day)} instead: {where}"


def _alt_value(alt: Alternative) -> str:
    needs = ",".join(sorted(alt.desk.tags & frozenset(DESK_TAGS))) if alt.kind == "fewer_needs" else ""
    keep = "0" if alt.kind == "fewer_needs" else "1"
    return f"{alt.day.isoformat()}|{alt.span}|{alt.office}|{needs}|{keep}"


def outcome_blocks(outcome: BookOutcome, worker: Worker) -> tuple[str, Blocks]:
    match outcome:
        case Booked():
            return (
                f"Booked {outcome.desk.code} for {when(outcome.day, outcome.halves)}",
                booked_blocks(outcome, worker),
            )
        case AlreadyBooked():
            text = (
                f"You already have {outcome.desk.code} for {when(outcome.day, outcome.halves)}. "
                f"`/desk cancel {outcome.day.isoformat()}` frees it if your plans changed."
            )
            return text, [
                section(f":information_source: {text}"),
                section(desk_line(outcome.desk, worker)),
            ]
        case Waitlisted():
            return f"On the waitlist for {when(outcome.day, outcome.halves)}", waitlisted_blocks(outcome)
    raise AssertionError("unreachable")  # pragma: no cover


def served_blocks(served: Served) -> Blocks:
    text = f":tada: Good news: a desk came free and it's yours for {when(served.day, served.halves)}."
    return [
        section(text),
        section(desk_line(served.desk, served.worker)),
        {
            "type": "actions",
            "block_id": f"desk_served_{served.booking_id}",
            "elements": [
                button("I'm in", "desk_checkin", served.day.isoformat(), style="primary"),
                button(
                    "I don't need it",
                    "desk_cancel",
                    _cancel_value(served.day, span_of(served.halves)),
                ),
            ],
        },
    ]


def released_blocks(released: Released) -> Blocks:
    return [
        section(
            f"Your desk {released.desk.code} for {when(released.day, released.halves)} "
            "wasn't checked in to, "
            "so I've freed it for someone waiting. `/desk today` books another if one is free."
        )
    ]


def moved_blocks(moved: Moved) -> Blocks:
    if moved.new_desk is not None:
        text = (
            f":arrows_counterclockwise: Desk {moved.old_code} has been taken out of the "
            "office layout. "
            f"I've moved your booking for {when(moved.day, moved.halves)} to:"
        )
        return [section(text), section(desk_line(moved.new_desk, moved.worker))]
    return [
        section(
            f":arrows_counterclockwise: Desk {moved.old_code} has been taken out of the "
            "office layout and no other "
            f"desk is free for {when(moved.day, moved.halves)}. You're on the waitlist: "
            "I'll message you "
            "as soon as one comes free."
        )
    ]


def checkin_blocks(d: date, desk: DeskSpot, halves: tuple[str, ...]) -> Blocks:
    return [
        section(
            f":sunrise: Good morning! You have *{desk.code}* ({desk.where}) today, {SPAN_LABELS[span_of(halves)]}."
        ),
        {
            "type": "actions",
            "block_id": f"desk_checkin_{d.isoformat()}",
            "elements": [
                button("I'm in", "desk_checkin", d.isoformat(), style="primary"),
                button("Not coming in", "desk_cancel", _cancel_value(d, span_of(halves))),
            ],
        },
        context_line("A desk nobody checks in to is freed for someone waiting later this morning."),
    ]


async def _tell(deps: Deps, workspace_id: str, job: str, worker: Worker, key: str, blocks: Blocks) -> Send:
    """A DM through the delivery ledger: exactly once per (job, person, key)."""
    client = deps.client_for(workspace_id)
    fallback = next((b["text"]["text"] for b in blocks if b.get("type") == "section" and b.get("text")), "Desk")

    async def send() -> None:
        await client.chat_postMessage(channel=worker.slack_user_id, text=fallback, blocks=blocks)

    return await send_once(deps, workspace_id, job, worker.slack_user_id, key, send)


async def tell_served(deps: Deps, workspace_id: str, served: list[Served]) -> list[Send]:
    return [
        await _tell(deps, workspace_id, "desks.offer", s.worker, f"booking:{s.booking_id}", served_blocks(s))
        for s in served
    ]


# --- answering /desk -------------------------------------------------------------------


def window(deps: Deps) -> BookingWindow:
    now = deps.clock.now()
    return BookingWindow(now.date(), now.time(), deps.policy.desks.horizon_days, deps.calendar)


async def _context(deps: Deps, workspace_id: str) -> tuple[list[str], list[DeskSpot]]:
    await ensure_desks(deps, workspace_id)
    async with deps.db.session() as session:
        return await store.office_names(session, workspace_id), await store.active_spots(session, workspace_id)


def _default_office(worker: Worker, offices: list[str], spots: list[DeskSpot]) -> str | None:
    return home_office(worker.team, worker.team_office, offices, spots)


async def book_for(
    deps: Deps, workspace_id: str, worker: Worker, command: Book, source: str = "request"
) -> BookOutcome | str:
    """Book as `command` says; a sentence saying what is allowed when it can't be."""
    win = window(deps)
    problem = win.problem(command.day, command.span)
    if problem:
        return problem
    offices, spots = await _context(deps, workspace_id)
    office = command.office or _default_office(worker, offices, spots)
    if office is None:
        return "No offices are set up for desk booking yet: ask your admin to load a layout."
    needs = command.needs
    if command.with_standing_needs:
        async with deps.db.session() as session:
            needs |= (await store.get_prefs(session, workspace_id, worker.staff_id)).needs
    halves = win.halves_for(command.day, command.span)
    later = working_days(command.day + timedelta(days=1), win.last_day, deps.calendar)[:5]
    outcome, served = await store.book(
        deps.db,
        workspace_id,
        worker,
        command.day,
        halves,
        office,
        needs,
        deps.clock.now(),
        deps.policy.desks.scarce_tags,
        source=source,
        later_days=later,
    )
    await tell_served(deps, workspace_id, served)
    return outcome


async def do_book(deps: Deps, workspace_id: str, worker: Worker, command: Book) -> tuple[str, Blocks]:
    outcome = await book_for(deps, workspace_id, worker, command)
    if isinstance(outcome, str):
        return outcome, [section(f":calendar: {outcome}")]
    return outcome_blocks(outcome, worker)


async def do_cancel(deps: Deps, workspace_id: str, worker: Worker, d: date, span: Span) -> tuple[str, Blocks]:
    cancelled, served = await store.cancel(
        deps.db,
        workspace_id,
        worker.staff_id,
        d,
        halves_of(span),
        deps.clock.now(),
        deps.policy.desks.scarce_tags,
    )
    await tell_served(deps, workspace_id, served)
    if cancelled.desk is not None:
        text = f"Cancelled: {cancelled.desk.code} for {when(d, cancelled.halves)}. Thanks for freeing it up."
    elif cancelled.left_waitlist:
        text = f"You've left the waitlist for {day(d)}."
    else:
        text = f"You had no desk booked for {when(d, span)}, so there was nothing to cancel."
    return text, [section(text)]


async def mine_blocks(deps: Deps, workspace_id: str, worker: Worker) -> tuple[str, Blocks]:
    today = deps.clock.now().date()
    async with deps.db.session() as session:
        bookings = await store.upcoming(session, workspace_id, worker.staff_id, today)
        waits = await store.my_waits(session, workspace_id, worker.staff_id, today)
        recurring = await store.recurrences_of(session, workspace_id, worker.staff_id)
        prefs = await store.get_prefs(session, workspace_id, worker.staff_id)
    blocks: Blocks = [header("Your desks")]
    if not bookings and not waits:
        blocks.append(section("No desks booked. `/desk tomorrow` books one, `/desk` opens the form."))
    blocks += booking_rows(bookings, "mine")
    for wait in waits:
        blocks.append(
            {
                "type": "section",
                "block_id": f"desk_wait_{wait.day.isoformat()}",
                "text": {
                    "type": "mrkdwn",
                    "text": f":hourglass_flowing_sand: {when(wait.day, wait.span)}, {wait.office}: "
                    f"number {wait.position} on the waitlist",
                },
                "accessory": button("Leave", "desk_cancel", _cancel_value(wait.day, "day")),
            }
        )
    blocks.append(context_line(prefs_line(prefs.needs, prefs.share, recurring)))
    return f"You have {len(bookings)} desk booking(s)", blocks


def booking_rows(bookings: list[Any], prefix: str) -> Blocks:
    rows: Blocks = []
    for b in bookings[:20]:
        mark = " :white_check_mark: checked in" if b.checked_in else ""
        rows.append(
            {
                "type": "section",
                "block_id": f"desk_{prefix}_{b.day.isoformat()}_{span_of(b.halves)}",
                "text": {
                    "type": "mrkdwn",
                    "text": f"*{when(b.day, b.halves)}*: {b.desk.code}, {b.desk.where}{mark}",
                },
                "accessory": button("Cancel", "desk_cancel", _cancel_value(b.day, span_of(b.halves))),
            }
        )
    return rows


def prefs_line(needs: frozenset[str], share: bool, recurring: list[Recurrence]) -> str:
    parts = [
        f"Standing needs: {describe_needs(needs)}",
        f"sharing with your team: {'on' if share else 'off'}",
    ]
    if recurring:
        days = ", ".join(f"{weekday_name(r.weekday)}s ({SPAN_LABELS[r.span]})" for r in recurring)
        parts.append(f"every week: {days}")
    return " · ".join(parts) + ". `/desk help` for more."


async def do_every(deps: Deps, workspace_id: str, worker: Worker, command: Every) -> tuple[str, Blocks]:
    offices, spots = await _context(deps, workspace_id)
    recurrence = Recurrence(command.weekday, command.span, command.office, command.needs)
    async with deps.db.transaction() as session:
        await store.set_recurrence(session, workspace_id, worker.staff_id, recurrence)
    lines: list[str] = []
    for d in recurring_days(command.weekday, window(deps)):
        async with deps.db.session() as session:
            if await store.has_any_on(session, workspace_id, worker.staff_id, d):
                continue
        text, _ = await do_book(deps, workspace_id, worker, Book(d, command.span, command.needs, command.office))
        lines.append(f"• {text}")
    name = weekday_name(command.weekday)
    ahead = deps.policy.desks.horizon_days
    head = f":repeat: Every {name}, {SPAN_LABELS[command.span]}: I'll book it {ahead} days ahead."
    blocks: Blocks = [section(head)]
    if lines:
        blocks.append(section("\n".join(lines)))
    blocks.append(context_line(f"`/desk every {name.lower()} off` stops it; cancelling one week keeps the rest."))
    return head, blocks


async def answer(deps: Deps, workspace_id: str, slack_user_id: str, text: str) -> tuple[str, Blocks]:
    """The reply to `/desk TEXT` (not the form: that needs a trigger), as (fallback, blocks)."""
    async with deps.db.session() as session:
        me = await staff_by_slack_id(session, workspace_id, slack_user_id)
        worker = store.worker_of(me) if me is not None else None
    if worker is None:
        return NOT_ON_STAFF, [section(NOT_ON_STAFF)]
    offices, _ = await _context(deps, workspace_id)
    win = window(deps)
    try:
        command = parse_command(text, win.today, offices)
    except CommandError as e:
        return e.message, help_blocks(e.message, e.help)
    match command:
        case Help() | OpenForm():
            return "How to use /desk", [section(USAGE)]
        case Book():
            return await do_book(deps, workspace_id, worker, book_defaults(command, win, text))
        case Mine():
            return await mine_blocks(deps, workspace_id, worker)
        case Cancel(day=d, span=span):
            return await do_cancel(deps, workspace_id, worker, d, span)
        case CheckIn():
            done = await store.check_in(deps.db, workspace_id, worker.staff_id, win.today, deps.clock.now())
            if not done:
                msg = "You have no desk booked today. `/desk today` books one if any are free."
                return msg, [section(msg)]
            msg = f"Thanks, you're checked in at {done[0].desk.code} today. Have a good day!"
            return msg, [section(f":white_check_mark: {msg}")]
        case ShowNeeds():
            async with deps.db.session() as session:
                prefs = await store.get_prefs(session, workspace_id, worker.staff_id)
            msg = f"Your standing needs: {describe_needs(prefs.needs)}."
            return msg, [
                section(msg),
                context_line(f"Set them with `/desk needs {DESK_TAGS[0]}`; known: {', '.join(DESK_TAGS)}."),
            ]
        case SetNeeds(needs=needs):
            async with deps.db.transaction() as session:
                await store.set_needs(session, workspace_id, worker.staff_id, needs)
            msg = (
                f"Got it: every desk I book for you will have {describe_needs(needs)}."
                if needs
                else "Your standing needs are cleared."
            )
            return msg, [section(f":ok_hand: {msg}")]
        case Share(on=on):
            async with deps.db.transaction() as session:
                await store.set_share(session, workspace_id, worker.staff_id, on)
            msg = (
                "Sharing is on: your team can see when you're in and where (`/whosin`)."
                if on
                else "Sharing is off: your team won't see your bookings."
            )
            return msg, [section(msg)]
        case Every():
            return await do_every(deps, workspace_id, worker, command)
        case StopEvery(weekday=weekday):
            async with deps.db.transaction() as session:
                stopped = await store.stop_recurrence(session, workspace_id, worker.staff_id, weekday)
            name = weekday_name(weekday)
            msg = (
                f"Stopped booking every {name}. Desks already booked stay booked (`/desk mine`)."
                if stopped
                else f"You had no weekly booking on {name}s."
            )
            return msg, [section(msg)]
    raise AssertionError("unreachable")  # pragma: no cover


# --- /whosin ---------------------------------------------------------------------------


async def answer_whosin(deps: Deps, workspace_id: str, slack_user_id: str, text: str) -> tuple[str, Blocks]:
    async with deps.db.session() as session:
        me = await staff_by_slack_id(session, workspace_id, slack_user_id)
    if me is None:
        return NOT_ON_STAFF, [section(NOT_ON_STAFF)]
    today = deps.clock.now().date()
    try:
        ask = parse_whosin(text, today)
    except CommandError as e:
        return e.message, [section(e.help)]
    await ensure_desks(deps, workspace_id)
    async with deps.db.transaction() as session:
        team = me.team if ask.team_name is None else await team_by_name(session, workspace_id, ask.team_name)
        if team is None:
            msg = f"There's no team called '{ask.team_name}'."
            return msg, [section(msg), section(WHOSIN_USAGE)]
        people, private = await store.seated(session, workspace_id, team.id, ask.day)
        spots = await store.active_spots(session, workspace_id)
        offices = await store.office_names(session, workspace_id)
        taken = await store.taken(session, workspace_id, ask.day) if me.is_manager else []
        audit.record(session, workspace_id, deps.clock.now(), me.user_id, "desks.whosin", f"team:{team.id}")
    blocks: Blocks = [header(f"{team.name}: who's in, {day(ask.day)}")]
    groups = by_zone(people)
    if not groups:
        blocks.append(section("Nobody from the team who shares their plans is booked in."))
    for group in groups:
        names = ", ".join(
            p.name if p.halves == ("am", "pm") else f"{p.name} ({SPAN_LABELS[span_of(p.halves)]})" for p in group.people
        )
        blocks.append(section(f"*{group.where}*\n{names}"))
    if private:
        blocks.append(context_line(f"{private} more from the team are in but keep their plans to themselves."))
    blocks.append(context_line("Only people who chose `/desk share on` are named here."))
    if me.is_manager:
        office = home_office(team.name, team.office, offices, spots)
        zones = [z for z in occupancy(spots, taken) if z.office == office]
        if zones:
            lines = [
                f"• {z.floor}, {z.zone}{' (' + z.team_base + ')' if z.team_base else ''}: "
                f"morning {z.am}/{z.desks}, afternoon {z.pm}/{z.desks}"
                for z in zones
            ]
            blocks.append(section(f"*{office}: desks taken by zone*\n" + "\n".join(lines)))
    return f"{team.name}: who's in on {day(ask.day)}", blocks


# --- the booking form ------------------------------------------------------------------


def _option(text: str, value: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": text}, "value": value}


def form_view(d: date, office: str | None, offices: list[str], needs: frozenset[str]) -> dict[str, Any]:
    halves = [_option("All day", "day"), _option("Morning", "am"), _option("Afternoon", "pm")]
    office_options = [_option(o, o) for o in offices]
    need_options = [_option(n.replace("_", " "), n) for n in DESK_TAGS]
    office_element: dict[str, Any] = {
        "type": "static_select",
        "action_id": "office",
        "options": office_options,
    }
    if office in offices:
        office_element["initial_option"] = _option(office, office)
    needs_element: dict[str, Any] = {
        "type": "checkboxes",
        "action_id": "needs",
        "options": need_options,
    }
    if needs:
        needs_element["initial_options"] = [o for o in need_options if o["value"] in needs]
    return {
        "type": "modal",
        "callback_id": CALLBACK,
        "title": {"type": "plain_text", "text": "Book a desk"},
        "submit": {"type": "plain_text", "text": "Book"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "block_id": "day",
                "label": {"type": "plain_text", "text": "Day"},
                "element": {
                    "type": "datepicker",
                    "action_id": "day",
                    "initial_date": d.isoformat(),
                },
            },
            {
                "type": "input",
                "block_id": "half",
                "label": {"type": "plain_text", "text": "When"},
                "element": {
                    "type": "static_select",
                    "action_id": "half",
                    "options": halves,
                    "initial_option": halves[0],
                },
            },
            {
                "type": "input",
                "block_id": "office",
                "label": {"type": "plain_text", "text": "Office"},
                "element": office_element,
            },
            {
                "type": "input",
                "block_id": "needs",
                "optional": True,
                "label": {"type": "plain_text", "text": "Needs"},
                "element": needs_element,
            },
            context_line("Your team's base comes first, next to team-mates already in that day."),
        ],
    }


async def open_form(deps: Deps, workspace_id: str, slack_user_id: str, trigger_id: str, client: Any) -> str | None:
    """Open the booking form; a reply to show instead when it can't be used."""
    async with deps.db.session() as session:
        me = await staff_by_slack_id(session, workspace_id, slack_user_id)
        worker = store.worker_of(me) if me is not None else None
    if worker is None:
        return NOT_ON_STAFF
    offices, spots = await _context(deps, workspace_id)
    async with deps.db.session() as session:
        prefs = await store.get_prefs(session, workspace_id, worker.staff_id)
    office = _default_office(worker, offices, spots)
    await client.views_open(
        trigger_id=trigger_id,
        view=form_view(window(deps).default_day(), office, offices, prefs.needs),
    )
    return None


def read_form(values: dict[str, Any]) -> tuple[date | None, Span, str | None, frozenset[str]]:
    picked = values.get("day", {}).get("day", {}).get("selected_date")
    half = ((values.get("half", {}).get("half", {}) or {}).get("selected_option") or {}).get("value", "day")
    office = ((values.get("office", {}).get("office", {}) or {}).get("selected_option") or {}).get("value")
    chosen = (values.get("needs", {}).get("needs", {}) or {}).get("selected_options") or []
    needs = frozenset(o["value"] for o in chosen if o.get("value") in DESK_TAGS)
    span: Span = half if half in ("am", "pm", "day") else "day"
    try:
        day = date.fromisoformat(picked) if isinstance(picked, str) and picked else None
    except ValueError:
        day = None  # not a date a datepicker sends: asked to pick one, as if none was picked
    return day, span, office, needs


# --- App Home --------------------------------------------------------------------------


async def home_blocks(deps: Deps, workspace_id: str, me: Staff) -> Blocks:
    worker = store.worker_of(me)
    today = deps.clock.now().date()
    async with deps.db.session() as session:
        if not await store.has_desks(session, workspace_id):
            return []
        bookings = await store.upcoming(session, workspace_id, worker.staff_id, today)
        waits = await store.my_waits(session, workspace_id, worker.staff_id, today)
    blocks: Blocks = [header("Your desks")]
    if not bookings:
        blocks.append(section("No desks booked. `/desk` opens the booking form."))
    blocks += booking_rows(bookings[:8], "home")
    for wait in waits[:4]:
        blocks.append(
            section(f":hourglass_flowing_sand: {when(wait.day, wait.span)}: number {wait.position} on the waitlist")
        )
    return blocks


# --- listeners -------------------------------------------------------------------------


async def _worker(deps: Deps, workspace_id: str, slack_user_id: str) -> Worker | None:
    async with deps.db.session() as session:
        me = await staff_by_slack_id(session, workspace_id, slack_user_id)
        return store.worker_of(me) if me is not None else None


async def _after_click(
    body: dict[str, Any],
    client: Any,
    respond: Any,
    deps: Deps,
    workspace_id: str,
    text: str,
    blocks: Blocks,
) -> None:
    """Answer a button where it was clicked; from App Home, by DM and a fresh Home."""
    user = body["user"]["id"]
    container = body.get("container") or {}
    if container.get("type") == "view":
        from handlers.home import home_view

        await client.views_publish(user_id=user, view=await home_view(deps, workspace_id, user))
        await client.chat_postMessage(channel=user, text=text, blocks=blocks)
    else:
        await respond(text=text, blocks=blocks, replace_original=True)


def register(app: AsyncApp, deps: Deps) -> None:
    @app.command("/desk")
    async def desk_command(ack: Any, command: dict[str, Any], respond: Any, client: Any, context: Any) -> None:
        await ack()
        workspace_id = workspace_of(context, deps)
        text = command.get("text", "") or ""
        if not text.strip():
            problem = await open_form(deps, workspace_id, command["user_id"], command["trigger_id"], client)
            if problem:
                await respond(text=problem, blocks=[section(problem)], response_type="ephemeral")
            return
        reply, blocks = await answer(deps, workspace_id, command["user_id"], text)
        await respond(text=reply, blocks=blocks, response_type="ephemeral")

    ephemeral_command(app, deps, "/whosin", answer_whosin)

    @app.view(CALLBACK)
    async def desk_form(ack: Any, body: dict[str, Any], view: dict[str, Any], client: Any, context: Any) -> None:
        picked, span, office, needs = read_form(view.get("state", {}).get("values", {}))
        win = window(deps)
        problem = "Pick a day." if picked is None else win.problem(picked, span)
        if problem or picked is None:
            await ack(response_action="errors", errors={"day": problem or "Pick a day."})
            return
        await ack()
        workspace_id = workspace_of(context, deps)
        user = body["user"]["id"]
        worker = await _worker(deps, workspace_id, user)
        if worker is None:
            await client.chat_postMessage(channel=user, text=NOT_ON_STAFF)
            return
        # The form shows standing needs ticked: what is ticked on submit is what counts.
        command = Book(picked, span, needs, office, with_standing_needs=False)
        text, blocks = await do_book(deps, workspace_id, worker, command)
        await client.chat_postMessage(channel=user, text=text, blocks=blocks)

    @app.action("desk_checkin")
    async def desk_checkin(ack: Any, body: dict[str, Any], client: Any, respond: Any, context: Any) -> None:
        await ack()
        workspace_id = workspace_of(context, deps)
        worker = await _worker(deps, workspace_id, body["user"]["id"])
        if worker is None:
            return
        d = date.fromisoformat(body["actions"][0]["value"])
        done = await store.check_in(deps.db, workspace_id, worker.staff_id, d, deps.clock.now())
        if done:
            where = f"{done[0].desk.code} ({when(d, done[0].halves)})"
            text = f":white_check_mark: Thanks, you're checked in at {where}."
        else:
            text = "That booking isn't yours any more: it was cancelled or released. `/desk today` finds another."
        await _after_click(body, client, respond, deps, workspace_id, text, [section(text)])

    @app.action("desk_cancel")
    async def desk_cancel(ack: Any, body: dict[str, Any], client: Any, respond: Any, context: Any) -> None:
        await ack()
        workspace_id = workspace_of(context, deps)
        worker = await _worker(deps, workspace_id, body["user"]["id"])
        if worker is None:
            return
        value = body["actions"][0]["value"]
        day_text, _, span = value.partition("|")
        text, blocks = await do_cancel(
            deps,
            workspace_id,
            worker,
            date.fromisoformat(day_text),
            span if span in ("am", "pm", "day") else "day",
        )
        await _after_click(body, client, respond, deps, workspace_id, text, blocks)

    @app.action("desk_book_alt")
    async def desk_book_alt(ack: Any, body: dict[str, Any], respond: Any, context: Any) -> None:
        await ack()
        workspace_id = workspace_of(context, deps)
        worker = await _worker(deps, workspace_id, body["user"]["id"])
        if worker is None:
            return
        day_text, span, office, needs, keep = (body["actions"][0]["value"].split("|") + ["", "", "", "", "1"])[:5]
        # An alternative replaces the worker's waitlist place for that day only if they take it.
        command = Book(
            date.fromisoformat(day_text),
            span if span in ("am", "pm", "day") else "day",
            frozenset(n for n in needs.split(",") if n in DESK_TAGS),
            office or None,
            with_standing_needs=keep == "1",
        )
        text, blocks = await do_book(deps, workspace_id, worker, command)
        await respond(text=text, blocks=blocks, replace_original=False, response_type="ephemeral")
