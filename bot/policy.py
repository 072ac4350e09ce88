"""The policy file: an authority's local rules, validated with pydantic.

National rules are code (bot/visits.py); only local practice lives here, each
value defaulting to the figure in domain.md.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

STATUSES = ("assessment", "cin", "cp", "cla", "care_leaver", "private_fostering", "early_help")


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
            raise ValueError(
                f"unknown status in weights: {', '.join(unknown)} "
                f"(known: {', '.join(STATUSES)})"
            )
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


class Policy(_Strict):
    caseload: CaseloadPolicy = CaseloadPolicy()


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
        return Policy.model_validate(raw)
    except ValidationError as e:
        lines = [f"{path}: {e.error_count()} problem(s)"]
        for err in e.errors():
            where = ".".join(str(p) for p in err["loc"]) or "(top level)"
            lines.append(f"  {where}: {err['msg']}")
        raise PolicyError("\n".join(lines)) from e
