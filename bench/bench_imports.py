"""How fast a 10,000-row Annex A workbook imports, against the floor of just reading it.

`make bench` runs this (through `python -m bench`); alone:
`python -m bench.bench_imports`. It writes a synthetic workbook (fake IDs),
imports it into a throwaway SQLite database, and prints rows per second and
the ratio to the time openpyxl alone takes to read the same workbook, which
no import can beat. Timings are printed, never asserted.
"""

from __future__ import annotations

import asyncio
import io
import tempfile
import time
from datetime import date
from pathlib import Path

from openpyxl import Workbook, load_workbook

ROWS = 10_000
TODAY = date(2026, 11, 23)
WORKERS = ("Priya Shah", "Shah, Priya", "megan.lloyd@example.gov.uk", "eward")


def workbook(rows: int = ROWS) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "List 8 - Children in Care"
    sheet.append(
        [
            "Child\u00a0Unique ID",
            "Date Started to be Looked After",
            "Child's Legal Status",
            "Start Date of Most Recent\nPlacement",
            "Placement Type",
            "Date of Latest Statutory Review",
            "Date of Last Social Work Visit ",
            "Allocated Team",
            "Allocated Worker",
        ]
    )
    for i in range(rows):
        sheet.append(
            [
                f"C{i:05d}",
                date(2025, 1, 1 + i % 28),
                "C2",
                45809,
                "U6",
                "01/09/2026",
                "#N/A",
                "T",
                WORKERS[i % 4],
            ]
        )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def read_only(data: bytes) -> float:
    started = time.perf_counter()
    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    for sheet in book.worksheets:
        for _row in sheet.iter_rows(values_only=True):
            pass
    book.close()
    return time.perf_counter() - started


async def import_into_sqlite(data: bytes, folder: Path) -> tuple[float, int]:
    from bot.annex_a import parse_workbook
    from bot.imports import StaffRow, parse
    from storage.db import Database, upgrade
    from storage.imports import import_annex_a, import_staff

    db = Database(f"sqlite+aiosqlite:///{folder}/bench.db")
    try:
        await upgrade(db)
        staff = parse(
            StaffRow,
            "user_id,name,team,role,fte,qualified_on,email\n"
            "pshah,Priya Shah,T,social_worker,1,2025-10-01,priya.shah@example.gov.uk\n"
            "mlloyd,Megan Lloyd,T,social_worker,1,2020-09-01,megan.lloyd@example.gov.uk\n"
            "eward,Ellie Ward,T,social_worker,1,2022-04-01,\n",
        )
        async with db.transaction() as session:
            await import_staff(session, "TBENCH", staff.rows)
        started = time.perf_counter()
        parsed = parse_workbook(data, TODAY)
        async with db.transaction() as session:
            report = await import_annex_a(session, "TBENCH", parsed, TODAY)
        return time.perf_counter() - started, report.created
    finally:
        await db.dispose()


def main() -> None:
    data = workbook()
    floor = read_only(data)
    with tempfile.TemporaryDirectory(prefix="practice-bot-bench-") as folder:
        took, created = asyncio.run(import_into_sqlite(data, Path(folder)))
    print(
        f"annex-a import: {created} rows in {took:.2f}s ({created / took:,.0f} rows/s); "
        f"reading the workbook alone: {floor:.2f}s; import/read ratio {took / floor:.1f}x"
    )


if __name__ == "__main__":
    main()
