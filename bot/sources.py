"""Cells and headers from the files councils already have, cleaned one way for every format.

Annex A workbooks, SSDA903 CSVs and workforce census extracts come out of
case management systems and are then tidied by hand, so the same quirks turn
up everywhere: headers with non-breaking spaces, line breaks and trailing
spaces, wording that changes between years; "#N/A" and blank cells; option
values like "a) Yes"; dates as real dates, as dd/mm/yyyy text, as ISO text or
as Excel serial numbers. Headers are matched by normalised text against a
table of synonyms, never by position.

Only what the bot needs leaves this layer: a child's ID (as the case
reference), dates, statuses and the allocated worker. Names, dates of birth,
sex, ethnicity and addresses are read past, never kept.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from bot.imports import Problem

Progress = Callable[[int, int], None]
Fact = date | str | None

# Excel's 1900 date system: serial 1 is 1900-01-01, and Lotus 1-2-3's phantom
# 29 February 1900 (serial 60) means serials from 61 on count from 1899-12-30.
EXCEL_EPOCH = date(1899, 12, 30)
# Plausible serials for the dates we read (1990-01-01 .. 2099-12-31): any other
# number in a date column is a mistake, not a date.
SERIAL_RANGE = (32874, 73050)

BLANKS = frozenset({"", "#n/a", "n/a", "na", "null", "none", "-", "--", "not applicable"})
EXCEL_ERRORS = frozenset(
    {
        "#ref!",
        "#value!",
        "#div/0!",
        "#name?",
        "#num!",
        "#null!",
        "#spill!",
        "#calc!",
        "#getting_data",
    }
)
UNALLOCATED = frozenset(
    {
        "unallocated",
        "not allocated",
        "no allocated worker",
        "awaiting allocation",
        "no worker",
        "none",
    }
)
CASE_REF = re.compile(r"^[A-Za-z0-9/_.-]{1,64}$")
_OPTION_PREFIX = re.compile(r"^\s*(?:[a-z]|\d{1,2})\)\s*", re.IGNORECASE)
_PUNCTUATION = re.compile(r"[^\w\s]")
_APOSTROPHES = re.compile(r"['\u2019\u2018`]")


class CellError(ValueError):
    """A cell that cannot be read; the message says why, for the row's problem."""


def norm_header(value: Any) -> str:
    """'Date of the\\nLast  Statutory\\u00a0Visit ' -> 'date of the last statutory visit'."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", str(value)).replace("\u00a0", " ")
    text = _APOSTROPHES.sub("", text.casefold())
    text = _PUNCTUATION.sub(" ", text).replace("_", " ")
    return " ".join(text.split())


def clean(value: Any) -> Any:
    """Blank-like cells ("#N/A", "", spaces) become None; other Excel errors raise CellError."""
    if isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).strip()
        low = text.casefold()
        if low in BLANKS:
            return None
        if low in EXCEL_ERRORS:
            raise CellError(f"holds the Excel error {text}")
        return text
    return value


def text(value: Any) -> str | None:
    value = clean(value)
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return " ".join(str(value).split())


def option(value: Any) -> str | None:
    """'a) Yes' -> 'yes': the lettered prefixes drop-down lists add."""
    raw = text(value)
    if raw is None:
        return None
    return _OPTION_PREFIX.sub("", raw).strip().casefold() or None


def child_ref(value: Any) -> str | None:
    """A child's ID from the file, as our case reference; CellError if it looks like a name."""
    if isinstance(value, bool):
        raise CellError("child ID must be a case reference (letters, digits, / _ . -), never a name")
    ref = text(value)
    if ref is None:
        return None
    if not CASE_REF.match(ref):
        raise CellError("child ID must be a case reference (letters, digits, / _ . -), never a name")
    return ref


def worker(value: Any) -> str | None:
    label = text(value)
    if label is None or label.casefold() in UNALLOCATED:
        return None
    return label


def to_date(value: Any) -> date | None:
    """A date from a real date cell, dd/mm/yyyy or ISO text, or an Excel serial number."""
    value = clean(value)
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        raise CellError(f"'{value}' is not a date")
    if isinstance(value, int | float):
        return _from_serial(value)
    raw = str(value).strip()
    if re.fullmatch(r"\d{5}(\.0+)?", raw):
        return _from_serial(float(raw))
    for pattern in (
        r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?:[ T][\d:.]+)?",
        r"(?P<d>\d{1,2})[/.-](?P<m>\d{1,2})[/.-](?P<y>\d{4})(?: [\d:.]+)?",
    ):
        found = re.fullmatch(pattern, raw)
        if found:
            try:
                return date(int(found["y"]), int(found["m"]), int(found["d"]))
            except ValueError:
                break
    for fmt in ("%d %b %Y", "%d-%b-%Y", "%d %B %Y", "%d-%b-%y"):
        try:
            return datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    raise CellError(f"'{raw}' is not a date (use dd/mm/yyyy, e.g. 31/03/2026)")


def _from_serial(number: float) -> date:
    low, high = SERIAL_RANGE
    if not low <= number <= high:
        raise CellError(f"{number:g} is a number, not a date")
    return EXCEL_EPOCH + timedelta(days=int(number))


# --- headers -----------------------------------------------------------------


Synonyms = Mapping[str, Sequence[str]]


def find_columns(header: Sequence[Any], synonyms: Synonyms) -> dict[str, int]:
    """Field -> column index, matching each header cell's normalised text; first match wins."""
    lookup: dict[str, str] = {}
    for name, words in synonyms.items():
        for word in words:
            lookup.setdefault(norm_header(word), name)
    columns: dict[str, int] = {}
    for index, cell in enumerate(header):
        found = lookup.get(norm_header(cell))
        if found is not None and found not in columns:
            columns[found] = index
    return columns


def looked_for(synonyms: Synonyms, name: str) -> str:
    return ", ".join(f"'{w}'" for w in synonyms[name][:3])


# --- what a file says about children --------------------------------------------


@dataclass(frozen=True)
class SourceChild:
    """One child as a file describes them: only a reference, dates, status and worker."""

    child_ref: str
    status: str
    sheet: str
    row: int
    # The worker label as written (None: unallocated); ignored when the format has no worker.
    worker: str | None = None
    team: str | None = None
    # Only the facts this file knows: a fact it does not carry is left alone in storage.
    facts: Mapping[str, Fact] = field(default_factory=dict)


@dataclass
class SourceFile:
    """A whole file, parsed: children to import, rows rejected, and notes for the person."""

    name: str
    children: list[SourceChild] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    # Statuses this file is the full list of: stored children with one of these
    # statuses who are missing from the file are de-allocated by a full import.
    covers: frozenset[str] = frozenset()
    # False when the format names no workers (SSDA903): allocation is left alone.
    has_workers: bool = True
    rows_read: int = 0

    def workers(self) -> dict[str, list[tuple[str, int]]]:
        """Each worker label with where it appears (sheet, row)."""
        seen: dict[str, list[tuple[str, int]]] = {}
        for child in self.children:
            if child.worker is not None:
                seen.setdefault(child.worker, []).append((child.sheet, child.row))
        return seen


def rows_of(records: Iterator[tuple[int, Sequence[Any]]]) -> Iterator[tuple[int, Sequence[Any]]]:
    """Skip rows where every cell is blank."""
    for number, record in records:
        if any(c is not None and str(c).strip() for c in record):
            yield number, record


def cell(record: Sequence[Any], columns: Mapping[str, int], name: str) -> Any:
    index = columns.get(name)
    if index is None or index >= len(record):
        return None
    return record[index]
