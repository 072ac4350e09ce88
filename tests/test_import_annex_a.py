"""Importing Ofsted's Annex A workbook as councils really produce it, quirks and all."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.annex_a import parse_workbook
from bot.imports import ImportFailed
from bot.sources import CellError, norm_header, option, to_date
from storage.children import Allocation, Child
from storage.imports import Report, import_annex_a
from storage.mapping import WorkerAlias, resolve_workers, save_aliases, set_alias
from storage.org import Staff
from tests.support import Bot, csv, excel_serial, xlsx

TODAY = date(2026, 11, 23)
NBSP = "\u00a0"
STAFF = csv(
    "user_id,name,team,role,fte,qualified_on,email",
    "pshah,Priya Shah,Ipswich CIN 2,social_worker,1.0,2025-10-01,priya.shah@example.gov.uk",
    "mlloyd,Megan Lloyd,Ipswich CIN 2,social_worker,1.0,2020-09-01,megan.lloyd@example.gov.uk",
    "eward,Ellie Ward,Lowestoft CLA,social_worker,1.0,2022-04-01,ellie.ward@example.gov.uk",
)

CP_HEADER = [
    f"Child{NBSP}Unique ID ",
    "Allocated\nTeam",
    f"Allocated Worker{NBSP}",
    "Child Protection Plan\r\nStart Date",
    f"Date of the{NBSP}last  statutory visit",
    "Was the child seen alone?",
    "Child Protection Plan End Date",
]
CLA_HEADER = [
    "Child Unique ID",
    "Date Started to be Looked After",
    "Child's Legal Status",
    "Start Date of Most Recent Placement",
    "Placement Type",
    f"Date of Latest{NBSP}Statutory Review",
    "Date of Last Social Work Visit ",
    "Allocated Team",
    "Allocated Worker",
]
CIN_HEADER = [
    "Child Unique ID",
    "CIN Start Date",
    "Date Child Was Last Seen",
    "Allocated Team",
    "Allocated Worker",
]


def workbook(
    cp: list[list[Any]] | None = None,
    cla: list[list[Any]] | None = None,
    cin: list[list[Any]] | None = None,
    cached: dict[str, dict[str, str]] | None = None,
) -> bytes:
    sheets: dict[str, list[list[Any]]] = {
        "List 1 - Contacts": [["Child Unique ID", "Date of Contact"], ["X1", "not a date"]],
    }
    if cin is not None:
        sheets["List 6 - Children in Need"] = [CIN_HEADER, *cin]
    if cp is not None:
        sheets["List 7 - Child Protection"] = [["Annex A List 7 (synthetic)"], CP_HEADER, *cp]
    if cla is not None:
        sheets["List 8 - Children in Care"] = [CLA_HEADER, *cla]
    return xlsx(sheets, cached)


async def annex_a(bot: Bot, data: bytes, *, full: bool = True, strict: bool = True) -> Report:
    parsed = parse_workbook(data, TODAY)
    async with bot.deps.db.transaction() as session:
        return await import_annex_a(session, bot.deps.workspace_id, parsed, TODAY, full=full, strict=strict)


async def children(bot: Bot) -> dict[str, Child]:
    async with bot.deps.db.session() as session:
        return {c.child_ref: c for c in await session.scalars(select(Child))}


async def staff_ids(bot: Bot) -> dict[int, str]:
    async with bot.deps.db.session() as session:
        return {s.id: s.user_id for s in await session.scalars(select(Staff))}


QUIRKY = workbook(
    cp=[
        [
            "A2001",
            "Ipswich CIN 2",
            "Shah, Priya",
            datetime(2026, 8, 10),
            date(2026, 11, 13),
            "a) Yes",
            None,
        ],
        [
            "A2002",
            "Ipswich CIN 2",
            "pshah",
            "03/09/2026",
            excel_serial(date(2026, 11, 16)),
            "b) No",
            "#N/A",
        ],
        [
            "A2003",
            "Ipswich CIN 2",
            " megan  LLOYD ",
            "2026-07-21",
            "=DATE(2026,11,18)",
            "a) Yes",
            None,
        ],
        [
            "A2004",
            "Ipswich CIN 2",
            "Megan Lloyd",
            date(2025, 5, 1),
            date(2026, 3, 2),
            "a) Yes",
            date(2026, 3, 30),
        ],
        [None, None, None, None, None, None, None],
    ],
    cla=[
        [
            "A3001",
            date(2025, 3, 3),
            "C2",
            date(2025, 9, 1),
            "U4",
            date(2026, 9, 1),
            date(2026, 10, 20),
            "Lowestoft CLA",
            "ellie.ward@example.gov.uk",
        ],
        [
            "A3002",
            "12/12/2025",
            "C1",
            "12/12/2025",
            "P1",
            "#N/A",
            excel_serial(date(2026, 11, 10)),
            "Lowestoft CLA",
            "Ward, Ellie",
        ],
        [
            "A3003",
            date(2026, 1, 5),
            "V2",
            date(2026, 10, 30),
            "a) Foster placement",
            "",
            date(2026, 11, 4),
            "Lowestoft CLA",
            "eward",
        ],
        [
            "A3004",
            date(2024, 6, 1),
            "C2",
            date(2024, 6, 1),
            "Q9",
            None,
            date(2026, 10, 1),
            "Lowestoft CLA",
            "Unallocated",
        ],
        [
            "A2001",
            date(2026, 11, 1),
            "C1",
            date(2026, 11, 1),
            "U6",
            None,
            date(2026, 11, 20),
            "Lowestoft CLA",
            "eward",
        ],
    ],
    cin=[
        ["A1001", "14/04/2026", date(2026, 11, 2), "Ipswich CIN 2", "Priya Shah"],
        ["A2002", "01/02/2026", None, "Ipswich CIN 2", "Priya Shah"],
    ],
    cached={"List 7 - Child Protection": {"E5": str(excel_serial(date(2026, 11, 18)))}},
)


def test_messy_headers_normalise_to_the_same_words() -> None:
    assert norm_header(f"Date of the{NBSP}Last\nStatutory  Visit ") == "date of the last statutory visit"
    assert norm_header("Child's Legal Status") == "childs legal status"
    assert norm_header("Date Started to be Looked After (CLA)") == "date started to be looked after cla"


def test_dates_are_read_from_real_dates_uk_text_iso_text_and_excel_serials() -> None:
    expected = date(2026, 3, 31)
    for value in (
        datetime(2026, 3, 31, 0, 0),
        expected,
        "31/03/2026",
        "2026-03-31",
        "31-03-2026",
        46112,
        46112.0,
        "46112",
    ):
        assert to_date(value) == expected, value
    assert to_date("#N/A") is None and to_date("  ") is None and to_date(None) is None
    with pytest.raises(CellError, match="Excel error #REF!"):
        to_date("#REF!")
    with pytest.raises(CellError, match="not a date"):
        to_date("31st March")
    with pytest.raises(CellError, match="a number, not a date"):
        to_date(3)


def test_option_prefixes_are_dropped() -> None:
    assert option("a) Yes") == "yes"
    assert option("b)No") == "no"
    assert option("#N/A") is None


async def test_a_quirky_workbook_becomes_cp_cla_and_cin_children_with_their_dates(bot: Bot) -> None:
    await bot.import_staff(STAFF)

    report = await annex_a(bot, QUIRKY)

    stored = await children(bot)
    ids = await staff_ids(bot)
    assert sorted(stored) == [
        "A1001",
        "A2001",
        "A2002",
        "A2003",
        "A3001",
        "A3002",
        "A3003",
        "A3004",
    ]
    assert report.created == 8 and report.rejected == []
    # A2001 is on List 7 and List 8: looked after wins. A2002 is on List 6 and 7: CP wins.
    assert (stored["A2001"].status, stored["A2002"].status, stored["A1001"].status) == (
        "cla",
        "cp",
        "cin",
    )
    assert stored["A2002"].status_since == date(2026, 9, 3)
    assert stored["A2002"].last_visit_on == date(2026, 11, 16)  # an Excel serial number
    assert stored["A2003"].last_visit_on == date(2026, 11, 18)  # a formula's saved result
    assert ids[stored["A2003"].allocated_to or 0] == "mlloyd"  # name with odd case and spacing
    assert stored["A3001"].placement_type == "long_term"  # U4
    assert stored["A3002"].placement_type == "interim_care_order_at_home"  # P1 under an interim care order
    assert stored["A3002"].last_review_on is None and stored["A3002"].status_since == date(2025, 12, 12)
    assert stored["A3003"].placement_type == "foster"  # "a) Foster placement"
    assert stored["A3004"].placement_type is None and stored["A3004"].allocated_to is None
    assert {ids[stored[r].allocated_to or 0] for r in ("A3001", "A3002", "A3003")} == {"eward"}
    notes = [str(w) for w in report.warnings]
    assert "List 8 - Children in Care row 5: placement type 'Q9' is not one we know: left blank" in notes
    assert "List 7 - Child Protection: 1 row(s) with an end date (closed, not current): skipped" in notes


async def test_last_years_header_wording_in_another_order_is_understood(bot: Bot) -> None:
    await bot.import_staff(STAFF)
    data = xlsx(
        {
            "List_7": [
                [
                    "Date of Last Statutory Visit",
                    "CP Plan Start Date",
                    "Social Worker",
                    "Team",
                    "Child ID",
                ],
                ["10/11/2026", "01/06/2026", "Priya Shah", "Ipswich CIN 2", 123456],
            ]
        }
    )

    await annex_a(bot, data)

    child = (await children(bot))["123456"]
    assert (child.status, child.status_since, child.last_visit_on) == (
        "cp",
        date(2026, 6, 1),
        date(2026, 11, 10),
    )


async def test_a_formula_with_no_saved_result_rejects_its_row_naming_the_cell(bot: Bot) -> None:
    await bot.import_staff(STAFF)
    data = workbook(cp=[["A2001", "Ipswich CIN 2", "Priya Shah", "01/06/2026", "=TODAY()-3", None, None]])

    with pytest.raises(ImportFailed) as failed:
        await annex_a(bot, data)

    assert [str(p) for p in failed.value.problems] == [
        "List 7 - Child Protection row 3: cell E3 (Date of the last statutory visit) holds a formula "
        "with no saved result: open the file in Excel, save it, and import again"
    ]
    assert await children(bot) == {}


async def test_every_bad_row_is_rejected_with_its_sheet_and_row_and_nothing_is_written(
    bot: Bot,
) -> None:
    await bot.import_staff(STAFF)
    data = workbook(
        cp=[
            ["A2001", "Ipswich CIN 2", "Priya Shah", "01/06/2026", "31st June", None, None],
            ["Jane Smith", "Ipswich CIN 2", "Priya Shah", "01/06/2026", None, None, None],
            ["A2003", "Ipswich CIN 2", "Priya Shah", "#REF!", None, None, None],
            ["A2004", "Ipswich CIN 2", "Priya Shah", "01/06/2026", "01/12/2026", None, None],
            ["A2005", "Ipswich CIN 2", "Priya Shah", "01/06/2026", None, None, None],
            ["A2005", "Ipswich CIN 2", "Priya Shah", "01/06/2026", None, None, None],
        ]
    )

    with pytest.raises(ImportFailed) as failed:
        await annex_a(bot, data)

    problems = [str(p) for p in failed.value.problems]
    assert problems == [
        "List 7 - Child Protection row 3: Date of the last statutory visit: '31st June' is not a date "
        "(use dd/mm/yyyy, e.g. 31/03/2026)",
        "List 7 - Child Protection row 4: child ID must be a case reference (letters, digits, / _ . -), never a name",
        "List 7 - Child Protection row 5: Child Protection Plan Start Date: holds the Excel error #REF!",
        "List 7 - Child Protection row 6: last visit 01/12/2026 is in the future",
        "List 7 - Child Protection row 8: child A2005 is on this list twice (first on row 7)",
    ]
    assert await children(bot) == {}


async def test_an_unmatched_worker_stops_the_import_until_a_person_maps_them(bot: Bot) -> None:
    await bot.import_staff(STAFF)
    data = workbook(
        cp=[
            ["A2001", "Ipswich CIN 2", "Priya Shah", "01/06/2026", None, None, None],
            ["A2002", "Ipswich CIN 2", "J. Bloggs (agency)", "01/06/2026", None, None, None],
        ]
    )

    with pytest.raises(ImportFailed) as failed:
        await annex_a(bot, data)
    assert str(failed.value.problems[0]) == (
        "List 7 - Child Protection row 4: allocated worker 'J. Bloggs (agency)' is not matched to the staff list "
        "(no one on the staff list has this email, local ID or name): run `practice-bot import map-workers` to resolve"
    )
    assert await children(bot) == {}

    async with bot.deps.db.transaction() as session:
        matching = await resolve_workers(session, bot.deps.workspace_id, ["Priya Shah", "J. Bloggs (agency)"])
        assert [u.label for u in matching.unmatched] == ["J. Bloggs (agency)"]
        await save_aliases(session, bot.deps.workspace_id, matching.matched.values())
        await set_alias(session, bot.deps.workspace_id, "J. BLOGGS  (agency)", "mlloyd")
    report = await annex_a(bot, data)

    assert report.created == 2
    ids = await staff_ids(bot)
    assert ids[(await children(bot))["A2002"].allocated_to or 0] == "mlloyd"
    async with bot.deps.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(WorkerAlias)) == 2


async def test_two_staff_with_the_same_name_are_never_guessed_between(bot: Bot) -> None:
    await bot.import_staff(STAFF + "pshah2,Priya Shah,Lowestoft CLA,social_worker,1.0,2021-01-01,\n")
    data = workbook(cp=[["A2001", "Ipswich CIN 2", "Priya Shah", "01/06/2026", None, None, None]])

    with pytest.raises(ImportFailed) as failed:
        await annex_a(bot, data)

    assert "2 people on the staff list share this name: pshah, pshah2" in str(failed.value.problems[0])


async def test_a_dry_run_reports_new_updated_deallocated_and_rejected_and_writes_nothing(
    bot: Bot,
) -> None:
    await bot.import_staff(STAFF)
    await bot.children("OLD1,pshah,cp", "OLD2,pshah,early_help", "A2001,pshah,cin")
    data = workbook(
        cp=[
            ["A2001", "Ipswich CIN 2", "Priya Shah", "01/06/2026", None, None, None],
            ["A2002", "Ipswich CIN 2", "Priya Shah", "01/06/2026", None, None, None],
            ["A2003", "Ipswich CIN 2", "Nobody Known", "01/06/2026", None, None, None],
            ["A2004", "Ipswich CIN 2", "Priya Shah", "not a date", None, None, None],
        ]
    )
    parsed = parse_workbook(data, TODAY)

    async with bot.deps.db.transaction() as session:
        report = await import_annex_a(session, bot.deps.workspace_id, parsed, TODAY, strict=False)
        await session.rollback()

    # OLD1 was CP and is not on List 7: de-allocated. OLD2 is early help, which Annex A doesn't list.
    assert (
        report.summary("children")
        == "children: 1 new, 1 updated, 0 unchanged, 1 de-allocated (no longer in the file), 2 rejected"
    )
    assert [(p.sheet, p.line) for p in report.rejected] == [
        ("List 7 - Child Protection", 5),
        ("List 7 - Child Protection", 6),
    ]
    assert sorted(await children(bot)) == ["A2001", "OLD1", "OLD2"]
    assert (await children(bot))["OLD1"].allocated_to is not None


async def test_reimporting_the_same_workbook_changes_nothing(bot: Bot) -> None:
    await bot.import_staff(STAFF)
    await annex_a(bot, QUIRKY)

    again = await annex_a(bot, QUIRKY)

    assert (again.created, again.updated, again.unchanged, again.deallocated) == (0, 0, 8, 0)
    async with bot.deps.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Allocation)) == 7


async def test_a_partial_workbook_leaves_children_missing_from_it_allocated(bot: Bot) -> None:
    await bot.import_staff(STAFF)
    await bot.children("OLD1,pshah,cp")
    data = workbook(cp=[["A2001", "Ipswich CIN 2", "Priya Shah", "01/06/2026", None, None, None]])

    report = await annex_a(bot, data, full=False)

    assert report.deallocated == 0 and (await children(bot))["OLD1"].allocated_to is not None


@functools.cache
def big_workbook(rows: int) -> bytes:
    """Written once for both databases: writing is openpyxl's time, not ours."""
    workers = ["Priya Shah", "Shah, Priya", "megan.lloyd@example.gov.uk", "eward"]
    return workbook(
        cla=[
            [
                f"C{i:05d}",
                date(2025, 1, 1 + i % 28),
                "C2",
                excel_serial(date(2025, 6, 1)),
                "U6",
                "01/09/2026",
                "#N/A",
                "T",
                workers[i % 4],
            ]
            for i in range(rows)
        ]
    )


async def test_a_10000_row_workbook_imports_in_one_transaction(bot: Bot) -> None:
    await bot.import_staff(STAFF)

    report = await annex_a(bot, big_workbook(10_000))

    assert report.created == 10_000 and report.rejected == []
    async with bot.deps.db.session() as session:
        held = dict(
            (await session.execute(select(Child.allocated_to, func.count()).group_by(Child.allocated_to))).all()
        )
    assert sorted(held.values()) == [2500, 2500, 5000]


# --- from the command line, with the examples shipped in examples/ -------------------

EXAMPLES = Path(__file__).parents[1] / "examples"
DEMO_STAFF = csv(
    "user_id,name,team,role,fte,qualified_on,email",
    "thughes,Tom Hughes,Ipswich CIN 2,social_worker,1.0,2026-06-10,tom.hughes@example.gov.uk",
    "pshah,Priya Shah,Ipswich CIN 2,social_worker,1.0,2025-10-01,priya.shah@example.gov.uk",
    "arahman,Aisha Rahman,Ipswich CIN 2,social_worker,0.6,2023-02-03,aisha.rahman@example.gov.uk",
    "mlloyd,Megan Lloyd,Ipswich CIN 2,social_worker,1.0,2020-09-01,megan.lloyd@example.gov.uk",
    "eward,Ellie Ward,Lowestoft CLA,social_worker,1.0,2022-04-01,ellie.ward@example.gov.uk",
    "fbello,Femi Bello,Lowestoft CLA,social_worker,1.0,2026-02-01,femi.bello@example.gov.uk",
    "lking,Laura King,Lowestoft CLA,social_worker,0.8,2025-07-01,laura.king@example.gov.uk",
    "gokafor,Grace Okafor,Ipswich CIN 2,manager,1.0,2014-07-15,grace.okafor@example.gov.uk",
)


@pytest.fixture
def run(tmp_path: Path):  # type: ignore[no-untyped-def]
    env = {**os.environ, "PRACTICE_BOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/cli.db"}
    for key in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"):
        env.pop(key, None)

    def _run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot.cli", "--now", "2026-11-23T09:00", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=120,
        )

    return _run


def test_the_example_workbook_maps_dry_runs_and_imports_from_the_command_line(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "staff.csv").write_text(DEMO_STAFF)
    example = str(EXAMPLES / "annex_a_example.xlsx")
    run("import", "staff", "staff.csv")

    mapped = run("import", "map-workers", example)
    dry = run("import", "annex-a", example, "--dry-run")
    real = run("import", "annex-a", example)
    again = run("import", "annex-a", example)

    assert mapped.returncode == 0, mapped.stdout + mapped.stderr
    assert "matched 8 worker(s):" in mapped.stdout
    assert "'Hughes, Tom' -> thughes (by name)" in mapped.stdout
    assert "'aisha.rahman@example.gov.uk' -> arahman (by email)" in mapped.stdout
    assert "'pshah' -> pshah (by local ID)" in mapped.stdout
    assert dry.stdout.startswith("dry run, nothing written: children: 9 new, 0 updated, 0 unchanged"), dry.stderr
    assert "closed, not current" in dry.stdout
    assert "children: 9 new" in real.stdout and real.returncode == 0
    assert "children: 0 new, 0 updated, 9 unchanged" in again.stdout


def test_unmatched_workers_are_listed_and_resolved_by_a_person(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "staff.csv").write_text(DEMO_STAFF)
    header = ["Child Unique ID", "Allocated Worker", "Child Protection Plan Start Date"]
    (tmp_path / "annex.xlsx").write_bytes(
        xlsx(
            {
                "List 7": [
                    header,
                    ["A1", "Priya Shah", "01/06/2026"],
                    ["A2", "J. Bloggs (agency)", "01/06/2026"],
                ]
            }
        )
    )
    run("import", "staff", "staff.csv")

    refused = run("import", "annex-a", "annex.xlsx")
    listed = run("import", "map-workers", "annex.xlsx")
    resolved = run("import", "map-workers", "annex.xlsx", "--apply", "--set", "J. Bloggs (agency)=mlloyd")
    imported = run("import", "annex-a", "annex.xlsx")

    assert refused.returncode == 1
    assert "nothing imported, 1 problem(s)" in refused.stderr
    assert "List 7 row 3: allocated worker 'J. Bloggs (agency)' is not matched" in refused.stderr
    assert listed.returncode == 1
    assert (
        "'J. Bloggs (agency)' (List 7 row 3): no one on the staff list has this email, local ID or name"
        in listed.stdout
    )
    assert resolved.returncode == 0, resolved.stdout + resolved.stderr
    assert "'J. Bloggs (agency)' -> mlloyd (by a saved mapping)" in resolved.stdout
    assert "children: 2 new" in imported.stdout


def test_the_example_903_return_and_census_import_from_the_command_line(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "staff.csv").write_text(DEMO_STAFF)
    run("import", "staff", "staff.csv")

    ssda = run("import", "ssda903", str(EXAMPLES / "ssda903"), "--dry-run")
    census = run("import", "census", str(EXAMPLES / "census.csv"), "--key", "email")

    assert ssda.stdout.startswith("dry run, nothing written: children: 4 new"), ssda.stderr
    assert census.returncode == 0, census.stderr
    assert "staff: 0 new, 4 updated, 0 unchanged" in census.stdout
    assert "1 leaver(s)" in census.stdout


def test_a_large_file_shows_a_progress_bar(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "staff.csv").write_text(DEMO_STAFF)
    (tmp_path / "big.xlsx").write_bytes(
        xlsx(
            {
                "List 7": [
                    ["Child ID", "Allocated Worker"],
                    *[[f"C{i}", "pshah"] for i in range(600)],
                ]
            }
        )
    )
    run("import", "staff", "staff.csv")

    result = run("import", "annex-a", "big.xlsx", "--dry-run")

    assert "reading [########################################] 601/601" in result.stderr
    assert "children: 600 new" in result.stdout
