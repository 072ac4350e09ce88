"""Importing staff and children: every bad row reported by line, nothing half-written."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.imports import ChildRow, ImportFailed, StaffRow, parse
from storage.children import Allocation, Child
from storage.org import Staff
from tests.support import CHILDREN_HEADER, STAFF_HEADER, Bot, csv

STAFF = csv(
    STAFF_HEADER,
    "tom,Tom Hughes,Ipswich CIN 2,social_worker,1.0,2026-06-10",
    "grace,Grace Okafor,Ipswich CIN 2,manager,1,2016-09-01",
    "joe,Joe Fraser,Ipswich Early Help,early_help,0.8,",
)


async def count(bot: Bot, model: type) -> int:
    async with bot.deps.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_staff_file_with_bad_rows_lists_every_problem_with_its_line_number() -> None:
    text = csv(
        STAFF_HEADER,
        "tom,Tom Hughes,Ipswich CIN 2,social_worker,1.0,2026-06-10",
        "ann,Ann Lee,Ipswich CIN 2,wizard,1.0,2020-01-01",
        "bob,Bob Ray,Ipswich CIN 2,social_worker,1.5,2020-01-01",
        "cat,Cat Fox,Ipswich CIN 2,social_worker,1.0,31st June",
        "tom,Tom Again,Ipswich CIN 2,social_worker,1.0,2026-06-10",
    )
    with pytest.raises(ImportFailed) as failed:
        parse(StaffRow, text)

    problems = [str(p) for p in failed.value.problems]
    assert problems[0].startswith("line 3: role 'wizard' is not one of")
    assert problems[1].startswith("line 4: fte")
    assert problems[2] == "line 5: qualified_on '31st June' is not a date (use YYYY-MM-DD, e.g. 2026-03-31)"
    assert problems[3] == "line 6: duplicate user_id 'tom' (first on line 2)"


def test_a_file_missing_a_column_says_which_and_what_the_header_must_be() -> None:
    with pytest.raises(ImportFailed) as failed:
        parse(ChildRow, "child_ref,status\nC1,cin\n")
    assert "missing column(s): allocated_to" in str(failed.value.problems[0])


def test_a_childs_name_in_place_of_a_reference_is_refused() -> None:
    with pytest.raises(ImportFailed) as failed:
        parse(ChildRow, csv(CHILDREN_HEADER, "Jane Smith,tom,cin"))
    assert "never a name" in str(failed.value.problems[0])


def test_uk_dates_are_understood() -> None:
    parsed = parse(StaffRow, csv(STAFF_HEADER, "tom,Tom Hughes,T,social_worker,1.0,10/06/2026"))
    assert str(parsed.rows[0][1].qualified_on) == "2026-06-10"


async def test_reimporting_the_same_staff_file_changes_nothing(bot: Bot) -> None:
    first = await bot.import_staff(STAFF)
    second = await bot.import_staff(STAFF)

    assert (first.created, first.teams_created) == (3, 2)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 3)


async def test_a_children_file_naming_an_unknown_worker_writes_nothing(bot: Bot) -> None:
    await bot.import_staff(STAFF)
    text = csv(CHILDREN_HEADER, "C1,tom,cin", "C2,nobody,cp", "C3,tom,banana")

    with pytest.raises(ImportFailed) as failed:
        parse(ChildRow, text)
    assert [p.line for p in failed.value.problems] == [4]
    with pytest.raises(ImportFailed) as failed:
        await bot.import_children(csv(CHILDREN_HEADER, "C1,tom,cin", "C2,nobody,cp"))

    assert str(failed.value.problems[0]) == "line 3: unknown worker 'nobody' in allocated_to (not in the staff list)"
    assert await count(bot, Child) == 0


async def test_a_child_missing_from_a_full_import_is_deallocated_not_deleted(bot: Bot) -> None:
    await bot.import_staff(STAFF)
    await bot.children("C1,tom,cin", "C2,tom,cp")

    report = await bot.children("C1,tom,cin")

    assert report.deallocated == 1
    async with bot.deps.db.session() as session:
        c2 = await session.scalar(select(Child).where(Child.child_ref == "C2"))
        assert c2 is not None and c2.allocated_to is None
        ended = await session.scalar(select(func.count()).select_from(Allocation).where(Allocation.end_on.is_not(None)))
    assert ended == 1


async def test_reimporting_the_same_children_changes_nothing_and_moving_a_child_is_recorded(bot: Bot) -> None:
    await bot.import_staff(STAFF)
    await bot.children("C1,tom,cin", "C2,tom,cp")

    again = await bot.children("C1,tom,cin", "C2,tom,cp")
    moved = await bot.children("C1,tom,cin", "C2,joe,early_help")

    assert (again.updated, again.unchanged) == (0, 2)
    assert (moved.updated, moved.changed_refs) == (1, ["C2"])
    assert await count(bot, Allocation) == 3


async def test_optional_visit_columns_are_stored_and_absent_ones_left_alone(bot: Bot) -> None:
    await bot.import_staff(STAFF)
    await bot.import_children(
        "child_ref,allocated_to,status,status_since,placement_start,placement_type,last_visit_on\n"
        "C1,tom,cla,2026-01-05,2026-02-01,foster,2026-11-01\n"
    )
    await bot.children("C1,tom,cla")

    async with bot.deps.db.session() as session:
        child = await session.scalar(select(Child).where(Child.child_ref == "C1"))
    assert child is not None
    assert (str(child.placement_start), child.placement_type, str(child.last_visit_on)) == (
        "2026-02-01",
        "foster",
        "2026-11-01",
    )


async def test_staff_with_a_taken_slack_id_are_refused(bot: Bot) -> None:
    with pytest.raises(ImportFailed) as failed:
        await bot.import_staff(
            "user_id,name,team,role,fte,qualified_on,slack_id\n"
            "tom,Tom,T,social_worker,1,,U1\n"
            "ann,Ann,T,social_worker,1,,U1\n"
        )
    assert "slack_id U1 already belongs to staff tom" in str(failed.value.problems[0])
    assert await count(bot, Staff) == 0
