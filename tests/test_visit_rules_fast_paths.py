"""The rules engine's fast paths give exactly what the plain definitions give.

Reminders, digests and lapse alerts run the rules for every child in an
authority (40,000 in the benchmark's large one), so some of the engine takes
shortcuts: working days added by arithmetic, due lists that skip building
obligations nobody needs, compliance that replays only the visits that can
matter. Each is checked here against the slow, obvious version.
"""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.calendar import WorkingCalendar
from bot.visits import (
    ChildDue,
    ChildFacts,
    Compliance,
    DueMemo,
    PlacementType,
    State,
    Status,
    VisitRules,
    _with_visit,
    due_list,
    next_visit,
    obligations,
    visit_compliance,
)
from tests.test_visit_rules import any_facts, any_rules, dates, few

D = date


def walk_working_days(calendar: WorkingCalendar, start: date, days: int) -> date:
    """The definition: step a day at a time, counting working days."""
    current = start
    while days:
        current += timedelta(days=1)
        if calendar.is_working_day(current):
            days -= 1
    return current


@few
@given(dates, st.integers(0, 80), st.frozensets(dates, max_size=15))
def test_adding_working_days_by_arithmetic_lands_where_walking_day_by_day_does(
    start: date, days: int, closures: frozenset[date]
) -> None:
    calendar = WorkingCalendar(extra_closures=closures)
    assert calendar.add_working_days(start, days) == walk_working_days(calendar, start, days)


def test_twenty_working_days_from_christmas_eve_2026_skip_the_bank_holidays() -> None:
    # Fri 25 Dec, Mon 28 Dec (Boxing Day substitute) and Fri 1 Jan 2027 are closed: the 20
    # are 29, 30, 31 Dec, 4-8, 11-15 and 18-22 Jan, then Mon 25 and Tue 26 Jan.
    assert WorkingCalendar().add_working_days(D(2026, 12, 24), 20) == D(2027, 1, 26)


def plain_due_list(children: list[ChildFacts], today: date, rules: VisitRules) -> list[ChildDue]:
    """The definition: every obligation, keep those due soon, due today or overdue."""
    due_states = (State.DUE_SOON, State.DUE_TODAY, State.OVERDUE)
    out = []
    for facts in children:
        items = tuple(o for o in obligations(facts, today, rules) if o.state in due_states)
        if items:
            out.append(ChildDue(facts.child_ref, items))
    out.sort(key=lambda c: (c.most_urgent.due_on, c.child_ref))
    return out


@few
@given(st.lists(any_facts, max_size=8), dates, any_rules)
def test_a_due_list_is_the_children_with_an_obligation_due_soon_today_or_overdue(
    children: list[ChildFacts], today: date, rules: VisitRules
) -> None:
    children = [replace(c, child_ref=f"C{i}") for i, c in enumerate(children)]
    assert due_list(children, today, rules) == plain_due_list(children, today, rules)


@few
@given(st.lists(st.lists(any_facts, max_size=4), max_size=5), dates, any_rules)
def test_due_lists_sharing_one_memo_across_workers_are_each_what_the_definition_gives(
    workers: list[list[ChildFacts]], today: date, rules: VisitRules
) -> None:
    # Children of different workers with the same facts but for the reference: worked out once.
    memo = DueMemo(today, rules, WorkingCalendar())
    for w, children in enumerate(workers):
        children = [replace(c, child_ref=f"W{w}-C{i}") for i, c in enumerate(children + children[:1])]
        assert due_list(children, today, rules, memo=memo) == plain_due_list(children, today, rules)


def test_a_memo_for_one_day_refuses_to_answer_for_another() -> None:
    memo = DueMemo(D(2026, 11, 23), VisitRules(), WorkingCalendar())
    with pytest.raises(ValueError):
        due_list([], D(2026, 11, 24), VisitRules(), memo=memo)


def plain_compliance(
    facts: ChildFacts,
    visits: list[date],
    start: date,
    end: date,
    history_from: date,
    rules: VisitRules,
) -> Compliance:
    """The definition in visit_compliance's docstring, replaying every visit."""
    ordered = sorted(set(visits))
    seen: set[tuple[date, date | None]] = set()
    result = Compliance()
    for opened_by in [None, *ordered]:
        obligation = next_visit(replace(facts, last_visit_on=opened_by), end, rules)
        if obligation is None:
            continue
        key = (obligation.due_on, obligation.counted_from)
        if key in seen:
            continue
        seen.add(key)
        if opened_by is None and (obligation.counted_from is None or obligation.counted_from < history_from):
            continue
        after = opened_by if opened_by is not None else obligation.counted_from
        if after is None:
            continue
        met = next((v for v in ordered if v > after or (opened_by is None and v == after)), None)
        closed = obligation.due_on if met is None else min(met, obligation.due_on)
        if start <= closed <= end:
            on_time = met is not None and met <= obligation.due_on
            result += Compliance(1 if on_time else 0, 1)
    return result


recent = st.dates(min_value=D(2026, 1, 1), max_value=D(2026, 12, 31))


@few
@given(
    any_facts,
    st.lists(recent, max_size=14),
    recent,
    st.integers(1, 120),
    st.integers(0, 200),
    any_rules,
)
def test_compliance_replaying_only_the_visits_that_can_close_in_the_period_counts_the_same(
    facts: ChildFacts,
    visits: list[date],
    end: date,
    period: int,
    history: int,
    rules: VisitRules,
) -> None:
    start = end - timedelta(days=period)
    history_from = start - timedelta(days=history)
    assert visit_compliance(facts, visits, start, end, history_from, rules) == plain_compliance(
        facts, visits, start, end, history_from, rules
    )


def test_a_cp_child_seen_fortnightly_but_late_once_in_the_last_four_weeks_is_two_of_three() -> None:
    facts = ChildFacts("C1", Status.CP, status_since=D(2026, 6, 1))
    # Due 10 working days after each visit: 16 Oct -> 30 Oct (met 28 Oct), 28 Oct -> 11 Nov
    # (met 10 Nov), 10 Nov -> 24 Nov: open, not yet closed; 2 Oct -> 16 Oct closed before.
    visits = [D(2026, 10, 2), D(2026, 10, 16), D(2026, 10, 28), D(2026, 11, 10)]
    assert visit_compliance(facts, visits, D(2026, 10, 26), D(2026, 11, 22), D(2026, 7, 1)) == (Compliance(2, 2))
    late = [D(2026, 10, 2), D(2026, 10, 16), D(2026, 11, 2), D(2026, 11, 10)]
    assert visit_compliance(facts, late, D(2026, 10, 26), D(2026, 11, 22), D(2026, 7, 1)) == (Compliance(1, 2))


def test_the_quick_copy_with_another_last_visit_keeps_every_other_fact() -> None:
    facts = ChildFacts(
        "C1",
        Status.CLA,
        status_since=D(2025, 1, 2),
        placement_start=D(2025, 2, 3),
        placement_type=PlacementType.LONG_TERM,
        last_visit_on=D(2026, 3, 4),
        last_review_on=D(2026, 4, 5),
        date_of_birth=D(2010, 5, 6),
        first_review_on=D(2025, 3, 7),
    )
    assert {f.name for f in fields(ChildFacts)} == {
        "child_ref",
        "status",
        "status_since",
        "placement_start",
        "placement_type",
        "last_visit_on",
        "last_review_on",
        "date_of_birth",
        "first_review_on",
    }, "a new fact: add it to bot.visits._with_visit too"
    assert _with_visit(facts, D(2026, 9, 9)) == replace(facts, last_visit_on=D(2026, 9, 9))
