"""Statutory visit, review and assessment timescales (domain.md, "Statutory
visits and reviews (England)" and "Rules of calculation").

A pure rules engine: facts about one child plus "today" in, obligations out.
No database, no clock, no chat: the caller supplies `today` (Europe/London).

Conventions that hold for every rule below:

* A due date runs from the last visit actually made, or from the triggering
  event (placement start, order, notification, plan start) when no visit has
  happened since. A visit made before the triggering event does not count.
* An obligation is returned only when there is a date to count from. Missing
  optional facts never raise; they only mean fewer obligations.
* Due dates depend only on the facts, never on `today`; `today` only decides
  the state. So as time passes a child's state moves one way only.
* Where the facts are ambiguous the engine picks the reading that makes the
  deadline earlier: an early reminder is cheap, a missed statutory visit is not.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import date, timedelta
from enum import StrEnum
from operator import attrgetter
from typing import NamedTuple

from bot.calendar import WorkingCalendar, add_months, add_weeks
from bot.commands import CommandError

__all__ = [
    "ChildDue",
    "ChildFacts",
    "CommandError",
    "Compliance",
    "Digest",
    "DigestLine",
    "Obligation",
    "ObligationKind",
    "PlacementType",
    "State",
    "Status",
    "VisitRules",
    "describe",
    "due_list",
    "lapsed",
    "next_visit",
    "obligations",
    "parse_visit",
    "parse_visits",
    "state_for",
    "team_digest",
    "visit_compliance",
    "week_key",
]


class Status(StrEnum):
    ASSESSMENT = "assessment"
    CIN = "cin"
    CP = "cp"
    CLA = "cla"
    CARE_LEAVER = "care_leaver"
    PRIVATE_FOSTERING = "private_fostering"
    EARLY_HELP = "early_help"


class PlacementType(StrEnum):
    FOSTER = "foster"
    RESIDENTIAL = "residential"
    # reg 28(3): placed with a parent before the reg 19 assessment is complete.
    PLACED_WITH_PARENT = "placed_with_parent"
    # reg 28(4): connected person with temporary approval under reg 24.
    CONNECTED_PERSON_TEMPORARY = "connected_person_temporary"
    # reg 28(5): care order, living with a parent. placement_start is the order date.
    CARE_ORDER_AT_HOME = "care_order_at_home"
    # reg 28(2)(c): intended to last until 18 / approved long-term foster placement.
    LONG_TERM = "long_term"
    # reg 28(4): interim care order, living with a parent. Same rhythm as a
    # connected person with temporary approval, not as a full care order at home.
    INTERIM_CARE_ORDER_AT_HOME = "interim_care_order_at_home"


class ObligationKind(StrEnum):
    VISIT = "visit"
    CLA_REVIEW = "cla_review"
    CP_REVIEW = "cp_review"
    ASSESSMENT = "assessment"
    PATHWAY_PLAN_REVIEW = "pathway_plan_review"


class State(StrEnum):
    NOT_YET_DUE = "not_yet_due"
    DUE_SOON = "due_soon"
    DUE_TODAY = "due_today"
    OVERDUE = "overdue"


@dataclass(frozen=True)
class VisitRules:
    """Local practice, configurable per authority (domain.md defaults).

    National timescales (reg 28, reg 33, Working Together, private fostering
    and care leavers regulations) are deliberately not here: they are law.
    """

    cp_visit_working_days: int = 10
    cin_visit_working_days: int = 20
    due_soon_working_days: int = 5
    # No statutory interval for former relevant young people (18-25); the
    # common local rhythm is the relevant-child one.
    former_relevant_visit_months: int = 2
    assessment_working_days: int = 45

    def __post_init__(self) -> None:
        for name in (
            "cp_visit_working_days",
            "cin_visit_working_days",
            "due_soon_working_days",
            "former_relevant_visit_months",
            "assessment_working_days",
        ):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")


@dataclass(frozen=True, slots=True)
class ChildFacts:
    """What the engine knows about one child. Only `child_ref` and `status` are required.

    status_since: the triggering date for the status. CLA: became looked after
        (start of this period of care). CP: the initial child protection
        conference (plan start). CIN: start of the CIN plan. Assessment: the
        referral. Private fostering: notification (reg 8(6): the arrangement is
        deemed to begin when the authority becomes aware of it). Care leaver:
        the date they left care.
    placement_start: CLA: start of the current placement (for a care order at
        home, the date of the order). Care leaver: the date they moved to their
        current accommodation.
    last_visit_on: the last statutory visit actually made.
    last_review_on: the last review of the kind the status needs: CLA review,
        CP review conference, or pathway plan review for a care leaver.
    first_review_on: CLA only, optional: the first reg 33 review of this period
        of care. Without it the engine has to guess whether `last_review_on`
        was the first review (see `_cla_review`).
    date_of_birth: care leavers only: 18 or over means former relevant.
    """

    child_ref: str
    status: Status
    status_since: date | None = None
    placement_start: date | None = None
    placement_type: PlacementType | None = None
    last_visit_on: date | None = None
    last_review_on: date | None = None
    date_of_birth: date | None = None
    first_review_on: date | None = None


@dataclass(frozen=True, slots=True)
class Obligation:
    kind: ObligationKind
    due_on: date
    rule: str
    state: State
    days_overdue: int
    working_days_left: int
    counted_from: date | None


class _Due(NamedTuple):
    """An obligation before `today` is applied to it (a tuple: built for every child, every run)."""

    kind: ObligationKind
    due_on: date
    rule: str
    counted_from: date | None


_KIND_ORDER = {kind: index for index, kind in enumerate(ObligationKind)}


def state_for(
    due_on: date,
    today: date,
    rules: VisitRules = VisitRules(),
    calendar: WorkingCalendar = WorkingCalendar(),
) -> State:
    """Due soon within `rules.due_soon_working_days` working days; overdue from the day after."""
    if today > due_on:
        return State.OVERDUE
    if today == due_on:
        return State.DUE_TODAY
    if calendar.working_days_between(today, due_on) <= rules.due_soon_working_days:
        return State.DUE_SOON
    return State.NOT_YET_DUE


def obligations(
    facts: ChildFacts,
    today: date,
    rules: VisitRules = VisitRules(),
    calendar: WorkingCalendar = WorkingCalendar(),
) -> list[Obligation]:
    """Every current obligation for the child, most urgent (earliest due) first."""
    dues = _RULES_BY_STATUS[facts.status](facts, rules, calendar)
    dues.sort(key=lambda d: (d.due_on, _KIND_ORDER[d.kind]))
    return [_apply_today(due, today, rules, calendar) for due in dues]


def next_visit(
    facts: ChildFacts,
    today: date,
    rules: VisitRules = VisitRules(),
    calendar: WorkingCalendar = WorkingCalendar(),
) -> Obligation | None:
    for obligation in obligations(facts, today, rules, calendar):
        if obligation.kind is ObligationKind.VISIT:
            return obligation
    return None


def _apply_today(due: _Due, today: date, rules: VisitRules, calendar: WorkingCalendar) -> Obligation:
    # state_for, with the working days counted once: this runs for every child, every run.
    left = calendar.working_days_between(today, due.due_on)
    if today > due.due_on:
        state = State.OVERDUE
    elif today == due.due_on:
        state = State.DUE_TODAY
    elif left <= rules.due_soon_working_days:
        state = State.DUE_SOON
    else:
        state = State.NOT_YET_DUE
    overdue = state is State.OVERDUE
    return Obligation(
        kind=due.kind,
        due_on=due.due_on,
        rule=due.rule,
        state=state,
        days_overdue=(today - due.due_on).days if overdue else 0,
        working_days_left=left,
        counted_from=due.counted_from,
    )


def _needs_attention(due_on: date, today: date, rules: VisitRules, calendar: WorkingCalendar) -> bool:
    """state_for(...) in _DUE_STATES, without building the obligation."""
    return today >= due_on or (calendar.working_days_between(today, due_on) <= rules.due_soon_working_days)


def _visit_due(facts: ChildFacts, rules: VisitRules, calendar: WorkingCalendar) -> _Due | None:
    """The visit obligation alone (every status has at most one), before `today` is applied."""
    return _VISIT_RULE_BY_STATUS[facts.status](facts, rules, calendar)


def _with_visit(facts: ChildFacts, visit: date | None) -> ChildFacts:
    """`replace(facts, last_visit_on=visit)`, a few times faster (compliance replays histories)."""
    return ChildFacts(
        facts.child_ref,
        facts.status,
        facts.status_since,
        facts.placement_start,
        facts.placement_type,
        visit,
        facts.last_review_on,
        facts.date_of_birth,
        facts.first_review_on,
    )


def _since(event: date | None, visit: date | None) -> date | None:
    """The last visit if it happened on or after the triggering event, else None."""
    if visit is None or (event is not None and visit < event):
        return None
    return visit


# --- Children looked after -------------------------------------------------


def _cla(facts: ChildFacts, rules: VisitRules, calendar: WorkingCalendar) -> list[_Due]:
    return [d for d in (_cla_visit(facts), _cla_review(facts, calendar)) if d is not None]


def _cla_visit(facts: ChildFacts) -> _Due | None:
    """reg 28. Without a placement start the date the child became looked after
    stands in for it (they were placed somewhere that day)."""
    start = facts.placement_start or facts.status_since
    if facts.placement_start is None and facts.status_since is not None:
        start_note = " (no placement start recorded: counted from becoming looked after)"
    else:
        start_note = ""
    kind = facts.placement_type
    # A visit to the previous placement says nothing about the new one.
    visit = _since(start, facts.last_visit_on)

    if visit is None:
        if start is None:
            return None
        if kind is PlacementType.CARE_ORDER_AT_HOME:
            rule = "CLA reg 28(5): within 1 week of the care order (living with a parent)"
        else:
            rule = "CLA reg 28(2)(a): within 1 week of the start of the placement"
        return _Due(ObligationKind.VISIT, add_weeks(start, 1), rule + start_note, start)

    if kind is PlacementType.PLACED_WITH_PARENT:
        if _reviewed_since(facts, start):
            weeks, rule = 6, "CLA reg 28(3): not more than 6 weeks after the first review"
        else:
            weeks, rule = (
                1,
                "CLA reg 28(3): weekly until the first review "
                "(placed with a parent before assessment is complete, reg 19)",
            )
    elif kind in (
        PlacementType.CONNECTED_PERSON_TEMPORARY,
        PlacementType.INTERIM_CARE_ORDER_AT_HOME,
    ):
        if _reviewed_since(facts, start):
            weeks, rule = 4, "CLA reg 28(4): not more than 4 weeks after the first review"
        else:
            who = (
                "connected person with temporary approval, reg 24"
                if kind is PlacementType.CONNECTED_PERSON_TEMPORARY
                else "interim care order, living with a parent"
            )
            weeks, rule = 1, f"CLA reg 28(4): weekly until the first review ({who})"
    elif kind is PlacementType.CARE_ORDER_AT_HOME:
        weeks, rule = 6, "CLA reg 28(5): not more than 6 weeks (care order, living with a parent)"
    else:
        # The interval is picked by when the last visit fell, so a visit late in
        # the first year still carries the 6-week interval (the earlier date).
        # Unknown start: assume the first year, again the earlier date.
        in_first_year = start is None or visit < add_months(start, 12)
        if in_first_year:
            weeks, rule = 6, "CLA reg 28(2)(b): every 6 weeks in the first year of the placement"
        elif kind is PlacementType.LONG_TERM:
            due = add_months(visit, 3)
            rule = "CLA reg 28(2)(c): every 3 months after the first year of a long-term placement"
            return _Due(ObligationKind.VISIT, due, rule, visit)
        else:
            weeks, rule = 6, "CLA reg 28(2)(c): every 6 weeks after the first year of the placement"
    return _Due(ObligationKind.VISIT, add_weeks(visit, weeks), rule, visit)


def _reviewed_since(facts: ChildFacts, start: date | None) -> bool:
    """Has a review been held since this placement began?

    reg 28(3)/(4) say "until the first review". We read that as the first review
    held since the placement started, not the first of the whole period of care:
    the riskier reading to get wrong is ending weekly visits too soon. Without a
    placement start we cannot tell, so weekly visits continue.
    """
    if start is None:
        return False
    return any(r is not None and r >= start for r in (facts.first_review_on, facts.last_review_on))


# A last review held within this many months of becoming looked after may be
# the first (20 working days) or an early second (3 months after that); see
# `_cla_review`. Calendar months, so extra closure days cannot change the guess.
_FIRST_REVIEW_WINDOW_MONTHS = 4


def _cla_review(facts: ChildFacts, calendar: WorkingCalendar) -> _Due | None:
    """reg 33: first within 20 working days of becoming looked after, second
    within 3 months of the first, then every 6 months.

    Reviews before `status_since` belong to an earlier period of care and are
    ignored. The engine needs to know whether the last review was the first:

    * With `first_review_on` it knows exactly.
    * Without it, a last review within 4 months of becoming looked after (or
      with no `status_since` to tell) is taken to be the first, so the next is
      due 3 months on. If it was really the second, the reminder is early, not
      late. Only a first review more than about 3 months late would be misread.
    """
    since = facts.status_since
    first = _since(since, facts.first_review_on)
    last = _since(since, facts.last_review_on)
    if first is not None and (last is None or last <= first):
        return _Due(
            ObligationKind.CLA_REVIEW,
            add_months(first, 3),
            "CLA reg 33: second review within 3 months of the first",
            first,
        )
    maybe_first = since is None or (last is not None and last < add_months(since, _FIRST_REVIEW_WINDOW_MONTHS))
    if last is not None and first is None and maybe_first:
        return _Due(
            ObligationKind.CLA_REVIEW,
            add_months(last, 3),
            "CLA reg 33: second review within 3 months of the first (last review taken to be the first)",
            last,
        )
    if last is not None:
        return _Due(
            ObligationKind.CLA_REVIEW,
            add_months(last, 6),
            "CLA reg 33: reviews at intervals of not more than 6 months after the second",
            last,
        )
    if since is not None:
        return _Due(
            ObligationKind.CLA_REVIEW,
            calendar.add_working_days(since, 20),
            "CLA reg 33: first review within 20 working days of becoming looked after",
            since,
        )
    return None


# --- Child protection, child in need, assessment ---------------------------


def _working_day_visit(facts: ChildFacts, days: int, rule: str, calendar: WorkingCalendar) -> _Due | None:
    """Local working-day visit standards, from the last visit or the plan start if later."""
    visit = _since(facts.status_since, facts.last_visit_on)
    base = visit or facts.status_since
    if base is None:
        return None
    if visit is None:
        rule += " (no visit since the plan started: counted from the plan start)"
    return _Due(ObligationKind.VISIT, calendar.add_working_days(base, days), rule, base)


def _cp(facts: ChildFacts, rules: VisitRules, calendar: WorkingCalendar) -> list[_Due]:
    return [d for d in (_cp_visit(facts, rules, calendar), _cp_review(facts)) if d is not None]


def _cp_visit(facts: ChildFacts, rules: VisitRules, calendar: WorkingCalendar) -> _Due | None:
    days = rules.cp_visit_working_days
    return _working_day_visit(
        facts,
        days,
        f"Local CP visit standard: at least every {days} working days (configurable)",
        calendar,
    )


def _cp_review(facts: ChildFacts) -> _Due | None:
    """Working Together 2023: first review conference within 3 months of the
    initial conference (`status_since`), then every 6 months.

    A review on or before the initial conference date is the conference itself
    or a previous plan's, so it is ignored. Without `status_since`, any recorded
    review is taken to be a review conference (6 months).
    """
    since = facts.status_since
    last = facts.last_review_on
    if last is not None and (since is None or last > since):
        return _Due(
            ObligationKind.CP_REVIEW,
            add_months(last, 6),
            "Working Together 2023: CP review conferences at intervals of not more than 6 months",
            last,
        )
    if since is not None:
        return _Due(
            ObligationKind.CP_REVIEW,
            add_months(since, 3),
            "Working Together 2023: first CP review conference within 3 months of the initial conference",
            since,
        )
    return None


def _cin(facts: ChildFacts, rules: VisitRules, calendar: WorkingCalendar) -> list[_Due]:
    visit = _cin_visit(facts, rules, calendar)
    return [visit] if visit is not None else []


def _cin_visit(facts: ChildFacts, rules: VisitRules, calendar: WorkingCalendar) -> _Due | None:
    days = rules.cin_visit_working_days
    return _working_day_visit(
        facts,
        days,
        f"Local CIN visit standard: at least every {days} working days (configurable)",
        calendar,
    )


def _assessment(facts: ChildFacts, rules: VisitRules, calendar: WorkingCalendar) -> list[_Due]:
    referral = facts.status_since
    if referral is None:
        return []
    days = rules.assessment_working_days
    return [
        _Due(
            ObligationKind.ASSESSMENT,
            calendar.add_working_days(referral, days),
            f"Working Together 2023: single assessment completed within {days} working days of the referral",
            referral,
        )
    ]


# --- Private fostering ------------------------------------------------------


def _private_fostering(facts: ChildFacts, rules: VisitRules, calendar: WorkingCalendar) -> list[_Due]:
    notified = facts.status_since
    visit = _since(notified, facts.last_visit_on)
    if visit is None:
        if notified is None:
            return []
        return [
            _Due(
                ObligationKind.VISIT,
                calendar.add_working_days(notified, 7),
                "Private fostering reg 7: first visit within 7 working days of notification",
                notified,
            )
        ]
    # As for CLA: the year the last visit fell in picks the interval, and an
    # unknown start is treated as the first year (the shorter interval).
    if notified is None or visit < add_months(notified, 12):
        weeks = 6
        rule = "Private fostering reg 8: every 6 weeks in the first year of the arrangement"
    else:
        weeks = 12
        rule = "Private fostering reg 8: every 12 weeks after the first year of the arrangement"
    return [_Due(ObligationKind.VISIT, add_weeks(visit, weeks), rule, visit)]


# --- Care leavers -----------------------------------------------------------


def _age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _care_leaver(facts: ChildFacts, rules: VisitRules, calendar: WorkingCalendar) -> list[_Due]:
    return [d for d in (_care_leaver_visit(facts, rules), _pathway_plan(facts)) if d is not None]


def _care_leaver_visit(facts: ChildFacts, rules: VisitRules) -> _Due | None:
    """Care Leavers (England) Regulations 2010: within 7 days of moving to new
    accommodation, then at intervals of not more than 2 months.

    A move after the last visit restarts the clock, as a new placement does for
    CLA. With no visit and no move, the 2 months run from leaving care.
    Relevant child or former relevant is judged by age on the date counted
    from, so the due date never shifts as `today` passes an 18th birthday.
    Without a date of birth the relevant-child rule applies.
    """
    moved = facts.placement_start
    visit = facts.last_visit_on
    if moved is not None and (visit is None or moved > visit):
        return _Due(
            ObligationKind.VISIT,
            moved + timedelta(days=7),
            "Care Leavers regs: visit within 7 days of moving to new accommodation",
            moved,
        )
    base = visit or facts.status_since
    if base is None:
        return None
    born = facts.date_of_birth
    if born is not None and _age_on(born, base) >= 18:
        months = rules.former_relevant_visit_months
        rule = (
            f"Local standard for former relevant young people (18-25): at least every "
            f"{months} months (no statutory interval; configurable)"
        )
    else:
        months = 2
        rule = "Care Leavers regs: relevant child visited at intervals of not more than 2 months"
    if visit is None:
        rule += " (no visit recorded: counted from leaving care)"
    return _Due(ObligationKind.VISIT, add_months(base, months), rule, base)


def _pathway_plan(facts: ChildFacts) -> _Due | None:
    """Pathway plan reviewed at least every 6 months; with no review recorded
    the 6 months run from leaving care. A review made while still in care
    counts: it is the same plan."""
    base = facts.last_review_on or facts.status_since
    if base is None:
        return None
    rule = "Care Leavers regs: pathway plan reviewed at least every 6 months"
    if facts.last_review_on is None:
        rule += " (no review recorded: counted from leaving care)"
    return _Due(ObligationKind.PATHWAY_PLAN_REVIEW, add_months(base, 6), rule, base)


def _early_help(facts: ChildFacts, rules: VisitRules, calendar: WorkingCalendar) -> list[_Due]:
    # Below the statutory threshold: no national or default local timescales.
    return []


_RULES_BY_STATUS: dict[Status, Callable[[ChildFacts, VisitRules, WorkingCalendar], list[_Due]]] = {
    Status.ASSESSMENT: _assessment,
    Status.CIN: _cin,
    Status.CP: _cp,
    Status.CLA: _cla,
    Status.CARE_LEAVER: _care_leaver,
    Status.PRIVATE_FOSTERING: _private_fostering,
    Status.EARLY_HELP: _early_help,
}


def _first(dues: list[_Due]) -> _Due | None:
    return dues[0] if dues else None


# The visit obligation alone, for replaying a history (compliance): no reviews worked out.
_VISIT_RULE_BY_STATUS: dict[Status, Callable[[ChildFacts, VisitRules, WorkingCalendar], _Due | None]] = {
    Status.ASSESSMENT: lambda facts, rules, calendar: None,
    Status.CIN: _cin_visit,
    Status.CP: _cp_visit,
    Status.CLA: lambda facts, rules, calendar: _cla_visit(facts),
    Status.CARE_LEAVER: lambda facts, rules, calendar: _care_leaver_visit(facts, rules),
    Status.PRIVATE_FOSTERING: lambda facts, rules, calendar: _first(_private_fostering(facts, rules, calendar)),
    Status.EARLY_HELP: lambda facts, rules, calendar: None,
}


# --- what is due: reminders, digests, compliance ------------------------------

KIND_LABELS = {
    ObligationKind.VISIT: "visit",
    ObligationKind.CLA_REVIEW: "CLA review",
    ObligationKind.CP_REVIEW: "CP review conference",
    ObligationKind.ASSESSMENT: "assessment",
    ObligationKind.PATHWAY_PLAN_REVIEW: "pathway plan review",
}

_DUE_STATES = (State.DUE_SOON, State.DUE_TODAY, State.OVERDUE)


def describe(obligation: Obligation) -> str:
    """'visit overdue by 3 days', 'CLA review due today', 'visit due in 4 working days'."""
    label = KIND_LABELS[obligation.kind]
    match obligation.state:
        case State.OVERDUE:
            days = obligation.days_overdue
            return f"{label} overdue by {days} day{'s' if days != 1 else ''}"
        case State.DUE_TODAY:
            return f"{label} due today"
        case _:
            left = obligation.working_days_left
            return f"{label} due in {left} working day{'s' if left != 1 else ''}"


@dataclass(frozen=True, slots=True)
class ChildDue:
    """One child's obligations that need attention now (due soon, due today or overdue)."""

    child_ref: str
    items: tuple[Obligation, ...]

    @property
    def most_urgent(self) -> Obligation:
        return self.items[0]

    @property
    def is_overdue(self) -> bool:
        return any(o.state is State.OVERDUE for o in self.items)

    @property
    def visit_due(self) -> bool:
        return any(o.kind is ObligationKind.VISIT for o in self.items)


class DueMemo:
    """What needs attention for a child with given facts, worked out once per run.

    Reminders and lapse alerts ask for every child in an authority, and children
    share their facts but for the reference: the same status, visited the same
    day, conferenced the same week. A memo works out each distinct set of facts
    once, for one `today`, rules and calendar; share it across a run's workers.
    """

    def __init__(self, today: date, rules: VisitRules, calendar: WorkingCalendar) -> None:
        self.today = today
        self.rules = rules
        self.calendar = calendar
        self._by_facts: dict[tuple[object, ...], tuple[Obligation, ...]] = {}
        self._all_by_facts: dict[tuple[object, ...], tuple[Obligation, ...]] = {}
        # Many obligations share due dates: each date is judged once.
        self._attention: dict[date, bool] = {}

    def obligations(self, facts: ChildFacts) -> tuple[Obligation, ...]:
        """`obligations(facts, today, rules, calendar)`, once per set of facts."""
        key = _facts_key(facts)
        found = self._all_by_facts.get(key)
        if found is None:
            found = self._all_by_facts[key] = tuple(obligations(facts, self.today, self.rules, self.calendar))
        return found

    def needs_attention(self, facts: ChildFacts) -> tuple[Obligation, ...]:
        """The child's obligations due soon, due today or overdue, most urgent first."""
        key = _facts_key(facts)
        items = self._by_facts.get(key)
        if items is None:
            items = self._by_facts[key] = self._work_out(facts)
        return items

    def _work_out(self, facts: ChildFacts) -> tuple[Obligation, ...]:
        today, rules, calendar, attention = self.today, self.rules, self.calendar, self._attention
        # Most obligations are not due yet: sift on the due date before building any.
        dues = []
        for d in _RULES_BY_STATUS[facts.status](facts, rules, calendar):
            needs = attention.get(d.due_on)
            if needs is None:
                needs = attention[d.due_on] = _needs_attention(d.due_on, today, rules, calendar)
            if needs:
                dues.append(d)
        dues.sort(key=lambda d: (d.due_on, _KIND_ORDER[d.kind]))
        return tuple(_apply_today(d, today, rules, calendar) for d in dues)


# Every fact but the reference: what the rules read.
_facts_key = attrgetter(*(f.name for f in fields(ChildFacts) if f.name != "child_ref"))


def _memo_for(memo: DueMemo | None, today: date, rules: VisitRules, calendar: WorkingCalendar) -> DueMemo:
    if memo is None:
        return DueMemo(today, rules, calendar)
    if (memo.today, memo.rules, memo.calendar) != (today, rules, calendar):
        raise ValueError("a DueMemo is for one day, one set of rules and one calendar")
    return memo


def due_list(
    children: Iterable[ChildFacts],
    today: date,
    rules: VisitRules = VisitRules(),
    calendar: WorkingCalendar = WorkingCalendar(),
    memo: DueMemo | None = None,
) -> list[ChildDue]:
    """Children with something due soon or overdue, most urgent (earliest due) first.

    `memo`, shared by the calls of one run (for the same `today`, rules and calendar),
    saves working out the same facts twice.
    """
    memo = _memo_for(memo, today, rules, calendar)
    out = [ChildDue(f.child_ref, items) for f in children if (items := memo.needs_attention(f))]
    out.sort(key=lambda c: (c.most_urgent.due_on, c.child_ref))
    return out


def lapsed(obligation: Obligation, today: date, working_days: int, calendar: WorkingCalendar) -> bool:
    """Overdue by more than `working_days` working days: the manager's threshold."""
    return obligation.state is State.OVERDUE and calendar.working_days_between(obligation.due_on, today) > working_days


@dataclass(frozen=True, slots=True)
class Compliance:
    """Visits done on time out of visits due (see `visit_compliance`)."""

    on_time: int = 0
    due: int = 0

    def __add__(self, other: Compliance) -> Compliance:
        return Compliance(self.on_time + other.on_time, self.due + other.due)

    @property
    def percent(self) -> int | None:
        return None if self.due == 0 else round(100 * self.on_time / self.due)

    def __str__(self) -> str:
        if self.percent is None:
            return "no visits were due"
        return f"{self.percent}% ({self.on_time} of {self.due} visits on time)"


def visit_compliance(
    facts: ChildFacts,
    visits: Sequence[date],
    start: date,
    end: date,
    history_from: date,
    rules: VisitRules = VisitRules(),
    calendar: WorkingCalendar = WorkingCalendar(),
) -> Compliance:
    """Visits done on time / visits due, for visit obligations that closed in [start, end].

    Definition. Every statutory visit opens the next visit obligation, with
    the due date the reminders would have given it; so does the triggering
    event (placement start, plan start, notification) before the first visit.
    An obligation *closes* on the earlier of the visit that met it and its due
    date, and counts in the period it closed in: on time if that visit came on
    or before the due date. So an early visit counts when it is made, and a
    missed one on its due date (a late visit never counts as on time).

    `visits` should hold every statutory visit since `history_from`; an
    obligation counted from a triggering event before `history_from` is left
    out, because the visit that met it may be missing from the history.
    Simplification: today's facts (status, placement) stand in for the past,
    so a change of status inside the period is not replayed.
    """
    ordered = sorted(set(visits))
    seen: set[tuple[date, date | None]] = set()
    result = Compliance()
    # A visit's obligation closes by the next visit at the latest, so one whose next visit
    # came before `start` cannot close in the period: only the last visit before `start`
    # and those after open obligations worth replaying. (Skipping the others changes
    # nothing: two openers share an obligation only when a visit predates the triggering
    # event, and then it is the no-visit one, which is always replayed first.)
    first = bisect_left(ordered, start)
    for opened_by in [None, *ordered[max(0, first - 1) :]]:
        obligation = _visit_due(_with_visit(facts, opened_by), rules, calendar)
        if obligation is None:
            continue
        key = (obligation.due_on, obligation.counted_from)
        if key in seen:
            continue  # a visit before the triggering event: the same obligation again
        seen.add(key)
        if opened_by is None and (obligation.counted_from is None or obligation.counted_from < history_from):
            continue
        after = opened_by if opened_by is not None else obligation.counted_from
        if after is None:
            continue
        # The first visit after the opener (on or after the triggering event, for none).
        at = bisect_left(ordered, after) if opened_by is None else bisect_right(ordered, after)
        met = ordered[at] if at < len(ordered) else None
        closed = obligation.due_on if met is None else min(met, obligation.due_on)
        if start <= closed <= end:
            on_time = met is not None and met <= obligation.due_on
            result += Compliance(1 if on_time else 0, 1)
    return result


def week_key(day: date) -> str:
    """The ISO week a day falls in, e.g. '2026-W48': the weekly digest's due key."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_bounds(day: date) -> tuple[date, date]:
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


@dataclass(frozen=True, slots=True)
class DigestLine:
    child_ref: str
    worker: str
    obligation: Obligation


@dataclass(frozen=True)
class Digest:
    """A team's week: counts, compliance, and the overdue list (refs and workers only)."""

    team: str
    week: str
    on: date
    due_this_week: int
    overdue: tuple[DigestLine, ...]
    compliance: Compliance

    @property
    def is_empty(self) -> bool:
        return not self.due_this_week and not self.overdue and not self.compliance.due


def team_digest(
    team: str,
    held: Iterable[tuple[str, ChildFacts]],
    compliance: Compliance,
    today: date,
    rules: VisitRules = VisitRules(),
    calendar: WorkingCalendar = WorkingCalendar(),
    memo: DueMemo | None = None,
) -> Digest:
    """`held` is (worker name, child facts) for each child the team holds.

    `memo`, shared by a run's teams, saves working out the same facts twice.
    """
    memo = _memo_for(memo, today, rules, calendar)
    _, sunday = week_bounds(today)
    due_this_week = 0
    overdue: list[DigestLine] = []
    for worker, facts in held:
        for obligation in memo.obligations(facts):
            if obligation.state is State.OVERDUE:
                overdue.append(DigestLine(facts.child_ref, worker, obligation))
            elif obligation.due_on <= sunday:
                due_this_week += 1
    overdue.sort(key=lambda line: (line.obligation.due_on, line.child_ref))
    return Digest(team, week_key(today), today, due_this_week, tuple(overdue), compliance)


# --- the /visit and /visits commands ------------------------------------------

VISIT_USAGE = (
    "*How to use /visit*\n"
    "• `/visit CHILD_REF`: record that you visited the child today\n"
    "• `/visit CHILD_REF 2026-11-20` (or `20/11/2026`, `yesterday`): a visit on another day\n"
    "• `/visit CHILD_REF DATE confirm`: record a visit earlier than the last one recorded\n"
    "Visits can't be in the future. You can record visits for your own children; "
    "managers for their team's."
)

VISITS_USAGE = (
    "*How to use /visits*\n"
    "• `/visits`: your children with visits or reviews due soon or overdue\n"
    "• `/visits team`: your team's compliance and overdue list (managers)\n"
    "• `/visits CHILD_REF`: every obligation for one child, with its rule\n"
    "• `/visits help`: this message"
)


@dataclass(frozen=True)
class RecordVisit:
    child_ref: str
    visited_on: date
    confirmed: bool = False


@dataclass(frozen=True)
class MyVisits:
    pass


@dataclass(frozen=True)
class TeamVisits:
    pass


@dataclass(frozen=True)
class ExplainChild:
    child_ref: str


@dataclass(frozen=True)
class VisitsHelp:
    pass


VisitsCommand = MyVisits | TeamVisits | ExplainChild | VisitsHelp

_REF = re.compile(r"^[A-Za-z0-9/_.-]{1,64}$")


def parse_date(text: str, today: date) -> date | None:
    """'2026-11-20', '20/11/2026', 'today', 'yesterday'; None when not a date."""
    word = text.strip().lower()
    if word == "today":
        return today
    if word == "yesterday":
        return today - timedelta(days=1)
    try:
        return date.fromisoformat(word)
    except ValueError:
        pass
    parts = word.split("/")
    if len(parts) == 3 and all(p.isdigit() for p in parts):
        try:
            return date(int(parts[2]), int(parts[1]), int(parts[0]))
        except ValueError:
            return None
    return None


def parse_visit(text: str, today: date) -> RecordVisit | VisitsHelp:
    words = text.split()
    match [w.lower() for w in words]:
        case [] | ["help"] | ["?"]:
            return VisitsHelp()
        case [_, *rest] if len(rest) <= 2:
            ref = words[0]
            if not _REF.match(ref):
                raise CommandError(f"`{ref}` isn't a case reference.", VISIT_USAGE)
            confirmed = bool(rest) and rest[-1] == "confirm"
            if confirmed:
                rest = rest[:-1]
            if not rest:
                return RecordVisit(ref, today, confirmed)
            if len(rest) == 1:
                visited = parse_date(rest[0], today)
                if visited is None:
                    raise CommandError(
                        f"`{words[1]}` isn't a date I can read: try 2026-11-20 or 20/11/2026.",
                        VISIT_USAGE,
                    )
                return RecordVisit(ref, visited, confirmed)
    raise CommandError(f"I didn't understand `/visit {text.strip()}`.", VISIT_USAGE)


def parse_visits(text: str) -> VisitsCommand:
    words = text.split()
    match [w.lower() for w in words]:
        case [] | ["me"] | ["mine"]:
            return MyVisits()
        case ["help"] | ["?"]:
            return VisitsHelp()
        case ["team"]:
            return TeamVisits()
        case [_] if _REF.match(words[0]):
            return ExplainChild(words[0])
    raise CommandError(f"I didn't understand `/visits {text.strip()}`.", VISITS_USAGE)


class DateProblem(StrEnum):
    FUTURE = "future"
    BEFORE_LAST = "before_last"


def check_visit_date(visited_on: date, today: date, last_visit_on: date | None, confirmed: bool) -> DateProblem | None:
    """A visit can't be in the future; one earlier than the last recorded needs a confirmation
    (usually a typo, but sometimes a visit someone forgot to record)."""
    if visited_on > today:
        return DateProblem.FUTURE
    if last_visit_on is not None and visited_on < last_visit_on and not confirmed:
        return DateProblem.BEFORE_LAST
    return None


STATE_LABELS = {
    State.NOT_YET_DUE: "not yet due",
    State.DUE_SOON: "due soon",
    State.DUE_TODAY: "due today",
    State.OVERDUE: "OVERDUE",
}


def _day(d: date) -> str:
    return f"{d:%a} {d.day} {d:%b %Y}"


def explain(
    facts: ChildFacts,
    today: date,
    rules: VisitRules = VisitRules(),
    calendar: WorkingCalendar = WorkingCalendar(),
) -> list[str]:
    """One line per obligation: what, due when, its state and the rule behind it.

    The answer to "why does the bot say this is overdue?".
    """
    found = obligations(facts, today, rules, calendar)
    if not found:
        return [
            f"{facts.child_ref} ({facts.status}): no obligations to count "
            "(no dates recorded to count from, or none apply to this status)."
        ]
    lines = []
    for o in found:
        if o.state is State.OVERDUE:
            state = f"OVERDUE by {o.days_overdue} day{'s' if o.days_overdue != 1 else ''}"
        elif o.state is State.DUE_TODAY:
            state = "due today"
        else:
            left = o.working_days_left
            state = f"{STATE_LABELS[o.state]}, {left} working day{'s' if left != 1 else ''} left"
        counted = f"; counted from {_day(o.counted_from)}" if o.counted_from else ""
        lines.append(
            f"{KIND_LABELS[o.kind]}: due {_day(o.due_on)} ({o.due_on.isoformat()}), {state}. Rule: {o.rule}{counted}."
        )
    return lines
