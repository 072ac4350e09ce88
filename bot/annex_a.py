"""Annex A (Ofsted's inspection data lists): an .xlsx workbook, parsed.

One sheet per list, found by name ("List 7", "List 7 - Child Protection",
"List_8"). We read:

- List 6 (children in need) -> status "cin", unless the child is also on
  List 7 or List 8 in the same workbook.
- List 7 (child protection) -> status "cp" since the CP plan start; the date
  of the last statutory visit.
- List 8 (children looked after) -> status "cla" since the date the child
  became looked after; the placement start and type (SSDA903 PLACE codes or
  words such as "Foster placement"); the last social work visit; the latest
  statutory review.

Other lists (List 1 contacts, ...) are ignored. A child on List 7 and List 8
is looked after ("cla" wins over "cp", which wins over "cin"). A row whose
plan or episode has ended (CP plan end date, CIN closure date, date ceased to
be looked after: on or before today) is history, not a current case: it is
skipped and counted in a note.

Headers are found by normalised text in the first rows of each sheet (a title
row above them is fine), so column order, spacing and wording changes between
years don't matter.

Formula cells: we read the result Excel saved with the file. A formula with
no saved result (a workbook written by a program and never opened in Excel)
cannot be read without guessing, so its row is rejected with the cell named:
open the file in Excel, save it, and import again.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import IO, Any

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from bot.imports import Problem
from bot.sources import (
    CellError,
    Fact,
    Progress,
    SourceChild,
    SourceFile,
    cell,
    child_ref,
    find_columns,
    looked_for,
    option,
    text,
    to_date,
    worker,
)
from bot.ssda903 import placement_type

STATUS_OF_LIST = {6: "cin", 7: "cp", 8: "cla"}
PRECEDENCE = {"cla": 3, "cp": 2, "cin": 1}
HEADER_SEARCH_ROWS = 10

COMMON: dict[str, tuple[str, ...]] = {
    "child_id": (
        "Child Unique ID",
        "Child ID",
        "Unique Child ID",
        "Child Unique Identifier",
        "Child Identifier",
        "Child Reference",
        "Child Ref",
        "Case Reference",
        "Person ID",
        "ID",
    ),
    "team": ("Allocated Team", "Team", "Allocated Team Name", "Team Name"),
    "worker": (
        "Allocated Worker",
        "Allocated Social Worker",
        "Allocated Worker Name",
        "Social Worker",
        "Worker",
        "Lead Social Worker",
        "Key Worker",
    ),
}
LIST_FIELDS: dict[int, dict[str, tuple[str, ...]]] = {
    6: {
        "status_since": (
            "CIN Start Date",
            "Date CIN Started",
            "CIN Episode Start Date",
            "Start Date of CIN Episode",
        ),
        "last_visit_on": (
            "Date Child Was Last Seen",
            "Date Child Last Seen",
            "Date of Last Visit",
            "Date of the Last Visit",
        ),
        "closed_on": (
            "CIN Closure Date",
            "CIN End Date",
            "Date CIN Closed",
            "CIN Episode End Date",
        ),
    },
    7: {
        "status_since": (
            "Child Protection Plan Start Date",
            "CP Plan Start Date",
            "Date CP Plan Started",
            "Start Date of CP Plan",
            "Plan Start Date",
        ),
        "last_visit_on": (
            "Date of the Last Statutory Visit",
            "Date of Last Statutory Visit",
            "Last Statutory Visit Date",
            "Date of Last Visit",
            "Date of the Last Visit",
            "Date Child Was Last Seen",
        ),
        "closed_on": (
            "Child Protection Plan End Date",
            "CP Plan End Date",
            "Date CP Plan Ended",
            "Plan End Date",
        ),
    },
    8: {
        "status_since": (
            "Date Started to be Looked After",
            "Date Started to be Looked After (CLA)",
            "Date Became Looked After",
            "Date Child Became Looked After",
            "Date of Latest Period of Care Start",
            "Date the Child Entered Care",
            "Date Entered Care",
        ),
        "placement_start": (
            "Start Date of Most Recent Placement",
            "Placement Start Date",
            "Start Date of Current Placement",
            "Date of Most Recent Placement Start",
            "Latest Placement Start Date",
        ),
        "placement_type": (
            "Placement Type",
            "Type of Placement",
            "Current Placement Type",
            "Placement Type Code",
        ),
        "legal_status": ("Child's Legal Status", "Legal Status", "Current Legal Status"),
        "last_visit_on": (
            "Date of Last Social Work Visit",
            "Date of the Last Social Work Visit",
            "Date of Last Statutory Visit",
            "Date of the Last Statutory Visit",
            "Last Social Work Visit Date",
            "Date of Last Visit",
        ),
        "last_review_on": (
            "Date of Latest Statutory Review",
            "Date of Last Statutory Review",
            "Date of the Latest Statutory Review",
            "Date of Latest CLA Review",
            "Date of Last Review",
        ),
        "closed_on": (
            "Date Ceased to be Looked After",
            "Date Ceased Looked After",
            "Date Ceased Care",
        ),
    },
}
DATE_FIELDS = ("status_since", "placement_start", "last_visit_on", "last_review_on", "closed_on")
NOT_FUTURE = ("last_visit_on", "last_review_on")
FACT_LABELS = {
    "status_since": "start date",
    "placement_start": "placement start",
    "placement_type": "placement type",
    "last_visit_on": "last visit",
    "last_review_on": "last review",
}
# Words in a placement type cell when it holds a description rather than a code.
PLACEMENT_WORDS = (
    ("long term", "long_term"),
    ("long-term", "long_term"),
    ("foster", "foster"),
    ("children's home", "residential"),
    ("childrens home", "residential"),
    ("residential", "residential"),
    ("secure", "residential"),
    ("parent", "placed_with_parent"),
)
_LIST_NAME = re.compile(r"^\s*list[\s_-]*0*(\d{1,2})(?!\d)", re.IGNORECASE)

Source = Path | bytes | IO[bytes]


def list_number(sheet_name: str) -> int | None:
    found = _LIST_NAME.match(sheet_name)
    return int(found.group(1)) if found else None


def parse_workbook(source: Source, today: date, progress: Progress | None = None, name: str = "") -> SourceFile:
    """Every current CIN/CP/CLA child in the workbook, with row problems and notes."""
    data = source.read_bytes() if isinstance(source, Path) else source if isinstance(source, bytes) else source.read()
    name = name or (str(source) if isinstance(source, Path) else "Annex A")
    result = SourceFile(name=name)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as e:
        result.problems.append(Problem(0, f"cannot open as an .xlsx workbook: {e}", name))
        return result
    sheets: dict[int, str] = {}
    for title in book.sheetnames:
        number = list_number(title)
        if number in STATUS_OF_LIST and number is not None:
            sheets.setdefault(number, title)
    if not sheets:
        result.problems.append(
            Problem(
                0,
                "no List 6, List 7 or List 8 sheet (sheets are found by name, e.g. 'List 7')",
                name,
            )
        )
        return result
    formulas = _uncached_formulas(data, [sheets[n] for n in sorted(sheets)])
    total = sum(book[title].max_row or 0 for title in sheets.values())
    done = 0
    found: dict[str, SourceChild] = {}
    for number in sorted(sheets, reverse=True):  # CLA first: precedence
        title = sheets[number]
        result.covers = result.covers | {STATUS_OF_LIST[number]}
        rows = book[title].iter_rows(values_only=True)
        for child in _read_list(number, title, enumerate(rows, start=1), today, formulas.get(title, set()), result):
            if isinstance(child, int):
                done += 1
                if progress is not None and total > 0 and done % 250 == 0:
                    progress(done, total)
                continue
            held = found.get(child.child_ref)
            if held is None or PRECEDENCE[child.status] > PRECEDENCE[held.status]:
                found[child.child_ref] = child
    book.close()
    if progress is not None and total > 0:
        progress(total, total)
    result.children = sorted(found.values(), key=lambda c: (c.sheet, c.row))
    return result


def _read_list(
    number: int,
    title: str,
    rows: Iterator[tuple[int, Sequence[Any]]],
    today: date,
    formulas: set[tuple[int, int]],
    result: SourceFile,
) -> Iterator[SourceChild | int]:
    """Children on one list; yields an int per row read, for progress."""
    synonyms = {**COMMON, **LIST_FIELDS[number]}
    header_row = 0
    columns: dict[str, int] = {}
    header: Sequence[Any] = ()
    for row_number, record in rows:
        columns = find_columns(record, synonyms)
        if "child_id" in columns:
            header_row, header = row_number, record
            break
        if row_number >= HEADER_SEARCH_ROWS:
            break
    if not header_row:
        result.problems.append(
            Problem(
                0,
                f"no header row with a child ID column (looked for {looked_for(synonyms, 'child_id')})",
                title,
            )
        )
        return
    if "worker" not in columns:
        result.problems.append(
            Problem(
                header_row,
                f"no allocated worker column (looked for {looked_for(synonyms, 'worker')})",
                title,
            )
        )
        return
    for name in LIST_FIELDS[number]:
        if name not in columns and name in FACT_LABELS:
            result.warnings.append(
                Problem(
                    header_row,
                    f"no {FACT_LABELS[name]} column: left as it is (looked for {looked_for(synonyms, name)})",
                    title,
                )
            )
    status = STATUS_OF_LIST[number]
    first_seen: dict[str, int] = {}
    closed = 0
    for row_number, record in rows:
        yield 0
        if not any(c is not None and str(c).strip() for c in record):
            continue
        result.rows_read += 1
        try:
            _check_formulas(row_number, columns, header, formulas)
            ref = child_ref(cell(record, columns, "child_id"))
            if ref is None:
                raise CellError(f"no child ID in '{_header_text(header, columns['child_id'])}'")
            dates = {name: _date(record, columns, header, name) for name in DATE_FIELDS if name in columns}
            for name in NOT_FUTURE:
                when = dates.get(name)
                if when is not None and when > today:
                    raise CellError(f"{FACT_LABELS[name]} {when:%d/%m/%Y} is in the future")
        except CellError as e:
            result.problems.append(Problem(row_number, str(e), title))
            continue
        ended = dates.pop("closed_on", None)
        if ended is not None and ended <= today:
            closed += 1
            continue
        if ref in first_seen:
            result.problems.append(
                Problem(
                    row_number,
                    f"child {ref} is on this list twice (first on row {first_seen[ref]})",
                    title,
                )
            )
            continue
        first_seen[ref] = row_number
        facts: dict[str, Fact] = dict(dates)
        if status == "cla":
            if "placement_type" in columns:
                facts["placement_type"] = _placement(record, columns, row_number, title, result)
        else:
            # Not looked after: no placement.
            facts["placement_start"] = None
            facts["placement_type"] = None
        yield SourceChild(
            child_ref=ref,
            status=status,
            sheet=title,
            row=row_number,
            worker=worker(cell(record, columns, "worker")),
            team=text(cell(record, columns, "team")),
            facts=facts,
        )
    if closed:
        result.warnings.append(Problem(0, f"{closed} row(s) with an end date (closed, not current): skipped", title))


def _date(record: Sequence[Any], columns: dict[str, int], header: Sequence[Any], name: str) -> date | None:
    try:
        return to_date(cell(record, columns, name))
    except CellError as e:
        raise CellError(f"{_header_text(header, columns[name])}: {e}") from e


def _placement(record: Sequence[Any], columns: dict[str, int], row: int, title: str, result: SourceFile) -> str | None:
    raw = text(cell(record, columns, "placement_type"))
    if raw is None:
        return None
    code = re.match(r"^\s*([A-Za-z]\d)\b", raw)
    legal = text(cell(record, columns, "legal_status"))
    if code:
        kind, known = placement_type(code.group(1), legal)
        if known:
            return kind
    words = option(raw) or ""
    for needle, kind_ in PLACEMENT_WORDS:
        if needle in words:
            return kind_
    result.warnings.append(Problem(row, f"placement type '{raw}' is not one we know: left blank", title))
    return None


def _header_text(header: Sequence[Any], index: int) -> str:
    return " ".join(str(header[index]).split()) if index < len(header) else f"column {index + 1}"


def _check_formulas(
    row_number: int, columns: dict[str, int], header: Sequence[Any], formulas: set[tuple[int, int]]
) -> None:
    if not formulas:
        return
    for index in columns.values():
        if (row_number, index + 1) in formulas:
            where = f"{get_column_letter(index + 1)}{row_number}"
            raise CellError(
                f"cell {where} ({_header_text(header, index)}) holds a formula "
                "with no saved result: "
                "open the file in Excel, save it, and import again"
            )


def _uncached_formulas(data: bytes, titles: list[str]) -> dict[str, set[tuple[int, int]]]:
    """(row, column) of formula cells with no saved result, per sheet.

    Most exports hold no formulas at all, so a cheap look at the sheets' XML
    decides whether the slower second reading (formulas as written) is needed.
    """
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        if not any(
            n.startswith("xl/worksheets/") and (b"<f>" in archive.read(n) or b"<f " in archive.read(n))
            for n in archive.namelist()
        ):
            return {}
    values = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    formulas = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    missing: dict[str, set[tuple[int, int]]] = {}
    for title in titles:
        for row_number, (cached, written) in enumerate(
            zip(
                values[title].iter_rows(values_only=True),
                formulas[title].iter_rows(values_only=True),
                strict=False,
            ),
            start=1,
        ):
            for column, (value, formula) in enumerate(zip(cached, written, strict=False), start=1):
                if value is None and isinstance(formula, str) and formula.startswith("="):
                    missing.setdefault(title, set()).add((row_number, column))
    values.close()
    formulas.close()
    return missing
