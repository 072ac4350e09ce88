"""CSV imports, parsed and checked before anything is written.

Parsing is pure: a file becomes typed rows or a list of problems, each with
its line number, so a person can fix the file and run it again. Writing
(storage/imports.py) happens only when there are no problems at all.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator


@dataclass(frozen=True)
class Problem:
    line: int
    message: str
    # The sheet (or file, in a folder of CSVs) the row is on; None for a single CSV.
    sheet: str | None = None

    def __str__(self) -> str:
        if self.sheet is not None:
            return f"{self.sheet} row {self.line}: {self.message}" if self.line else f"{self.sheet}: {self.message}"
        return f"line {self.line}: {self.message}" if self.line else self.message


class ImportFailed(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _parse_date(value: Any) -> Any:
    if isinstance(value, str):
        text = value.strip()
        for parse in (date.fromisoformat, _uk_date):
            try:
                return parse(text)
            except ValueError:
                continue
        raise ValueError(f"'{text}' is not a date (use YYYY-MM-DD, e.g. 2026-03-31)")
    return value


def _uk_date(text: str) -> date:
    day, month, year = text.split("/")
    return date(int(year), int(month), int(day))


class _Row(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, frozen=True)


class StaffRow(_Row):
    user_id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    team: str = Field(min_length=1, max_length=100)
    role: Literal["social_worker", "early_help", "manager", "admin"]
    fte: float = Field(ge=0.1, le=1.0)
    qualified_on: date | None = None
    joined_on: date | None = None
    slack_id: str | None = None
    email: str | None = None
    office: str | None = None

    _blanks = field_validator("qualified_on", "joined_on", "slack_id", "email", "office", mode="before")(_blank_to_none)

    @field_validator("qualified_on", "joined_on", mode="before")
    @classmethod
    def _dates(cls, value: Any) -> Any:
        return _parse_date(_blank_to_none(value))


class ChildRow(_Row):
    child_ref: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9/_.-]+$")
    allocated_to: str | None = None
    status: Literal["assessment", "cin", "cp", "cla", "care_leaver", "private_fostering", "early_help"]
    status_since: date | None = None
    placement_start: date | None = None
    placement_type: (
        Literal[
            "foster",
            "residential",
            "placed_with_parent",
            "connected_person_temporary",
            "interim_care_order_at_home",
            "care_order_at_home",
            "long_term",
        ]
        | None
    ) = None
    last_visit_on: date | None = None
    last_review_on: date | None = None

    @field_validator("allocated_to", "placement_type", mode="before")
    @classmethod
    def _blanks(cls, value: Any) -> Any:
        return _blank_to_none(value)

    @field_validator("status", mode="before")
    @classmethod
    def _status(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("status_since", "placement_start", "last_visit_on", "last_review_on", mode="before")
    @classmethod
    def _dates(cls, value: Any) -> Any:
        return _parse_date(_blank_to_none(value))


class VisitRow(_Row):
    child_ref: str = Field(min_length=1, max_length=64)
    visited_on: date
    kind: Literal["statutory", "review", "other"] = "statutory"

    @field_validator("visited_on", mode="before")
    @classmethod
    def _dates(cls, value: Any) -> Any:
        return _parse_date(_blank_to_none(value))

    @field_validator("kind", mode="before")
    @classmethod
    def _kind(cls, value: Any) -> Any:
        value = _blank_to_none(value)
        return "statutory" if value is None else str(value).lower()


REQUIRED = {
    StaffRow: ("user_id", "name", "team", "role", "fte", "qualified_on"),
    ChildRow: ("child_ref", "allocated_to", "status"),
    VisitRow: ("child_ref", "visited_on"),
}
KEYS = {StaffRow: "user_id", ChildRow: "child_ref"}


def _explain(error: ValidationError) -> str:
    parts = []
    for err in error.errors():
        field = ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "literal_error":
            msg = f"'{err['input']}' is not one of: {err['ctx']['expected'].replace(chr(39), '')}"
        elif err["type"] == "missing":
            msg = "is missing"
        elif err["type"] == "string_pattern_mismatch":
            msg = "must be a case reference (letters, digits, / _ . -), never a name"
        parts.append(f"{field} {msg}" if not msg.startswith(field) else msg)
    return "; ".join(parts)


RowT = TypeVar("RowT", bound="_Row")


@dataclass(frozen=True)
class Parsed(Generic[RowT]):
    rows: list[tuple[int, RowT]]
    columns: tuple[str, ...]


def read_rows(text: str) -> tuple[tuple[str, ...], Iterator[tuple[int, dict[str, str]]]]:
    """The header (normalised) and each data row with its line number in the file."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = next(reader)
    except StopIteration:
        return (), iter(())
    columns = tuple(h.strip().lower().replace(" ", "_") for h in header)

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        for record in reader:
            if not any(cell.strip() for cell in record):
                continue
            yield reader.line_num, dict(zip(columns, record, strict=False))

    return columns, rows()


def parse(model: type[RowT], text: str) -> Parsed[RowT]:
    """Every row, or ImportFailed listing every bad one with its line number."""
    columns, records = read_rows(text)
    problems: list[Problem] = []
    missing = [c for c in REQUIRED[model] if c not in columns]
    if not columns:
        raise ImportFailed([Problem(1, "the file is empty: it needs a header line")])
    if missing:
        expected = ",".join(REQUIRED[model])
        raise ImportFailed(
            [Problem(1, f"missing column(s): {', '.join(missing)} (the header must include {expected})")]
        )
    rows: list[tuple[int, RowT]] = []
    key = KEYS.get(model)
    first_seen: dict[str, int] = {}
    for line, record in records:
        try:
            row = model.model_validate(record)
        except ValidationError as e:
            problems.append(Problem(line, _explain(e)))
            continue
        if key is not None:
            value = str(getattr(row, key))
            if value in first_seen:
                problems.append(Problem(line, f"duplicate {key} '{value}' (first on line {first_seen[value]})"))
                continue
            first_seen[value] = line
        rows.append((line, row))
    if problems:
        raise ImportFailed(problems)
    return Parsed(rows=rows, columns=columns)


def lines(problems: Iterable[Problem]) -> str:
    return "\n".join(str(p) for p in problems)
