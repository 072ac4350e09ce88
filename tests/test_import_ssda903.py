"""Importing the SSDA903 return: looked-after children's placements and reviews, nothing personal."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from bot.imports import ImportFailed
from bot.ssda903 import parse_files, placement_type
from storage.children import Child
from storage.imports import Report, import_ssda903
from tests.support import Bot, csv

TODAY = date(2026, 11, 23)
HEADER = csv("CHILD,SEX,DOB,ETHNIC,UPN", "A3001,1,01/03/2012,WBRI,UN1", "A3002,2,15/07/2016,MWBC,UN2")
EPISODES_HEADER = "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,URN"
EPISODES = csv(
    EPISODES_HEADER,
    "A3001,03/03/2025,S,V2,N1,U6,PR1,01/09/2025,X1,CARPL,SC1",
    "A3001,01/09/2025,T,C2,N1,U4,PR1,01/02/2026,X1,,SC2",
    "A3001,01/02/2026,L,C2,N1,U4,PR1,,,,SC2",
    "A3002,2025-12-12,S,C1,N2,P1,PR0,,,,XXXXXXX",
    "A3003,05/01/2026,S,V2,N1,K2,PR2,,,,SC3",
    "A3004,10/01/2025,S,V2,N4,U3,PR1,10/05/2026,E11,,SC4",
    "A3005,10/01/2026,S,V2,N4,ZZ,PR1,,,,SC5",
)
REVIEWS = csv(
    "CHILD,DOB,REVIEW,REVIEW_CODE",
    "A3001,01/03/2012,01/03/2026,PN1",
    "A3001,01/03/2012,01/09/2026,PN1",
    "A3002,15/07/2016,09/01/2026,PN0",
)
FILES = {
    "903_Header_2026.csv": HEADER.encode(),
    "Episodes.CSV": EPISODES.encode(),
    "reviews-final.csv": REVIEWS.encode(),
}


async def ssda903(bot: Bot, files: dict[str, bytes], strict: bool = True) -> Report:
    parsed = parse_files(files, TODAY)
    async with bot.deps.db.transaction() as session:
        return await import_ssda903(session, bot.deps.workspace_id, parsed, TODAY, strict=strict)


async def children(bot: Bot) -> dict[str, Child]:
    async with bot.deps.db.session() as session:
        return {c.child_ref: c for c in await session.scalars(select(Child))}


def test_place_codes_map_to_the_visit_rules_placement_types() -> None:
    assert placement_type("U1") == ("long_term", True)
    assert placement_type("U4") == ("long_term", True)
    assert placement_type("U3") == ("foster", True)
    assert placement_type("U6") == ("foster", True)
    assert placement_type("P1", "C1") == ("interim_care_order_at_home", True)
    assert placement_type("P1", "C2") == ("care_order_at_home", True)
    assert placement_type("P1", "V2") == ("placed_with_parent", True)
    assert placement_type("K2") == ("residential", True)
    assert placement_type("T1") == (None, True)
    assert placement_type("Q7") == (None, False)


async def test_open_episodes_give_placement_start_type_and_the_latest_review(bot: Bot) -> None:
    report = await ssda903(bot, FILES)

    stored = await children(bot)
    assert sorted(stored) == ["A3001", "A3002", "A3003", "A3005"]  # A3004 left care in May
    a1 = stored["A3001"]
    # The open episode only changed legal status (RNE L): the placement began with the one before.
    assert (a1.status, a1.status_since, a1.placement_start, a1.placement_type) == (
        "cla",
        date(2025, 3, 3),
        date(2025, 9, 1),
        "long_term",
    )
    assert a1.last_review_on == date(2026, 9, 1)
    assert stored["A3002"].placement_type == "interim_care_order_at_home"
    assert stored["A3003"].last_review_on is None and stored["A3003"].allocated_to is None
    assert stored["A3005"].placement_type is None
    notes = [str(w) for w in report.warnings]
    assert "Episodes.CSV row 8: PLACE 'ZZ' is not a code we know: placement type left blank" in notes
    assert any("1 child(ren) whose last episode has ended" in n for n in notes)
    assert report.rejected == []


async def test_personal_details_in_the_header_file_are_never_stored(bot: Bot) -> None:
    await ssda903(bot, FILES)

    async with bot.deps.db.session() as session:
        child = await session.scalar(select(Child).where(Child.child_ref == "A3001"))
    assert child is not None
    stored = {c.key: getattr(child, c.key) for c in Child.__table__.columns}
    assert not any(str(v) in ("2012-03-01", "01/03/2012", "WBRI", "UN1") for v in stored.values())


async def test_a_903_import_updates_facts_but_leaves_allocation_alone_and_is_idempotent(
    bot: Bot,
) -> None:
    await bot.staff("tom,Tom Hughes,Lowestoft CLA,social_worker,1.0,2020-01-01")
    await bot.children("A3001,tom,cp", "OTHER,tom,cla")

    first = await ssda903(bot, FILES)
    again = await ssda903(bot, FILES)

    stored = await children(bot)
    assert stored["A3001"].status == "cla" and stored["A3001"].allocated_to is not None
    assert stored["OTHER"].allocated_to is not None  # not in the return, but the return names no workers
    assert (first.created, first.updated, first.deallocated) == (3, 1, 0)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)


async def test_bad_episodes_are_rejected_by_file_and_row_and_nothing_is_written(bot: Bot) -> None:
    episodes = csv(
        EPISODES_HEADER,
        "A3001,03/03/2025,S,V2,N1,U6,PR1,,,,SC1",
        "A3001,01/09/2025,T,C2,N1,U4,PR1,,,,SC2",
        "A3002,31/02/2026,S,C1,N2,P1,PR0,,,,X",
        "A3003,05/01/2026,S,V2,N1,K2,PR2,01/01/2026,X1,,SC3",
        "Jane Doe,05/01/2026,S,V2,N1,K2,PR2,,,,SC3",
    )

    with pytest.raises(ImportFailed) as failed:
        await ssda903(bot, {"episodes.csv": episodes.encode()})

    assert sorted(str(p) for p in failed.value.problems) == [
        "episodes.csv row 3: child A3001 has two open episodes (the other on row 2)",
        "episodes.csv row 4: DECOM: '31/02/2026' is not a date (use dd/mm/yyyy, e.g. 31/03/2026)",
        "episodes.csv row 5: DEC 01/01/2026 is before DECOM 05/01/2026",
        "episodes.csv row 6: child ID must be a case reference (letters, digits, / _ . -), never a name",
    ]
    assert await children(bot) == {}


async def test_a_dry_run_of_a_903_return_reports_and_writes_nothing(bot: Bot) -> None:
    files = {**FILES, "reviews-final.csv": (REVIEWS + "A3002,15/07/2016,01/01/2027,PN0\n").encode()}
    parsed = parse_files(files, TODAY)
    async with bot.deps.db.transaction() as session:
        report = await import_ssda903(session, bot.deps.workspace_id, parsed, TODAY, strict=False)
        await session.rollback()

    assert report.summary("children") == "children: 4 new, 0 updated, 0 unchanged, 1 rejected"
    assert str(report.rejected[0]) == "reviews-final.csv row 5: REVIEW 01/01/2027 is in the future"
    assert await children(bot) == {}


def test_a_folder_without_an_episodes_file_says_so() -> None:
    parsed = parse_files({"header.csv": HEADER.encode()}, TODAY, name="return")
    assert [str(p) for p in parsed.problems] == [
        "return: no Episodes file (a CSV with CHILD, DECOM, ... PLACE, DEC columns)"
    ]
