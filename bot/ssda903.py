"""The SSDA903 return (DfE, children looked after): a folder of CSVs, parsed.

Files are recognised by their columns, not their names (councils name them
"header.csv", "903_Episodes_2026.csv", ...):

- Header (CHILD, SEX, DOB, ...): personal details. Read past, never kept.
- Episodes (CHILD, DECOM, RNE, LS, CIN, PLACE, PLACE_PROVIDER, DEC, REC, ...):
  a child with an open episode (no DEC) is looked after now: status "cla".
  The placement started on the DECOM of the open episode, or earlier when the
  episodes before it only changed legal status (RNE "L": same placement, same
  carer). The child became looked after on the DECOM of the latest episode
  starting a period of care (RNE "S").
- Reviews (CHILD, DOB, REVIEW, REVIEW_CODE): the latest REVIEW is the last review.

PLACE codes become the placement types the visit rules use (CLA reg 28):

- U1, U4 (foster placement, long-term fostering) -> "long_term" (reg 28(2)(c)).
- U2, U3 (relative or friend: FFA/concurrent, or not long-term), U5, U6 (other
  foster carer: FFA/concurrent, or not long-term) -> "foster".
- P1 (placed with own parent or person with parental responsibility) ->
  "interim_care_order_at_home" with LS C1 (reg 28(4)), "care_order_at_home"
  with LS C2 (reg 28(5)), otherwise "placed_with_parent" (reg 28(3)).
- K1 (secure children's home), K2 (children's home), R1 (residential care
  home), R2 (NHS/health provider), R3 (family centre, mother and baby unit),
  R5 (young offender institution or prison), S1 (residential school) ->
  "residential".
- Known codes with no visit pattern of their own (A3-A6 placed for adoption,
  H5 and P2 semi-independent and independent living, P3 residential
  employment, T0-T4 temporary moves, Z1 other) -> no placement type (the
  default 6-weekly visits apply), silently.
- Anything else -> no placement type, with a note naming the row: never a
  rejected row, since a new code in next year's return must not block an import.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

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
    rows_of,
    text,
    to_date,
)

LONG_TERM = {"U1", "U4"}
FOSTER = {"U2", "U3", "U5", "U6"}
RESIDENTIAL = {"K1", "K2", "R1", "R2", "R3", "R5", "S1"}
NO_TYPE = {"A3", "A4", "A5", "A6", "H5", "P2", "P3", "T0", "T1", "T2", "T3", "T4", "Z1"}


def placement_type(code: str | None, legal_status: str | None = None) -> tuple[str | None, bool]:
    """(placement type, known code?) for a PLACE code and LS (legal status) code."""
    if code is None:
        return None, True
    place = code.strip().upper()[:2]
    ls = (legal_status or "").strip().upper()[:2]
    if place in LONG_TERM:
        return "long_term", True
    if place in FOSTER:
        return "foster", True
    if place == "P1":
        if ls == "C1":
            return "interim_care_order_at_home", True
        if ls == "C2":
            return "care_order_at_home", True
        return "placed_with_parent", True
    if place in RESIDENTIAL:
        return "residential", True
    return None, place in NO_TYPE


EPISODES = {
    "child": ("CHILD", "child id", "child unique id"),
    "decom": ("DECOM", "date episode commenced"),
    "rne": ("RNE", "reason for new episode"),
    "ls": ("LS", "legal status"),
    "place": ("PLACE", "placement type"),
    "dec": ("DEC", "date episode ceased"),
}
REVIEWS = {"child": ("CHILD", "child id"), "review": ("REVIEW", "review date")}
HEADER = {"child": ("CHILD",), "sex": ("SEX",), "dob": ("DOB",)}


@dataclass(frozen=True)
class _Episode:
    row: int
    decom: date
    rne: str
    ls: str | None
    place: str | None
    dec: date | None


def read_csv(data: bytes) -> list[list[str]]:
    text_ = data.decode("utf-8-sig", errors="replace")
    return list(csv.reader(io.StringIO(text_)))


def _kind(header: Sequence[str]) -> str | None:
    episodes = find_columns(header, EPISODES)
    if "child" in episodes and "decom" in episodes:
        return "episodes"
    if "child" in find_columns(header, REVIEWS) and "review" in find_columns(header, REVIEWS):
        return "reviews"
    if "child" in find_columns(header, HEADER):
        return "header"
    return None


def parse_folder(folder: Path, today: date, progress: Progress | None = None) -> SourceFile:
    files = {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.suffix.lower() == ".csv"}
    return parse_files(files, today, progress, name=str(folder))


def parse_files(
    files: dict[str, bytes], today: date, progress: Progress | None = None, name: str = "SSDA903"
) -> SourceFile:
    """Parse the return's CSVs, given as {file name: content}."""
    result = SourceFile(name=name, covers=frozenset({"cla"}), has_workers=False)
    tables: dict[str, tuple[str, list[list[str]]]] = {}
    for filename, data in files.items():
        rows = read_csv(data)
        kind = _kind(rows[0]) if rows else None
        if kind is None:
            result.warnings.append(Problem(0, "not an SSDA903 Header, Episodes or Reviews file: skipped", filename))
            continue
        if kind in tables:
            result.problems.append(Problem(0, f"a second {kind} file (the first is {tables[kind][0]})", filename))
            continue
        tables[kind] = (filename, rows)
    if "episodes" not in tables:
        result.problems.append(Problem(0, "no Episodes file (a CSV with CHILD, DECOM, ... PLACE, DEC columns)", name))
        return result

    episodes_name, episode_rows = tables["episodes"]
    total = len(episode_rows) - 1 + (len(tables["reviews"][1]) - 1 if "reviews" in tables else 0)
    episodes = _episodes(episodes_name, episode_rows, result, progress, total)
    reviews = _reviews(tables["reviews"], today, result) if "reviews" in tables else None
    if progress is not None:
        progress(total, total)

    left_care = 0
    for ref, eps in episodes.items():
        eps.sort(key=lambda e: e.decom)
        open_eps = [e for e in eps if e.dec is None]
        if len(open_eps) > 1:
            result.problems.append(
                Problem(
                    open_eps[1].row,
                    f"child {ref} has two open episodes (the other on row {open_eps[0].row})",
                    episodes_name,
                )
            )
            continue
        if not open_eps:
            left_care += 1
            continue
        current = open_eps[0]
        index = eps.index(current)
        start = index
        # Episodes that only changed legal status keep the same placement.
        while start > 0 and eps[start].rne == "L":
            start -= 1
        began = next((e.decom for e in reversed(eps[: index + 1]) if e.rne == "S"), eps[0].decom)
        kind, known = placement_type(current.place, current.ls)
        if not known:
            result.warnings.append(
                Problem(
                    current.row,
                    f"PLACE '{current.place}' is not a code we know: placement type left blank",
                    episodes_name,
                )
            )
        facts: dict[str, Fact] = {
            "status_since": began,
            "placement_start": eps[start].decom,
            "placement_type": kind,
        }
        if reviews is not None:
            facts["last_review_on"] = reviews.get(ref)
        result.children.append(SourceChild(ref, "cla", episodes_name, current.row, facts=facts))
    if left_care:
        result.warnings.append(
            Problem(
                0,
                f"{left_care} child(ren) whose last episode has ended (DEC set) "
                "are no longer looked after: left as they are",
                episodes_name,
            )
        )
    return result


def _episodes(
    filename: str, rows: list[list[str]], result: SourceFile, progress: Progress | None, total: int
) -> dict[str, list[_Episode]]:
    columns = find_columns(rows[0], EPISODES)
    by_child: dict[str, list[_Episode]] = {}
    for number, record in rows_of(iter(enumerate(rows[1:], start=2))):
        result.rows_read += 1
        if progress is not None and number % 250 == 0:
            progress(number, total)
        try:
            ref = child_ref(cell(record, columns, "child"))
            if ref is None:
                raise CellError("CHILD is blank")
            decom = _date(record, columns, "decom", "DECOM")
            if decom is None:
                raise CellError("DECOM is blank")
            dec = _date(record, columns, "dec", "DEC")
            if dec is not None and dec < decom:
                raise CellError(f"DEC {dec:%d/%m/%Y} is before DECOM {decom:%d/%m/%Y}")
            episode = _Episode(
                row=number,
                decom=decom,
                rne=(text(cell(record, columns, "rne")) or "").upper(),
                ls=text(cell(record, columns, "ls")),
                place=text(cell(record, columns, "place")),
                dec=dec,
            )
        except CellError as e:
            result.problems.append(Problem(number, str(e), filename))
            continue
        by_child.setdefault(ref, []).append(episode)
    return by_child


def _reviews(table: tuple[str, list[list[str]]], today: date, result: SourceFile) -> dict[str, date]:
    filename, rows = table
    columns = find_columns(rows[0], REVIEWS)
    latest: dict[str, date] = {}
    for number, record in rows_of(iter(enumerate(rows[1:], start=2))):
        result.rows_read += 1
        try:
            ref = child_ref(cell(record, columns, "child"))
            when = _date(record, columns, "review", "REVIEW")
            if ref is None or when is None:
                continue
            if when > today:
                raise CellError(f"REVIEW {when:%d/%m/%Y} is in the future")
        except CellError as e:
            result.problems.append(Problem(number, str(e), filename))
            continue
        if ref not in latest or when > latest[ref]:
            latest[ref] = when
    return latest


def _date(record: Sequence[Any], columns: dict[str, int], name: str, label: str) -> date | None:
    try:
        return to_date(cell(record, columns, name))
    except CellError as e:
        raise CellError(f"{label}: {e}") from e
