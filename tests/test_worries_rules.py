"""The pure rules behind worries: parsing, validation, routing, chase times, who may read."""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.calendar import WorkingCalendar
from bot.clock import LONDON
from bot.policy import Pairing, WorriesPolicy
from bot.worries import (
    Candidate,
    CommandError,
    Help,
    ListWorries,
    OutcomeForm,
    Raise,
    RaiseForm,
    TeamInfo,
    Viewer,
    WorryParties,
    can_read,
    can_take,
    chase_times,
    destination,
    parse_command,
    pick_recipients,
    stages_due,
    validate_outcome,
    validate_raise,
)

POLICY = WorriesPolicy()
CAL = WorkingCalendar()

CIN = TeamInfo(1, "Ipswich CIN 2", "social_work", "Ipswich", "C1")
ASSESS = TeamInfo(2, "Assessment Team A", "social_work", "Ipswich", "C2")
IPS_EH = TeamInfo(3, "Ipswich Early Help", "early_help", "Ipswich", "C3")
LOW_CLA = TeamInfo(4, "Lowestoft CLA", "social_work", "Lowestoft", "C4")
LOW_EH = TeamInfo(5, "Lowestoft Early Help", "early_help", "Lowestoft", None)
TEAMS = (CIN, ASSESS, IPS_EH, LOW_CLA, LOW_EH)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


def raise_form(**kw: str) -> RaiseForm:
    values = {
        "worried": "w",
        "working_well": "",
        "needs_to_happen": "",
        "scale": "5",
        "child_ref": "",
        "urgency": "today",
    }
    values.update(kw)
    return RaiseForm(**values)


@pytest.mark.parametrize(
    ("text", "command"),
    [("", Raise()), ("IPS10023", Raise("IPS10023")), ("list", ListWorries()), ("help", Help())],
)
def test_worried_commands_parse(text: str, command: object) -> None:
    assert parse_command(text) == command


def test_a_name_instead_of_a_reference_is_not_a_command() -> None:
    with pytest.raises(CommandError):
        parse_command("Jane Smith")


def test_validation_keeps_the_text_and_returns_a_draft() -> None:
    draft, errors = validate_raise(raise_form(worried="  worried  ", scale="0"), child_known=False)
    assert (
        errors == {}
        and draft is not None
        and draft.worried == "worried"
        and draft.scale == 0
        and draft.child_ref is None
    )


def test_validation_reports_every_bad_field_at_once() -> None:
    _, errors = validate_raise(raise_form(worried="", scale="12", child_ref="X1", urgency="soon"), child_known=False)
    assert set(errors) == {"worried", "scale", "child_ref", "urgency"}


def test_a_step_down_needs_a_worker_and_a_child_ref() -> None:
    _, errors = validate_outcome(OutcomeForm("step_down", "note", None, ""))
    assert set(errors) == {"worker", "child_ref"}
    draft, errors = validate_outcome(OutcomeForm("advice", "note", 7, ""))
    assert errors == {} and draft is not None and draft.worker_id is None


def test_social_work_teams_route_to_their_paired_early_help_team() -> None:
    dest = destination(CIN, TEAMS, POLICY)
    assert dest is not None and dest.team == IPS_EH and dest.duty_channel == "C3" and not dest.step_up
    low = destination(LOW_CLA, TEAMS, POLICY)
    assert low is not None and low.team == LOW_EH and low.duty_channel is None


def test_early_help_steps_up_to_the_pairings_step_up_team() -> None:
    dest = destination(IPS_EH, TEAMS, POLICY)
    assert dest is not None and dest.team == ASSESS and dest.step_up and dest.recipient_role == "social_worker"


def test_a_duty_channel_in_the_policy_wins_over_the_team_channel() -> None:
    policy = WorriesPolicy(
        pairings=(
            Pairing(
                early_help="Ipswich Early Help",
                social_work=("Ipswich CIN 2",),
                duty_channel="CDUTY",
            ),
        )
    )
    dest = destination(CIN, TEAMS, policy)
    assert dest is not None and dest.duty_channel == "CDUTY"


def test_an_unpaired_team_falls_back_to_early_help_in_its_office() -> None:
    policy = WorriesPolicy(pairings=())
    dest = destination(ASSESS, TEAMS, policy)
    assert dest is not None and dest.team == IPS_EH


def test_only_colleagues_in_the_raisers_office_today_are_picked() -> None:
    picked = pick_recipients(
        1,
        "Ipswich",
        [
            Candidate(2, "Ipswich", True),
            Candidate(3, "Ipswich", False),
            Candidate(4, "Lowestoft", True),
            Candidate(1, "Ipswich", True),
        ],
    )
    assert picked == (2,)


def test_a_this_week_worry_skips_the_weekend_and_bank_holidays() -> None:
    # Thu 24 Dec 2026, 14:00: Christmas (Fri), the weekend and Boxing Day's substitute (Mon 28) pass.
    times = chase_times(at("2026-12-24T14:00"), "week", POLICY, CAL, LONDON)
    assert times.nudge_at == at("2026-12-29T14:00")
    assert times.escalate_at == at("2026-12-30T14:00")


def test_stages_due_for_a_today_worry() -> None:
    raised = at("2026-11-23T09:00")
    assert stages_due(raised, "today", POLICY, CAL, at("2026-11-23T09:29")) == ()
    assert stages_due(raised, "today", POLICY, CAL, at("2026-11-23T09:30")) == ("nudge",)
    assert stages_due(raised, "today", POLICY, CAL, at("2026-11-23T11:00")) == ("nudge", "escalate")


def test_a_policy_escalating_before_it_nudges_is_refused() -> None:
    with pytest.raises(ValueError):
        WorriesPolicy(today_nudge_minutes=60, today_escalate_minutes=30)


PARTIES = WorryParties(
    raiser_id=1,
    raiser_team_id=10,
    to_team_id=30,
    owner_id=None,
    owner_team_id=None,
    recipient_ids=frozenset({5, 6}),
)


@pytest.mark.parametrize(
    ("viewer", "reads", "takes"),
    [
        (Viewer(1, "social_worker", 10), True, False),  # raiser
        (Viewer(5, "early_help", 30), True, True),  # recipient
        (Viewer(7, "early_help", 30), False, True),  # receiving team, not routed to (duty channel)
        (Viewer(8, "manager", 10), True, False),  # raiser's manager
        (Viewer(9, "manager", 30), True, True),  # receiving team's manager
        (Viewer(11, "social_worker", 10), False, False),  # a colleague of the raiser
        (Viewer(12, "admin", 10), False, False),  # admin
    ],
)
def test_who_may_read_and_take_a_worry(viewer: Viewer, reads: bool, takes: bool) -> None:
    assert can_read(viewer, PARTIES) is reads
    assert can_take(viewer, PARTIES) is takes
