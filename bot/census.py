"""The children's social work workforce census (DfE): one row per worker, parsed.

From each row we take the worker's FTE, role, start date in role and, where
the file has it, the qualification date; nothing else (no date of birth, sex,
ethnicity or absence). Rows are joined to the staff list by a key the person
chooses (`--key user_id|email|name`); the census creates no one, since a
Slack account and team are needed to be on the staff list.

Roles: the census OrgRole codes 1-3 (senior, middle and first line managers)
become "manager"; 4-6 (senior practitioner, case holder, qualified without
cases) become "social_worker"; words are understood too ("Team Manager",
"b) Senior Practitioner"). A stored "admin" role is never changed: it is the
bot's permission, not a job. A row with a leaving date on or before today is
a leaver: skipped, with a note.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from bot.imports import Problem
from bot.sources import (
    CellError,
    Progress,
    cell,
    find_columns,
    looked_for,
    option,
    rows_of,
    text,
    to_date,
)
from bot.ssda903 import read_csv

KEYS = ("user_id", "email", "name")
KEY_COLUMNS: dict[str, tuple[str, ...]] = {
    "user_id": (
        "user_id",
        "Staff ID",
        "Local ID",
        "Worker ID",
        "Employee ID",
        "Employee Number",
        "Staff Number",
        "Payroll Number",
        "SWENo",
        "SWE Registration Number",
        "Social Work England Registration Number",
    ),
    "email": ("Email", "Email Address", "Work Email", "E-mail"),
    "name": ("Name", "Full Name", "Worker Name", "Social Worker Name", "Staff Name"),
}
FIELDS: dict[str, tuple[str, ...]] = {
    "fte": ("FTE", "FTE30", "Full Time Equivalent", "FTE at 30 September", "FTE Ratio"),
    "role": ("Role", "OrgRole", "Org Role", "Organisational Role", "Job Role", "Role Code"),
    "joined_on": (
        "RoleStartDate",
        "Role Start Date",
        "Start Date in Role",
        "Date Started in Role",
        "Start Date",
        "PersonStartDate",
        "Start Date with LA",
    ),
    "qualified_on": (
        "QualDate",
        "Qualification Date",
        "Date Qualified",
        "Qualified On",
        "Date of Qualification",
    ),
    "left_on": ("LeftDate", "Left Date", "Date Left", "Leaving Date", "End Date", "PersonLeftDate"),
}
ROLE_CODES = {
    "1": "manager",
    "2": "manager",
    "3": "manager",
    "4": "social_worker",
    "5": "social_worker",
    "6": "social_worker",
}
ROLE_WORDS = (
    ("manager", "manager"),
    ("head of", "manager"),
    ("director", "manager"),
    ("senior practitioner", "social_worker"),
    ("practitioner", "social_worker"),
    ("social worker", "social_worker"),
    ("case holder", "social_worker"),
    ("early help", "early_help"),
    ("family support", "early_help"),
)


@dataclass(frozen=True)
class CensusRow:
    row: int
    key: str
    # Only the facts the file carries (and not blank): others are left alone.
    values: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class CensusFile:
    name: str
    key: str
    rows: list[CensusRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    rows_read: int = 0


def role_of(value: Any) -> str | None:
    raw = text(value)
    if raw is None:
        return None
    code = re.match(r"^\s*(\d)\b", raw)
    if code and code.group(1) in ROLE_CODES:
        return ROLE_CODES[code.group(1)]
    words = option(raw) or ""
    return next((role for needle, role in ROLE_WORDS if needle in words), None)


def fte_of(value: Any) -> float | None:
    raw = text(value)
    if raw is None:
        return None
    try:
        number = float(raw.rstrip("%")) / (100 if raw.endswith("%") else 1)
    except ValueError as e:
        raise CellError(f"FTE '{raw}' is not a number") from e
    if not 0.1 <= number <= 1.0:
        raise CellError(f"FTE {number:g} must be between 0.1 and 1.0")
    return round(number, 3)


def parse_census(source: Path | bytes, key: str, today: date, progress: Progress | None = None) -> CensusFile:
    name = str(source) if isinstance(source, Path) else "census"
    data = source.read_bytes() if isinstance(source, Path) else source
    result = CensusFile(name=name, key=key)
    rows = read_csv(data)
    if not rows:
        result.problems.append(Problem(1, "the file is empty: it needs a header line", "census"))
        return result
    synonyms = {"key": KEY_COLUMNS[key], **FIELDS}
    columns = find_columns(rows[0], synonyms)
    if "key" not in columns:
        result.problems.append(
            Problem(
                1,
                f"no {key} column to join to the staff list (looked for {looked_for(synonyms, 'key')})",
                "census",
            )
        )
        return result
    first_seen: dict[str, int] = {}
    leavers = 0
    total = len(rows) - 1
    for number, record in rows_of(iter(enumerate(rows[1:], start=2))):
        result.rows_read += 1
        if progress is not None and total > 0 and number % 250 == 0:
            progress(number - 1, total)
        try:
            ident = text(cell(record, columns, "key"))
            if ident is None:
                raise CellError(f"no {key} to join to the staff list")
            left = to_date(cell(record, columns, "left_on"))
            values: dict[str, Any] = {}
            fte = fte_of(cell(record, columns, "fte"))
            if fte is not None:
                values["fte"] = fte
            if "role" in columns:
                role = role_of(cell(record, columns, "role"))
                if role is not None:
                    values["role"] = role
                elif text(cell(record, columns, "role")) is not None:
                    result.warnings.append(
                        Problem(
                            number,
                            f"role '{text(cell(record, columns, 'role'))}' is not one we know: left as it is",
                            "census",
                        )
                    )
            for date_field in ("joined_on", "qualified_on"):
                when = to_date(cell(record, columns, date_field))
                if when is not None:
                    if when > today:
                        raise CellError(f"{date_field.replace('_', ' ')} {when:%d/%m/%Y} is in the future")
                    values[date_field] = when
        except CellError as e:
            result.problems.append(Problem(number, str(e), "census"))
            continue
        if left is not None and left <= today:
            leavers += 1
            continue
        if ident.casefold() in first_seen:
            result.problems.append(
                Problem(
                    number,
                    f"{key} '{ident}' is in the file twice (first on row {first_seen[ident.casefold()]})",
                    "census",
                )
            )
            continue
        first_seen[ident.casefold()] = number
        result.rows.append(CensusRow(number, ident, values))
    if progress is not None and total > 0:
        progress(total, total)
    if leavers:
        result.warnings.append(
            Problem(0, f"{leavers} leaver(s) (a leaving date on or before today): skipped", "census")
        )
    return result
