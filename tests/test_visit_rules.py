"""The statutory timescales in bot/visits.py, as stories with hand-checked dates.

Bank holidays used below (England): Good Friday 3 April and Easter Monday
6 April 2026; early May bank holiday 4 May 2026; Christmas Day Friday
25 December 2026 and the Boxing Day substitute Monday 28 December 2026; New
Year's Day Friday 1 January 2027; Good Friday 26 March and Easter Monday
29 March 2027.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.calendar import WorkingCalendar
from bot.visits import (
    ChildFacts,
    Obligation,
    ObligationKind,
    PlacementType,
    State,
    Status,
    VisitRules,
    next_visit,
    obligations,
    state_for,
)

D = date
CLA, CP, CIN = Status.CLA, Status.CP, Status.CIN
FOSTER = PlacementType.FOSTER
LONG_TERM = PlacementType.LONG_TERM
WITH_PARENT = PlacementType.PLACED_WITH_PARENT


def child(status: Status, **facts: object) -> ChildFacts:
    return ChildFacts("C1", status, **facts)  # type: ignore[arg-type]


def visit_for(facts: ChildFacts, rules: VisitRules = VisitRules()) -> Obligation:
    found = next_visit(facts, D(2026, 1, 1), rules)
    assert found is not None
    return found


def only(facts: ChildFacts, kind: ObligationKind) -> Obligation:
    found = [o for o in obligations(facts, D(2026, 1, 1)) if o.kind is kind]
    assert len(found) == 1
    return found[0]


# --- CLA visits, reg 28 -------------------------------------------------------


def test_a_child_placed_in_foster_care_on_1_june_must_be_visited_by_8_june() -> None:
    visit = visit_for(child(CLA, placement_start=D(2026, 6, 1), placement_type=FOSTER))
    assert visit.due_on == D(2026, 6, 8)
    assert visit.counted_from == D(2026, 6, 1)
    assert "reg 28(2)(a)" in visit.rule


def test_a_foster_child_visited_on_3_march_must_be_seen_again_by_14_april() -> None:
    facts = child(CLA, placement_start=D(2026, 2, 1), placement_type=FOSTER, last_visit_on=D(2026, 3, 3))
    visit = visit_for(facts)
    assert visit.due_on == D(2026, 4, 14)
    assert visit.counted_from == D(2026, 3, 3)
    assert "reg 28(2)(b)" in visit.rule


def test_a_long_term_placement_visited_on_31_january_after_its_first_year_is_due_by_30_april() -> None:
    facts = child(CLA, placement_start=D(2024, 9, 1), placement_type=LONG_TERM, last_visit_on=D(2026, 1, 31))
    visit = visit_for(facts)
    assert visit.due_on == D(2026, 4, 30)
    assert "reg 28(2)(c)" in visit.rule and "3 months" in visit.rule


@pytest.mark.parametrize("placement_type", [FOSTER, PlacementType.RESIDENTIAL, None], ids=str)
def test_a_placement_that_is_not_long_term_stays_six_weekly_after_its_first_year(
    placement_type: PlacementType | None,
) -> None:
    facts = child(
        CLA,
        placement_start=D(2024, 9, 1),
        placement_type=placement_type,
        last_visit_on=D(2026, 1, 31),
    )
    visit = visit_for(facts)
    assert visit.due_on == D(2026, 3, 14)
    assert "reg 28(2)(c)" in visit.rule


@pytest.mark.parametrize(
    ("last_visit", "due"),
    [
        # The day before the first anniversary: still the first year, 6 weeks.
        (D(2026, 5, 31), D(2026, 7, 12)),
        # On the anniversary: the second year, 3 months.
        (D(2026, 6, 1), D(2026, 9, 1)),
    ],
)
def test_a_long_term_placement_from_1_june_2025_switches_to_three_months_on_its_anniversary(
    last_visit: date, due: date
) -> None:
    facts = child(CLA, placement_start=D(2025, 6, 1), placement_type=LONG_TERM, last_visit_on=last_visit)
    assert visit_for(facts).due_on == due


def test_a_visit_to_the_old_placement_does_not_count_for_a_child_who_moved_on_10_february() -> None:
    facts = child(CLA, placement_start=D(2026, 2, 10), placement_type=FOSTER, last_visit_on=D(2026, 2, 5))
    visit = visit_for(facts)
    assert visit.due_on == D(2026, 2, 17)
    assert visit.counted_from == D(2026, 2, 10)


def test_a_visit_on_the_day_of_placement_starts_the_six_week_clock() -> None:
    facts = child(CLA, placement_start=D(2026, 6, 1), placement_type=FOSTER, last_visit_on=D(2026, 6, 1))
    assert visit_for(facts).due_on == D(2026, 7, 13)


def test_a_child_placed_with_a_parent_before_assessment_is_seen_weekly_until_first_review() -> None:
    facts = child(
        CLA,
        status_since=D(2026, 6, 1),
        placement_start=D(2026, 6, 1),
        placement_type=WITH_PARENT,
        last_visit_on=D(2026, 6, 8),
    )
    visit = visit_for(facts)
    assert visit.due_on == D(2026, 6, 15)
    assert "reg 28(3)" in visit.rule and "weekly" in visit.rule


def test_a_child_placed_with_a_parent_is_visited_six_weekly_after_the_first_review() -> None:
    facts = child(
        CLA,
        status_since=D(2026, 6, 1),
        placement_start=D(2026, 6, 1),
        placement_type=WITH_PARENT,
        last_visit_on=D(2026, 6, 29),
        last_review_on=D(2026, 6, 26),
    )
    visit = visit_for(facts)
    assert visit.due_on == D(2026, 8, 10)
    assert "reg 28(3)" in visit.rule


def test_a_review_before_a_child_went_home_to_a_parent_does_not_end_weekly_visits() -> None:
    facts = child(
        CLA,
        status_since=D(2025, 1, 1),
        placement_start=D(2026, 6, 1),
        placement_type=WITH_PARENT,
        last_visit_on=D(2026, 6, 8),
        last_review_on=D(2026, 5, 1),
    )
    assert visit_for(facts).due_on == D(2026, 6, 15)


@pytest.mark.parametrize(
    "placement_type",
    [PlacementType.CONNECTED_PERSON_TEMPORARY, PlacementType.INTERIM_CARE_ORDER_AT_HOME],
    ids=str,
)
def test_a_temporary_connected_person_or_interim_order_at_home_is_weekly_then_four_weekly(
    placement_type: PlacementType,
) -> None:
    before_review = child(
        CLA,
        status_since=D(2026, 6, 1),
        placement_start=D(2026, 6, 1),
        placement_type=placement_type,
        last_visit_on=D(2026, 6, 22),
    )
    weekly = visit_for(before_review)
    assert weekly.due_on == D(2026, 6, 29)
    assert "reg 28(4)" in weekly.rule

    after_review = replace(before_review, last_visit_on=D(2026, 6, 29), last_review_on=D(2026, 6, 26))
    four_weekly = visit_for(after_review)
    assert four_weekly.due_on == D(2026, 7, 27)
    assert "reg 28(4)" in four_weekly.rule


def test_a_care_order_at_home_made_on_1_june_needs_a_visit_by_8_june_then_every_six_weeks() -> None:
    order = child(CLA, placement_start=D(2026, 6, 1), placement_type=PlacementType.CARE_ORDER_AT_HOME)
    first = visit_for(order)
    assert first.due_on == D(2026, 6, 8)
    assert "reg 28(5)" in first.rule

    assert visit_for(replace(order, last_visit_on=D(2026, 6, 5))).due_on == D(2026, 7, 17)
    # No 3-month rhythm for a care order at home, however long it has lasted.
    years_later = replace(order, placement_start=D(2024, 1, 1), last_visit_on=D(2026, 1, 31))
    assert visit_for(years_later).due_on == D(2026, 3, 14)


def test_a_looked_after_child_with_no_placement_start_is_counted_from_becoming_looked_after() -> None:
    visit = visit_for(child(CLA, status_since=D(2026, 6, 1), placement_type=FOSTER))
    assert visit.due_on == D(2026, 6, 8)
    assert "no placement start" in visit.rule


@pytest.mark.parametrize(
    ("placement_type", "due"),
    [
        (FOSTER, D(2026, 3, 14)),
        # Without a placement start the first year cannot be ruled out: 6 weeks.
        (LONG_TERM, D(2026, 3, 14)),
        # Without a placement start no review can be shown to follow it: weekly.
        (WITH_PARENT, D(2026, 2, 7)),
    ],
    ids=str,
)
def test_a_looked_after_child_known_only_by_a_last_visit_gets_the_safer_interval(
    placement_type: PlacementType, due: date
) -> None:
    facts = child(
        CLA,
        placement_type=placement_type,
        last_visit_on=D(2026, 1, 31),
        last_review_on=D(2026, 1, 20),
    )
    assert visit_for(facts).due_on == due


# --- CLA reviews, reg 33 ------------------------------------------------------


def test_looked_after_from_14_december_2026_first_review_by_14_january_after_christmas() -> None:
    # 20 working days skip 25 and 28 December and 1 January (else 11 January).
    review = only(child(CLA, status_since=D(2026, 12, 14)), ObligationKind.CLA_REVIEW)
    assert review.due_on == D(2027, 1, 14)
    assert "reg 33" in review.rule and "first review" in review.rule


def test_a_first_review_on_31_january_means_the_second_is_due_by_30_april() -> None:
    facts = child(
        CLA,
        status_since=D(2026, 1, 5),
        first_review_on=D(2026, 1, 31),
        last_review_on=D(2026, 1, 31),
    )
    review = only(facts, ObligationKind.CLA_REVIEW)
    assert review.due_on == D(2026, 4, 30)
    assert "second review" in review.rule


def test_reviews_after_the_second_are_six_monthly() -> None:
    facts = child(
        CLA,
        status_since=D(2026, 1, 5),
        first_review_on=D(2026, 1, 31),
        last_review_on=D(2026, 4, 30),
    )
    assert only(facts, ObligationKind.CLA_REVIEW).due_on == D(2026, 10, 30)


def test_without_a_first_review_date_an_early_last_review_is_taken_to_be_the_first() -> None:
    facts = child(CLA, status_since=D(2026, 1, 5), last_review_on=D(2026, 1, 30))
    review = only(facts, ObligationKind.CLA_REVIEW)
    assert review.due_on == D(2026, 4, 30)
    assert "taken to be the first" in review.rule


def test_without_a_first_review_date_a_review_years_into_care_is_six_monthly() -> None:
    facts = child(CLA, status_since=D(2024, 1, 5), last_review_on=D(2026, 1, 31))
    assert only(facts, ObligationKind.CLA_REVIEW).due_on == D(2026, 7, 31)


def test_without_any_date_of_coming_into_care_a_last_review_is_taken_to_be_the_first() -> None:
    facts = child(CLA, last_review_on=D(2026, 1, 31))
    assert only(facts, ObligationKind.CLA_REVIEW).due_on == D(2026, 4, 30)


def test_a_review_from_an_earlier_period_of_care_is_ignored() -> None:
    facts = child(CLA, status_since=D(2026, 12, 14), last_review_on=D(2026, 6, 1))
    assert only(facts, ObligationKind.CLA_REVIEW).due_on == D(2027, 1, 14)


# --- Child protection ---------------------------------------------------------


def test_a_child_on_a_cp_plan_visited_on_22_march_2027_is_due_by_7_april_after_easter() -> None:
    # 10 working days skip Good Friday and Easter Monday (else 5 April).
    visit = visit_for(child(CP, status_since=D(2027, 1, 11), last_visit_on=D(2027, 3, 22)))
    assert visit.due_on == D(2027, 4, 7)
    assert "10 working days" in visit.rule


def test_a_new_cp_plan_from_14_december_2026_with_no_visit_is_due_by_30_december() -> None:
    visit = visit_for(child(CP, status_since=D(2026, 12, 14)))
    assert visit.due_on == D(2026, 12, 30)
    assert visit.counted_from == D(2026, 12, 14)


def test_a_visit_before_the_cp_plan_started_does_not_count() -> None:
    visit = visit_for(child(CP, status_since=D(2026, 12, 14), last_visit_on=D(2026, 12, 10)))
    assert visit.due_on == D(2026, 12, 30)


def test_an_authority_with_a_four_weekly_cp_standard_can_set_20_working_days() -> None:
    facts = child(CP, status_since=D(2026, 11, 1), last_visit_on=D(2026, 12, 14))
    visit = visit_for(facts, VisitRules(cp_visit_working_days=20))
    assert visit.due_on == D(2027, 1, 14)
    assert "20 working days" in visit.rule


def test_the_first_review_conference_after_an_icpc_on_31_august_2026_is_due_by_30_november() -> None:
    review = only(child(CP, status_since=D(2026, 8, 31)), ObligationKind.CP_REVIEW)
    assert review.due_on == D(2026, 11, 30)
    assert "3 months" in review.rule


def test_an_icpc_recorded_as_the_last_review_is_not_a_review_conference() -> None:
    facts = child(CP, status_since=D(2026, 8, 31), last_review_on=D(2026, 8, 31))
    assert only(facts, ObligationKind.CP_REVIEW).due_on == D(2026, 11, 30)


def test_cp_review_conferences_after_the_first_are_six_monthly() -> None:
    facts = child(CP, status_since=D(2026, 1, 5), last_review_on=D(2026, 3, 31))
    review = only(facts, ObligationKind.CP_REVIEW)
    assert review.due_on == D(2026, 9, 30)
    assert "6 months" in review.rule


# --- Child in need and assessments ---------------------------------------------


def test_a_child_in_need_visited_on_14_december_2026_is_due_by_14_january_2027() -> None:
    visit = visit_for(child(CIN, last_visit_on=D(2026, 12, 14)))
    assert visit.due_on == D(2027, 1, 14)


def test_an_authority_with_a_six_weekly_cin_standard_can_set_30_working_days() -> None:
    facts = child(CIN, last_visit_on=D(2026, 3, 2))
    assert visit_for(facts, VisitRules(cin_visit_working_days=30)).due_on == D(2026, 4, 15)


def test_a_council_christmas_shutdown_pushes_a_cin_visit_later() -> None:
    shutdown = WorkingCalendar(extra_closures=frozenset({D(2026, 12, 29), D(2026, 12, 30)}))
    found = next_visit(child(CIN, last_visit_on=D(2026, 12, 14)), D(2026, 12, 14), calendar=shutdown)
    assert found is not None and found.due_on == D(2027, 1, 18)


def test_an_assessment_referred_on_2_march_2026_is_due_by_7_may_after_easter_and_may_day() -> None:
    facts = child(Status.ASSESSMENT, status_since=D(2026, 3, 2))
    [assessment] = obligations(facts, D(2026, 3, 2))
    assert assessment.kind is ObligationKind.ASSESSMENT
    assert assessment.due_on == D(2026, 5, 7)
    assert "45 working days" in assessment.rule


# --- Private fostering ----------------------------------------------------------


def test_a_private_fostering_notification_on_18_december_2026_needs_a_visit_by_31_december() -> None:
    visit = visit_for(child(Status.PRIVATE_FOSTERING, status_since=D(2026, 12, 18)))
    assert visit.due_on == D(2026, 12, 31)
    assert "reg 7" in visit.rule


def test_a_private_fostering_visit_made_before_notification_does_not_count() -> None:
    facts = child(Status.PRIVATE_FOSTERING, status_since=D(2026, 12, 18), last_visit_on=D(2026, 12, 10))
    assert visit_for(facts).due_on == D(2026, 12, 31)


@pytest.mark.parametrize(
    ("notified", "due", "weeks"),
    [(D(2026, 1, 5), D(2026, 4, 14), "6 weeks"), (D(2025, 1, 5), D(2026, 5, 26), "12 weeks")],
)
def test_private_fostering_visits_are_six_weekly_in_the_first_year_then_twelve_weekly(
    notified: date, due: date, weeks: str
) -> None:
    facts = child(Status.PRIVATE_FOSTERING, status_since=notified, last_visit_on=D(2026, 3, 3))
    visit = visit_for(facts)
    assert visit.due_on == due
    assert "reg 8" in visit.rule and weeks in visit.rule


# --- Care leavers ---------------------------------------------------------------


def test_a_care_leaver_visited_on_31_december_2026_is_due_by_28_february_2027() -> None:
    facts = child(Status.CARE_LEAVER, date_of_birth=D(2009, 6, 1), last_visit_on=D(2026, 12, 31))
    assert visit_for(facts).due_on == D(2027, 2, 28)


def test_a_care_leaver_who_moves_after_their_last_visit_must_be_seen_within_7_days() -> None:
    facts = child(Status.CARE_LEAVER, last_visit_on=D(2026, 3, 3), placement_start=D(2026, 3, 20))
    visit = visit_for(facts)
    assert visit.due_on == D(2026, 3, 27)
    assert "7 days" in visit.rule


def test_a_move_before_the_last_visit_does_not_restart_the_clock() -> None:
    facts = child(Status.CARE_LEAVER, last_visit_on=D(2026, 3, 3), placement_start=D(2026, 3, 1))
    assert visit_for(facts).due_on == D(2026, 5, 3)


@pytest.mark.parametrize(
    ("born", "due"),
    [
        (D(2005, 1, 1), D(2026, 6, 3)),  # 21: former relevant, local 3 months
        (D(2009, 1, 1), D(2026, 5, 3)),  # 17: relevant child, statutory 2 months
        (None, D(2026, 5, 3)),  # unknown age: relevant child rules
    ],
)
def test_only_former_relevant_young_people_follow_a_local_visit_interval(born: date | None, due: date) -> None:
    facts = child(Status.CARE_LEAVER, date_of_birth=born, last_visit_on=D(2026, 3, 3))
    assert visit_for(facts, VisitRules(former_relevant_visit_months=3)).due_on == due


def test_a_care_leaver_never_visited_is_due_two_months_after_leaving_care() -> None:
    visit = visit_for(child(Status.CARE_LEAVER, status_since=D(2026, 1, 31)))
    assert visit.due_on == D(2026, 3, 31)
    assert visit.counted_from == D(2026, 1, 31)


@pytest.mark.parametrize(("last_review", "due"), [(D(2026, 3, 31), D(2026, 9, 30)), (None, D(2026, 7, 31))])
def test_a_pathway_plan_is_reviewed_every_six_months_or_six_months_after_leaving_care(
    last_review: date | None, due: date
) -> None:
    facts = child(Status.CARE_LEAVER, status_since=D(2026, 1, 31), last_review_on=last_review)
    assert only(facts, ObligationKind.PATHWAY_PLAN_REVIEW).due_on == due


# --- Early help, missing facts, ordering ----------------------------------------


def test_early_help_has_no_statutory_obligations() -> None:
    facts = child(Status.EARLY_HELP, status_since=D(2026, 1, 5), last_visit_on=D(2026, 1, 6))
    assert obligations(facts, D(2026, 6, 1)) == []
    assert next_visit(facts, D(2026, 6, 1)) is None


@pytest.mark.parametrize("status", list(Status), ids=str)
def test_a_child_with_no_dates_at_all_has_nothing_to_count_from(status: Status) -> None:
    assert obligations(child(status), D(2026, 6, 1)) == []


def test_a_looked_after_childs_obligations_are_listed_most_urgent_first() -> None:
    facts = child(
        CLA,
        status_since=D(2025, 1, 6),
        placement_start=D(2025, 1, 6),
        placement_type=FOSTER,
        last_visit_on=D(2026, 5, 1),
        last_review_on=D(2025, 12, 1),
    )
    result = obligations(facts, D(2026, 5, 10))
    assert [(o.kind, o.due_on) for o in result] == [
        (ObligationKind.CLA_REVIEW, D(2026, 6, 1)),
        (ObligationKind.VISIT, D(2026, 6, 12)),
    ]


def test_local_rules_reject_negative_intervals() -> None:
    with pytest.raises(ValueError):
        VisitRules(cin_visit_working_days=-1)


# --- State -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "state"),
    [
        (D(2026, 6, 9), State.NOT_YET_DUE),  # 6 working days before
        (D(2026, 6, 10), State.DUE_SOON),  # 5 working days before
        (D(2026, 6, 17), State.DUE_TODAY),
        (D(2026, 6, 18), State.OVERDUE),
    ],
)
def test_a_visit_due_on_wednesday_17_june_2026(today: date, state: State) -> None:
    assert state_for(D(2026, 6, 17), today) is state


def test_due_soon_counts_working_days_so_christmas_shortens_the_warning() -> None:
    # Twelve calendar days before but six working days (25 and 28 Dec are off).
    assert state_for(D(2026, 12, 30), D(2026, 12, 18)) is State.NOT_YET_DUE
    assert state_for(D(2026, 12, 30), D(2026, 12, 21)) is State.DUE_SOON


def test_an_obligation_three_days_overdue_says_so_and_has_no_working_days_left() -> None:
    facts = child(CLA, placement_start=D(2026, 6, 1), placement_type=FOSTER)
    late = next_visit(facts, D(2026, 6, 11))
    assert late is not None
    assert (late.state, late.days_overdue, late.working_days_left) == (State.OVERDUE, 3, 0)
    soon = next_visit(facts, D(2026, 6, 3))
    assert soon is not None
    assert (soon.state, soon.days_overdue, soon.working_days_left) == (State.DUE_SOON, 0, 3)


# --- Properties -----------------------------------------------------------------------

dates = st.dates(min_value=D(2020, 1, 1), max_value=D(2030, 12, 31))


def maybe(strategy: st.SearchStrategy[date]) -> st.SearchStrategy[date | None]:
    return st.none() | strategy


any_facts = st.builds(
    ChildFacts,
    child_ref=st.just("C1"),
    status=st.sampled_from(Status),
    status_since=maybe(dates),
    placement_start=maybe(dates),
    placement_type=st.none() | st.sampled_from(PlacementType),
    last_visit_on=maybe(dates),
    last_review_on=maybe(dates),
    date_of_birth=maybe(st.dates(min_value=D(2000, 1, 1), max_value=D(2016, 12, 31))),
    first_review_on=maybe(dates),
)
any_rules = st.builds(
    VisitRules,
    cp_visit_working_days=st.integers(1, 30),
    cin_visit_working_days=st.integers(1, 40),
    due_soon_working_days=st.integers(0, 10),
    former_relevant_visit_months=st.integers(1, 6),
    assessment_working_days=st.integers(1, 60),
)
STATE_ORDER = [State.NOT_YET_DUE, State.DUE_SOON, State.DUE_TODAY, State.OVERDUE]
few = settings(max_examples=200, deadline=None)


@few
@given(any_facts, dates, any_rules)
def test_a_visit_today_never_makes_a_child_overdue_today(facts: ChildFacts, today: date, rules: VisitRules) -> None:
    visit = next_visit(replace(facts, last_visit_on=today), today, rules)
    if visit is not None:
        assert visit.state is not State.OVERDUE
        assert visit.due_on > today


@few
@given(any_facts, dates, any_rules)
def test_a_visit_is_never_due_before_the_last_visit(facts: ChildFacts, today: date, rules: VisitRules) -> None:
    visit = next_visit(facts, today, rules)
    if visit is not None and facts.last_visit_on is not None:
        assert visit.due_on > facts.last_visit_on


@few
@given(any_facts, dates, any_rules, st.frozensets(dates, max_size=20))
def test_an_extra_closure_day_never_makes_a_deadline_earlier(
    facts: ChildFacts, today: date, rules: VisitRules, closures: frozenset[date]
) -> None:
    usual = obligations(facts, today, rules)
    closed = obligations(facts, today, rules, WorkingCalendar(extra_closures=closures))
    before = {o.kind: o.due_on for o in usual}
    after = {o.kind: o.due_on for o in closed}
    assert before.keys() == after.keys()
    for kind, due in before.items():
        assert after[kind] >= due


@few
@given(any_facts, dates, any_rules)
def test_obligations_are_sorted_by_due_date_and_consistent_with_their_state(
    facts: ChildFacts, today: date, rules: VisitRules
) -> None:
    result = obligations(facts, today, rules)
    assert [o.due_on for o in result] == sorted(o.due_on for o in result)
    assert len({o.kind for o in result}) == len(result)
    for o in result:
        assert o.state is state_for(o.due_on, today, rules)
        assert (o.days_overdue > 0) == (o.state is State.OVERDUE)
        if o.state in (State.DUE_TODAY, State.OVERDUE):
            assert o.working_days_left == 0


@few
@given(any_facts, dates, st.integers(0, 400), any_rules)
def test_as_time_passes_a_childs_obligations_only_move_towards_overdue(
    facts: ChildFacts, today: date, days_later: int, rules: VisitRules
) -> None:
    earlier = obligations(facts, today, rules)
    later = obligations(facts, today + timedelta(days=days_later), rules)
    assert [(o.kind, o.due_on) for o in earlier] == [(o.kind, o.due_on) for o in later]
    for before, after in zip(earlier, later, strict=True):
        assert STATE_ORDER.index(before.state) <= STATE_ORDER.index(after.state)


@few
@given(dates, dates, dates, st.integers(0, 10))
def test_state_never_steps_back_from_overdue_to_due_soon(due: date, first: date, second: date, lead: int) -> None:
    early, late = sorted((first, second))
    rules = VisitRules(due_soon_working_days=lead)
    assert STATE_ORDER.index(state_for(due, early, rules)) <= STATE_ORDER.index(state_for(due, late, rules))
