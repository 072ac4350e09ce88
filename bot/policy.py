"""The policy file: an authority's local rules, validated with pydantic.

National rules are code (bot/visits.py); only local practice lives here, each
value defaulting to the figure in domain.md.
"""

from __future__ import annotations

import tomllib
from datetime import time
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bot.visits import Status, VisitRules

STATUSES = tuple(Status)
# Equipment a desk can have and a worker can need (domain.md, "Desks").
DESK_TAGS = ("adjusted_chair", "standing", "dual_screen", "accessible", "quiet")
DEMO_LAYOUT = Path(__file__).with_name("desks_layout.toml")


class _Strict(BaseModel):
    # A misspelt key in a policy file must be an error, not silently ignored.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Band(_Strict):
    months: int = Field(ge=0, description="Months of tenure from which this cap applies")
    cap: int = Field(ge=0, le=100, description="Children at 1.0 FTE")


class Weighting(_Strict):
    enabled: bool = False
    points_cap: float = Field(default=25.0, gt=0)
    weights: dict[str, float] = Field(
        default_factory=lambda: {
            "cp": 1.5,
            "cla": 1.2,
            "cin": 1.0,
            "assessment": 1.0,
            "care_leaver": 0.8,
            "private_fostering": 1.0,
            "early_help": 1.0,
        }
    )

    @model_validator(mode="after")
    def _known_statuses(self) -> Weighting:
        unknown = sorted(set(self.weights) - set(STATUSES))
        if unknown:
            raise ValueError(f"unknown status in weights: {', '.join(unknown)} (known: {', '.join(STATUSES)})")
        if any(w < 0 for w in self.weights.values()):
            raise ValueError("weights must not be negative")
        return self


class CaseloadPolicy(_Strict):
    tenure_from: Literal["qualified", "joined"] = "qualified"
    bands: tuple[Band, ...] = (
        Band(months=0, cap=15),
        Band(months=6, cap=20),
        Band(months=12, cap=25),
    )
    pro_rata: bool = True
    fast_rise_children: int = Field(default=3, ge=1)
    fast_rise_days: int = Field(default=7, ge=1, le=90)
    team_average_target: float = Field(default=18, gt=0)
    weighting: Weighting = Weighting()

    @model_validator(mode="after")
    def _ladder(self) -> CaseloadPolicy:
        if not self.bands:
            raise ValueError("bands: at least one band is needed")
        months = [b.months for b in self.bands]
        if months[0] != 0:
            raise ValueError("bands: the first band must start at months = 0")
        if months != sorted(set(months)):
            raise ValueError("bands: months must be strictly increasing")
        return self


_CLOCK_TIME = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class VisitsPolicy(_Strict):
    """Local visit standards and reminder times (domain.md, "Local practice").

    National timescales (CLA reg 28, reg 33, care leavers, private fostering,
    Working Together) are law and live in bot/visits.py, not here.
    """

    cp_visit_working_days: int = Field(default=10, ge=1, le=60)
    cin_visit_working_days: int = Field(default=20, ge=1, le=60)
    due_soon_working_days: int = Field(default=5, ge=0, le=30)
    former_relevant_visit_months: int = Field(default=2, ge=1, le=12)
    reminder_time: str = Field(default="08:00", pattern=_CLOCK_TIME)
    digest_day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    digest_time: str = Field(default="08:30", pattern=_CLOCK_TIME)
    manager_lapse_working_days: int = Field(default=5, ge=0, le=60)

    def rules(self) -> VisitRules:
        return VisitRules(
            cp_visit_working_days=self.cp_visit_working_days,
            cin_visit_working_days=self.cin_visit_working_days,
            due_soon_working_days=self.due_soon_working_days,
            former_relevant_visit_months=self.former_relevant_visit_months,
        )

    @staticmethod
    def hour_minute(text: str) -> tuple[int, int]:
        hour, minute = text.split(":")
        return int(hour), int(minute)


class Pairing(_Strict):
    """An early help team and the social work teams it sits with (domain.md, "Who uses it")."""

    early_help: str = Field(min_length=1, description="The early help team's name")
    social_work: tuple[str, ...] = Field(min_length=1, description="Social work teams it pairs with")
    # A Slack channel id; unset: the early help team's own channel.
    duty_channel: str | None = None
    # Where early help's step-up worries go; unset: the first social work team listed.
    step_up_team: str | None = None
    # A Slack channel id for step-ups when nobody is in; unset: the step-up team's channel.
    step_up_channel: str | None = None

    @model_validator(mode="after")
    def _step_up_is_paired(self) -> Pairing:
        if self.step_up_team is not None and self.step_up_team not in self.social_work:
            raise ValueError(f"step_up_team '{self.step_up_team}' is not one of this pairing's social_work teams")
        return self


class WorriesPolicy(_Strict):
    """Consultations with co-located early help colleagues: who pairs with whom, how fast to chase.

    Local practice, not law: the defaults are the product's (30 minutes and 2 hours
    for "today", 1 and 2 working days for "this week").
    """

    pairings: tuple[Pairing, ...] = (
        Pairing(
            early_help="Ipswich Early Help",
            social_work=("Ipswich CIN 2", "Assessment Team A"),
            step_up_team="Assessment Team A",
        ),
        Pairing(early_help="Lowestoft Early Help", social_work=("Lowestoft CLA",)),
    )
    # A fallback duty channel id for any pairing without one of its own (and no team channel).
    default_duty_channel: str | None = None
    today_nudge_minutes: int = Field(default=30, ge=1)
    today_escalate_minutes: int = Field(default=120, ge=1)
    week_nudge_working_days: int = Field(default=1, ge=1)
    week_escalate_working_days: int = Field(default=2, ge=1)

    @model_validator(mode="after")
    def _escalate_after_nudge(self) -> WorriesPolicy:
        if self.today_escalate_minutes <= self.today_nudge_minutes:
            raise ValueError("today_escalate_minutes must be later than today_nudge_minutes")
        if self.week_escalate_working_days <= self.week_nudge_working_days:
            raise ValueError("week_escalate_working_days must be later than week_nudge_working_days")
        return self


class DesksPolicy(_Strict):
    """Hot-desking (domain.md, "Desks"): team bases, half days, equipment needs."""

    # Relative paths are read from the policy file's folder.
    layout_file: Path = DEMO_LAYOUT
    horizon_days: int = Field(default=14, ge=1, le=90, description="How far ahead desks can be booked")
    checkin_time: time = time(8, 0)
    release_am: time = time(10, 30)
    release_pm: time = time(14, 30)
    # Desks with these tags are kept for people who need them while any such person waits.
    scarce_tags: tuple[str, ...] = ("adjusted_chair", "accessible", "standing")

    @model_validator(mode="after")
    def _sane(self) -> DesksPolicy:
        unknown = sorted(set(self.scarce_tags) - set(DESK_TAGS))
        if unknown:
            raise ValueError(f"unknown scarce tag: {', '.join(unknown)} (known: {', '.join(DESK_TAGS)})")
        if not self.checkin_time < self.release_am < self.release_pm:
            raise ValueError("times must run checkin_time < release_am < release_pm")
        return self


class Policy(_Strict):
    caseload: CaseloadPolicy = CaseloadPolicy()
    desks: DesksPolicy = DesksPolicy()
    visits: VisitsPolicy = VisitsPolicy()
    worries: WorriesPolicy = WorriesPolicy()


class PolicyError(Exception):
    """A policy file that cannot be used; the message is for a person."""


def load_policy(path: Path) -> Policy:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise PolicyError(f"{path}: no such file") from e
    except tomllib.TOMLDecodeError as e:
        raise PolicyError(f"{path}: not valid TOML: {e}") from e
    try:
        policy = Policy.model_validate(raw)
    except ValidationError as e:
        lines = [f"{path}: {e.error_count()} problem(s)"]
        for err in e.errors():
            where = ".".join(str(p) for p in err["loc"]) or "(top level)"
            lines.append(f"  {where}: {err['msg']}")
        raise PolicyError("\n".join(lines)) from e
    layout = policy.desks.layout_file
    if not layout.is_absolute():
        desks = policy.desks.model_copy(update={"layout_file": (path.parent / layout).resolve()})
        policy = policy.model_copy(update={"desks": desks})
    return policy
