"""Importing the workforce census: FTE, role and dates for people already on the staff list."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from bot.census import parse_census
from bot.imports import ImportFailed
from storage.imports import Report, import_census
from storage.org import Staff
from tests.support import Bot, csv

TODAY = date(2026, 11, 23)
STAFF = csv(
    "user_id,name,team,role,fte,qualified_on,email",
    "thughes,Tom Hughes,Ipswich CIN 2,social_worker,1.0,,tom.hughes@example.gov.uk",
    "pshah,Priya Shah,Ipswich CIN 2,social_worker,1.0,2025-10-01,priya.shah@example.gov.uk",
    "gokafor,Grace Okafor,Ipswich CIN 2,manager,1.0,2014-07-15,grace.okafor@example.gov.uk",
    "amorgan,Alex Morgan,Ipswich CIN 2,admin,1.0,,alex.morgan@example.gov.uk",
)
HEADER = "LA,SWENo,Name,Email\u00a0,Agency,OrgRole,FTE ,RoleStartDate,QualDate,LeftDate,Cases30"
CENSUS = csv(
    HEADER,
    "999,SW1,Tom Hughes,tom.hughes@example.gov.uk,0,5,0.8,01/06/2026,10/06/2026,,14",
    "999,SW2,Priya Shah,PRIYA.SHAH@example.gov.uk,0,b) Senior Practitioner,90%,2025-10-01,#N/A,,26",
    "999,SW3,Grace Okafor,grace.okafor@example.gov.uk,0,3,1,46000,,,0",
    "999,SW4,Alex Morgan,alex.morgan@example.gov.uk,0,2,1,,,,0",
    "999,SW5,Sam Leaver,sam.leaver@example.gov.uk,0,5,1,01/01/2020,01/07/2019,30/06/2026,0",
)


async def census(bot: Bot, text: str, key: str = "email", strict: bool = True) -> Report:
    parsed = parse_census(text.encode(), key, TODAY)
    async with bot.deps.db.transaction() as session:
        return await import_census(session, bot.deps.workspace_id, parsed, strict=strict)


async def staff(bot: Bot) -> dict[str, Staff]:
    async with bot.deps.db.session() as session:
        return {s.user_id: s for s in await session.scalars(select(Staff))}


async def test_census_rows_update_fte_role_and_dates_of_matched_staff(bot: Bot) -> None:
    await bot.import_staff(STAFF)

    report = await census(bot, CENSUS)

    people = await staff(bot)
    tom, priya, grace, alex = (
        people["thughes"],
        people["pshah"],
        people["gokafor"],
        people["amorgan"],
    )
    assert (tom.fte, tom.role, tom.joined_on, tom.qualified_on) == (
        0.8,
        "social_worker",
        date(2026, 6, 1),
        date(2026, 6, 10),
    )
    assert (priya.fte, priya.qualified_on) == (
        0.9,
        date(2025, 10, 1),
    )  # "#N/A" leaves the stored date alone
    assert grace.joined_on == date(2025, 12, 9)  # an Excel serial number
    assert alex.role == "admin"  # the bot's permission, not changed by the census
    assert (report.updated, report.unchanged) == (3, 1)
    assert [str(w) for w in report.warnings] == ["census: 1 leaver(s) (a leaving date on or before today): skipped"]


async def test_reimporting_the_census_changes_nothing(bot: Bot) -> None:
    await bot.import_staff(STAFF)
    await census(bot, CENSUS)

    again = await census(bot, CENSUS)

    assert (again.updated, again.unchanged) == (0, 4)


async def test_the_join_key_is_chosen_by_the_person(bot: Bot) -> None:
    await bot.import_staff(STAFF)
    text = csv("Staff ID,Full Name,FTE", "thughes,Someone Else,0.5")

    await census(bot, text, key="user_id")
    with pytest.raises(ImportFailed) as failed:
        await census(bot, text, key="name")

    assert (await staff(bot))["thughes"].fte == 0.5
    assert str(failed.value.problems[0]) == (
        "census row 2: 'Someone Else' is not matched to the staff list (no one on the staff list has this name)"
    )


async def test_unmatched_and_bad_census_rows_are_listed_and_nothing_is_written(bot: Bot) -> None:
    await bot.import_staff(STAFF)
    text = csv(
        HEADER,
        "999,SW1,Tom Hughes,tom.hughes@example.gov.uk,0,5,0.5,01/06/2026,,,14",
        "999,SW9,Agency Worker,agency@example.com,1,5,1,01/06/2026,,,10",
        "999,SW2,Priya Shah,priya.shah@example.gov.uk,0,5,1.5,01/06/2026,,,10",
    )

    with pytest.raises(ImportFailed) as failed:
        await census(bot, text)

    assert [str(p) for p in failed.value.problems] == [
        "census row 3: 'agency@example.com' is not matched to the staff list (no one on the staff list has this email)",
        "census row 4: FTE 1.5 must be between 0.1 and 1.0",
    ]
    assert (await staff(bot))["thughes"].fte == 1.0


async def test_a_census_dry_run_reports_updates_and_rejections(bot: Bot) -> None:
    await bot.import_staff(STAFF)
    parsed = parse_census((CENSUS + "999,SW9,A Worker,agency@example.com,1,5,1,,,,0\n").encode(), "email", TODAY)
    async with bot.deps.db.transaction() as session:
        report = await import_census(session, bot.deps.workspace_id, parsed, strict=False)
        await session.rollback()

    assert report.summary("staff") == "staff: 0 new, 3 updated, 1 unchanged, 1 rejected"
    assert (await staff(bot))["thughes"].fte == 1.0
