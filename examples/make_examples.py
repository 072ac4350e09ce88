"""Write examples/annex_a_example.xlsx: a small synthetic Annex A with real files' quirks.

Run `python examples/make_examples.py` to regenerate it; the output is the
same bytes every time (fixed timestamps), so it can be committed. Child IDs
are made up; there are no children's names, dates of birth or addresses.
Workers are people from the demo authority (`make run`), written the ways
case management exports write them: "Surname, Forename", an email, a local ID.

Quirks reproduced: a title row above the headers; headers with non-breaking
spaces, line breaks, trailing spaces and this year's wording; "#N/A" and
blank cells; "a) " option prefixes; dates as real dates, dd/mm/yyyy text and
Excel serial numbers; a formula cell with its saved result (as Excel saves
it); List 1 (contacts), which is ignored; a closed CP plan, which is skipped.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date, datetime
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).parent
FIXED = datetime(2026, 11, 1, 9, 0, 0)
NBSP = "\u00a0"


def serial(d: date) -> int:
    return (d - date(1899, 12, 30)).days


def build() -> Workbook:
    book = Workbook()
    contacts = book.active
    assert contacts is not None
    contacts.title = "List 1 - Contacts"
    contacts.append(["Child Unique ID", "Date of Contact", "Contact Source"])
    contacts.append(["A9001", date(2026, 10, 1), "a) Police"])

    cin = book.create_sheet("List 6 - Children in Need")
    cin.append(
        [
            "Child Unique ID",
            "CIN Start Date",
            "Date Child Was Last Seen",
            "Allocated Team",
            "Allocated Worker",
        ]
    )
    cin.append(["A1001", "14/04/2026", date(2026, 11, 2), "Ipswich CIN 2", "Hughes, Tom"])
    cin.append(["A1002", serial(date(2026, 6, 1)), "#N/A", "Ipswich CIN 2", "aisha.rahman@example.gov.uk"])
    cin.append(["A2001", "01/02/2026", None, "Ipswich CIN 2", "Shah, Priya"])  # also on List 7: CP wins

    cp = book.create_sheet("List 7 - Child Protection")
    cp.append(["Annex A List 7: children subject to a child protection plan (synthetic example)"])
    cp.append(
        [
            f"Child{NBSP}Unique ID ",
            "Allocated\nTeam",
            f"Allocated Worker{NBSP}",
            "Child Protection Plan\nStart Date",
            f"Date of the{NBSP}last statutory visit",
            "Was the child seen alone?",
            "Child Protection Plan End Date",
        ]
    )
    cp.append(
        [
            "A2001",
            "Ipswich CIN 2",
            "Shah, Priya",
            date(2026, 8, 10),
            date(2026, 11, 13),
            "a) Yes",
            None,
        ]
    )
    cp.append(
        [
            "A2002",
            "Ipswich CIN 2",
            "pshah",
            "03/09/2026",
            serial(date(2026, 11, 16)),
            "b) No",
            "#N/A",
        ]
    )
    cp.append(["A2003", "Ipswich CIN 2", "Megan Lloyd", "2026-07-21", "=DATE(2026,11,18)", "a) Yes", None])
    cp.append(
        [
            "A2004",
            "Ipswich CIN 2",
            "Megan Lloyd",
            date(2025, 5, 1),
            date(2026, 3, 2),
            "a) Yes",
            date(2026, 3, 30),
        ]
    )

    cla = book.create_sheet("List 8 - Children in Care")
    cla.append(
        [
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
    )
    cla.append(
        [
            "A3001",
            date(2025, 3, 3),
            "C2",
            date(2025, 9, 1),
            "U4",
            date(2026, 9, 1),
            date(2026, 10, 20),
            "Lowestoft CLA",
            "Ward, Ellie",
        ]
    )
    cla.append(
        [
            "A3002",
            "12/12/2025",
            "C1",
            "12/12/2025",
            "P1",
            "#N/A",
            serial(date(2026, 11, 10)),
            "Lowestoft CLA",
            "fbello",
        ]
    )
    cla.append(
        [
            "A3003",
            date(2026, 1, 5),
            "V2",
            date(2026, 10, 30),
            "U6: Foster placement with other foster carer",
            None,
            date(2026, 11, 4),
            "Lowestoft CLA",
            "Laura King",
        ]
    )
    cla.append(
        [
            "A3004",
            date(2024, 6, 1),
            "C2",
            date(2024, 6, 1),
            "K2",
            date(2026, 6, 20),
            date(2026, 10, 1),
            "Lowestoft CLA",
            "Unallocated",
        ]
    )
    return book


def cache_formula_results(data: bytes, results: dict[str, dict[str, str]]) -> bytes:
    """Give formula cells the saved result Excel would write (openpyxl writes none).

    `results` maps a sheet's position ("sheet3") to {cell: value}.
    """
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            sheet = re.fullmatch(r"xl/worksheets/(sheet\d+)\.xml", item.filename)
            if sheet and sheet.group(1) in results:
                xml = content.decode("utf-8")
                for ref, value in results[sheet.group(1)].items():
                    xml = re.sub(
                        rf'(<c r="{ref}"[^>]*>)(<f>[^<]*</f>)(?:<v\s*/>|<v></v>)?',
                        rf"\g<1>\g<2><v>{value}</v>",
                        xml,
                    )
                content = xml.encode("utf-8")
            target.writestr(_fixed(item.filename), content)
    return out.getvalue()


def _fixed(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=FIXED.timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def save(book: Workbook, results: dict[str, dict[str, str]] | None = None) -> bytes:
    book.properties.created = FIXED
    buffer = io.BytesIO()
    book.save(buffer)
    data = buffer.getvalue()
    return cache_formula_results(_pin_modified(data), results or {})


def _pin_modified(data: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "docProps/core.xml":
                content = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>2026-11-01T09:00:00Z\g<2>",
                    content,
                )
            target.writestr(_fixed(item.filename), content)
    return out.getvalue()


def main() -> None:
    # List 7 is the third sheet; its formula in E5 saved as the serial for 18/11/2026.
    data = save(build(), {"sheet3": {"E5": str(serial(date(2026, 11, 18)))}})
    (HERE / "annex_a_example.xlsx").write_bytes(data)
    print(f"wrote {HERE / 'annex_a_example.xlsx'} ({len(data)} bytes)")


if __name__ == "__main__":
    main()
