"""Worries raised with co-located colleagues: pure rules and the /worried command.

Domain (domain.md, "Who uses it", "Signs of Safety", "Information sharing"):
a social worker can walk across the floor to an early help colleague and say
"I'm a bit worried about this"; early help can step a worry up the same way.
A worry is framed in Signs of Safety terms (what are we worried about, what's
working well, what needs to happen, a 0-10 scale), names a child only by case
reference, and its free text stays with the people it was routed to.

Nothing here touches Slack, the database or the system clock.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Literal

from bot.calendar import WorkingCalendar
from bot.commands import CommandError
from bot.policy import Pairing, WorriesPolicy

URGENCIES = ("today", "week")
URGENCY_LABELS = {"today": "today", "week": "this week"}
OUTCOMES = ("advice", "step_down", "step_up", "nfa")
OUTCOME_LABELS = {
    "advice": "advice given",
    "step_down": "step down to early help",
    "step_up": "step up to social work",
    "nfa": "no further action",
}
STATES = ("open", "claimed", "closed")

SCALE_MIN = 0
SCALE_MAX = 10
TEXT_MAX = 3000
NOTE_MAX = 500

Stage = Literal["nudge", "escalate"]

# --- the /worried command ----------------------------------------------------

USAGE = (
    "*How to use /worried*\n"
    "• `/worried`: raise a worry with a colleague who is in the office today\n"
    "• `/worried CHILD_REF`: the same, about a child you hold (e.g. `/worried IPS10023`)\n"
    "• `/worried list`: worries waiting for you, the ones you raised, and your team's (managers)\n"
    "• `/worried help`: this message\n"
    "A worry can be about a family not yet known to us: leave the reference blank."
)


@dataclass(frozen=True)
class Raise:
    child_ref: str | None = None


@dataclass(frozen=True)
class ListWorries:
    pass


@dataclass(frozen=True)
class Help:
    pass


WorriedCommand = Raise | ListWorries | Help

# Case references: letters, digits and a few separators; never a name with spaces.
_CHILD_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9/_.-]{0,63}$")


def looks_like_child_ref(text: str) -> bool:
    return bool(_CHILD_REF.match(text))


def parse_command(text: str) -> WorriedCommand:
    words = text.split()
    match [w.lower() for w in words]:
        case [] | ["new"] | ["raise"]:
            return Raise()
        case ["list"] | ["mine"] | ["open"]:
            return ListWorries()
        case ["help"] | ["?"]:
            return Help()
        case [_] if looks_like_child_ref(words[0]):
            return Raise(child_ref=words[0])
        case _:
            raise CommandError(f"I didn't understand `/worried {text.strip()}`.", USAGE)


# --- the raise modal ---------------------------------------------------------


@dataclass(frozen=True)
class RaiseForm:
    """What the worker typed, as text, before any checking."""

    worried: str
    working_well: str
    needs_to_happen: str
    scale: str
    child_ref: str
    urgency: str


@dataclass(frozen=True)
class WorryDraft:
    """A checked worry, ready to store."""

    worried: str
    working_well: str
    needs_to_happen: str
    scale: int
    child_ref: str | None
    urgency: str


def clean_child_ref(text: str) -> str | None:
    ref = text.strip()
    return ref or None


def validate_raise(form: RaiseForm, child_known: bool) -> tuple[WorryDraft | None, dict[str, str]]:
    """The draft, or per-block errors (block id -> message) to show in the modal.

    `child_known`: the reference (if one was given) is a child the raiser may
    raise a worry about. An empty reference is fine: the family may be new to us.
    """
    errors: dict[str, str] = {}
    worried = form.worried.strip()
    if not worried:
        errors["worried"] = "Tell us what you're worried about: a sentence or two is plenty."
    for block, value in (
        ("worried", form.worried),
        ("working_well", form.working_well),
        ("needs_to_happen", form.needs_to_happen),
    ):
        if len(value.strip()) > TEXT_MAX and block not in errors:
            errors[block] = f"Please keep this under {TEXT_MAX} characters."
    scale: int | None = None
    raw_scale = form.scale.strip()
    try:
        scale = int(raw_scale)
    except ValueError:
        scale = None
    if scale is None or not SCALE_MIN <= scale <= SCALE_MAX:
        errors["scale"] = (
            f"The scale is a whole number from {SCALE_MIN} to {SCALE_MAX} "
            f"(10: safe enough to close; 0: the child is not safe)."
        )
    ref = clean_child_ref(form.child_ref)
    if ref is not None and not looks_like_child_ref(ref):
        errors["child_ref"] = "That doesn't look like a case reference (e.g. IPS10023). Use references, never names."
    elif ref is not None and not child_known:
        errors["child_ref"] = (
            f"{ref} isn't a child you hold. Check the reference, or leave it blank if the family isn't known to us yet."
        )
    if form.urgency not in URGENCIES:
        errors["urgency"] = "Choose how soon you need a reply: today or this week."
    if errors or scale is None:
        return None, errors
    return (
        WorryDraft(
            worried=worried,
            working_well=form.working_well.strip(),
            needs_to_happen=form.needs_to_happen.strip(),
            scale=scale,
            child_ref=ref,
            urgency=form.urgency,
        ),
        {},
    )


# --- the outcome modal -------------------------------------------------------


@dataclass(frozen=True)
class OutcomeForm:
    outcome: str
    note: str
    worker_id: int | None
    """The early help worker who will hold a stepped-down child."""
    child_ref: str


@dataclass(frozen=True)
class OutcomeDraft:
    outcome: str
    note: str
    worker_id: int | None
    child_ref: str | None


def validate_outcome(form: OutcomeForm) -> tuple[OutcomeDraft | None, dict[str, str]]:
    errors: dict[str, str] = {}
    if form.outcome not in OUTCOMES:
        errors["outcome"] = "Choose what happened."
    note = form.note.strip()
    if not note:
        errors["note"] = "Add a short note: what was agreed, in a line or two."
    elif len(note) > NOTE_MAX:
        errors["note"] = f"A short note, please: under {NOTE_MAX} characters."
    ref = clean_child_ref(form.child_ref)
    if ref is not None and not looks_like_child_ref(ref):
        errors["child_ref"] = "That doesn't look like a case reference (e.g. IPS10023)."
    if form.outcome == "step_down":
        if form.worker_id is None:
            errors["worker"] = "Choose the early help worker who will hold the child."
        if ref is None and "child_ref" not in errors:
            errors["child_ref"] = "A step down needs the child's case reference."
    if errors:
        return None, errors
    worker = form.worker_id if form.outcome == "step_down" else None
    return OutcomeDraft(outcome=form.outcome, note=note, worker_id=worker, child_ref=ref), {}


# --- routing -----------------------------------------------------------------


@dataclass(frozen=True)
class TeamInfo:
    id: int
    name: str
    kind: str  # social_work | early_help
    office: str | None
    channel_id: str | None


@dataclass(frozen=True)
class Destination:
    """Where a worry from one team goes: the receiving team and its duty channel."""

    team: TeamInfo
    duty_channel: str | None
    step_up: bool
    """True when early help raises a worry to social work."""

    @property
    def recipient_role(self) -> str:
        return "early_help" if self.team.kind == "early_help" else "social_worker"


def _pick(candidates: Sequence[TeamInfo], office: str | None) -> TeamInfo | None:
    # Co-located first: the point is someone across the floor.
    for team in candidates:
        if office is not None and team.office == office:
            return team
    return candidates[0] if candidates else None


def destination(raiser_team: TeamInfo, teams: Sequence[TeamInfo], policy: WorriesPolicy) -> Destination | None:
    """The receiving team for a worry raised by someone in `raiser_team`.

    The pairings in the policy decide; a team without a pairing falls back to a
    team of the other kind in the same office. None: nobody to route to.
    """
    by_name = {t.name: t for t in teams}
    if raiser_team.kind == "early_help":
        pairing = next((p for p in policy.pairings if p.early_help == raiser_team.name), None)
        if pairing is not None:
            name = pairing.step_up_team or pairing.social_work[0]
            team = by_name.get(name)
            if team is not None:
                return Destination(
                    team,
                    pairing.step_up_channel or team.channel_id or policy.default_duty_channel,
                    True,
                )
        others = [t for t in teams if t.kind == "social_work" and t.office == raiser_team.office]
        team_or_none = _pick(others, raiser_team.office)
        if team_or_none is None:
            return None
        return Destination(team_or_none, team_or_none.channel_id or policy.default_duty_channel, True)
    pairings: list[tuple[Pairing, TeamInfo]] = [
        (p, by_name[p.early_help])
        for p in policy.pairings
        if raiser_team.name in p.social_work and p.early_help in by_name
    ]
    if pairings:
        chosen = next(((p, t) for p, t in pairings if t.office == raiser_team.office), pairings[0])
        pairing, team = chosen
        return Destination(team, pairing.duty_channel or team.channel_id or policy.default_duty_channel, False)
    fallback = _pick([t for t in teams if t.kind == "early_help"], raiser_team.office)
    if fallback is None or fallback.office != raiser_team.office:
        return None
    return Destination(fallback, fallback.channel_id or policy.default_duty_channel, False)


@dataclass(frozen=True)
class Candidate:
    """A possible recipient: where they are working today, and whether they are in."""

    staff_id: int
    office: str | None
    in_today: bool


def pick_recipients(raiser_id: int, raiser_office: str | None, candidates: Sequence[Candidate]) -> tuple[int, ...]:
    """Colleagues in the raiser's office today (from desk bookings where they exist)."""
    if raiser_office is None:
        return ()
    return tuple(c.staff_id for c in candidates if c.in_today and c.office == raiser_office and c.staff_id != raiser_id)


# --- chasing -----------------------------------------------------------------


@dataclass(frozen=True)
class ChaseTimes:
    nudge_at: datetime
    escalate_at: datetime


def _after_working_days(at: datetime, days: int, calendar: WorkingCalendar) -> datetime:
    # The same time of day, `days` working days on:
    # "1 working day" from Friday 14:00 is Monday 14:00.
    target = calendar.add_working_days(at.date(), days)
    return datetime.combine(target, at.timetz())


def chase_times(
    raised_at: datetime,
    urgency: str,
    policy: WorriesPolicy,
    calendar: WorkingCalendar,
    zone: tzinfo | None = None,
) -> ChaseTimes:
    # Working days are counted on the local calendar, so read the time where the team is.
    local = raised_at.astimezone(zone) if zone is not None else raised_at
    if urgency == "today":
        return ChaseTimes(
            nudge_at=local + timedelta(minutes=policy.today_nudge_minutes),
            escalate_at=local + timedelta(minutes=policy.today_escalate_minutes),
        )
    return ChaseTimes(
        nudge_at=_after_working_days(local, policy.week_nudge_working_days, calendar),
        escalate_at=_after_working_days(local, policy.week_escalate_working_days, calendar),
    )


def stages_due(
    raised_at: datetime,
    urgency: str,
    policy: WorriesPolicy,
    calendar: WorkingCalendar,
    now: datetime,
) -> tuple[Stage, ...]:
    """What is due for a worry still unclaimed at `now`: nothing, a nudge, or both.

    Each stage is sent once (the ledger keys it by worry and stage), so a bot
    that was down sends both when it catches up rather than skipping the nudge.
    """
    times = chase_times(raised_at, urgency, policy, calendar, now.tzinfo)
    due: list[Stage] = []
    if now >= times.nudge_at:
        due.append("nudge")
    if now >= times.escalate_at:
        due.append("escalate")
    return tuple(due)


# --- who may read a worry ----------------------------------------------------


@dataclass(frozen=True)
class Viewer:
    staff_id: int
    role: str
    team_id: int


@dataclass(frozen=True)
class WorryParties:
    raiser_id: int
    raiser_team_id: int
    to_team_id: int | None
    owner_id: int | None
    owner_team_id: int | None
    recipient_ids: frozenset[int]


def can_read(viewer: Viewer, parties: WorryParties) -> bool:
    """The raiser, the people it was routed to (and its owner), and their managers.

    domain.md, "Information sharing": keep free text of worries to the people it
    was routed to. Admins run the system; they do not read worries.
    """
    if viewer.staff_id in (parties.raiser_id, parties.owner_id) or viewer.staff_id in parties.recipient_ids:
        return True
    if viewer.role != "manager":
        return False
    return viewer.team_id in (parties.raiser_team_id, parties.to_team_id, parties.owner_team_id)


def can_take(viewer: Viewer, parties: WorryParties) -> bool:
    """Someone it was routed to, or anyone in the receiving team; never the raiser."""
    if viewer.staff_id == parties.raiser_id:
        return False
    return viewer.staff_id in parties.recipient_ids or viewer.team_id == parties.to_team_id


# --- words for people ----------------------------------------------------------


def describe_scale(scale: int) -> str:
    return f"{scale}/10"


def summary_line(worry_id: int, child_ref: str | None, scale: int, urgency: str) -> str:
    """The only words about a worry that travel in notifications: no free text."""
    about = child_ref or "a family not yet known"
    when = URGENCY_LABELS[urgency]
    return f"Worry #{worry_id} about {about}: scale {describe_scale(scale)}, reply needed {when}"
