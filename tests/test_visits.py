"""Recording and reading statutory visits, told as the people who use them would tell it.

The clock is pinned at Monday 23 November 2026, 09:00 (Europe/London). Dates
below are hand-checked (no bank holidays between October and Christmas 2026):

* CIN1: CIN, last visit Mon 26 Oct: 20 working days on is Mon 23 Nov (due today).
* CP1: CP, last visit Mon 2 Nov: 10 working days on is Mon 16 Nov (7 days overdue).
* CIN2: CIN, last visit Fri 20 Nov: due Fri 18 Dec (nothing to say yet).
* CP2: CP, last visit Thu 12 Nov: due Thu 26 Nov (3 working days left: due soon).
* CLA1: long-term placement since 1 Jun 2025, last visit 1 Aug 2026: reg 28(2)(c),
  3 months, so due Sun 1 Nov 2026 (22 days overdue).
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.clock import FixedClock, parse_now
from bot.imports import ChildRow, ImportFailed, VisitRow, parse
from bot.workspace import Message
from storage.children import Child
from storage.visits import Visit, import_visits
from tests.support import Bot, csv

TEN_YEARS = "2016-09-01"
TWO_YEARS = "2024-09-01"

CHILDREN = csv(
    "child_ref,allocated_to,status,status_since,last_visit_on,last_review_on,placement_start,placement_type",
    "CIN1,tom,cin,2026-01-05,2026-10-26,,,",
    "CP1,tom,cp,2026-01-05,2026-11-02,2026-10-01,,",
    "CIN2,tom,cin,2026-01-05,2026-11-20,,,",
    "CP2,priya,cp,2026-01-05,2026-11-12,2026-10-01,,",
    "CLA1,sam,cla,2025-01-01,2026-08-01,2026-09-01,2025-06-01,long_term",
)


async def two_teams(bot: Bot) -> None:
    await bot.staff(
        f"mgr,Grace Okafor,Ipswich CIN 2,manager,1.0,{TEN_YEARS}",
        f"tom,Tom Hughes,Ipswich CIN 2,social_worker,1.0,{TWO_YEARS}",
        f"priya,Priya Shah,Ipswich CIN 2,social_worker,1.0,{TWO_YEARS}",
        f"kim,Kim Lowe,Lowestoft CLA,manager,1.0,{TEN_YEARS}",
        f"sam,Sam Turner,Lowestoft CLA,social_worker,1.0,{TWO_YEARS}",
        f"alex,Alex Morgan,Ipswich CIN 2,admin,1.0,{TEN_YEARS}",
    )
    await bot.import_children(CHILDREN)


async def visits_of(bot: Bot, ref: str) -> list[date]:
    async with bot.deps.db.session() as session:
        rows = await session.scalars(
            select(Visit.visited_on)
            .join(Child, Child.id == Visit.child_id)
            .where(Child.child_ref == ref)
            .order_by(Visit.visited_on)
        )
        return list(rows)


async def last_visit(bot: Bot, ref: str) -> date | None:
    async with bot.deps.db.session() as session:
        return await session.scalar(select(Child.last_visit_on).where(Child.child_ref == ref))


# --- /visit ----------------------------------------------------------------------


async def test_a_worker_records_todays_visit_and_is_told_when_the_next_is_due(bot: Bot) -> None:
    await two_teams(bot)

    answer = await bot.ask("tom", "/visit CIN1")

    assert "your visit to *CIN1* on Mon 23 Nov 2026 is recorded" in answer
    # 20 working days after Mon 23 Nov.
    assert "Next visit due by *Mon 21 Dec 2026*" in answer
    assert "Local CIN visit standard" in answer
    assert await visits_of(bot, "CIN1") == [date(2026, 11, 23)]
    assert await last_visit(bot, "CIN1") == date(2026, 11, 23)


async def test_a_visit_on_an_earlier_day_can_be_given_as_a_uk_date(bot: Bot) -> None:
    await two_teams(bot)

    answer = await bot.ask("tom", "/visit CP1 20/11/2026")

    assert "on Fri 20 Nov 2026 is recorded" in answer
    # 10 working days after Fri 20 Nov.
    assert "Next visit due by *Fri 4 Dec 2026*" in answer


async def test_a_visit_in_the_future_is_refused(bot: Bot) -> None:
    await two_teams(bot)

    answer = await bot.ask("tom", "/visit CIN1 2026-11-24")

    assert "Tue 24 Nov 2026 is in the future" in answer
    assert await visits_of(bot, "CIN1") == []


async def test_a_visit_before_the_last_recorded_one_needs_a_confirmation(bot: Bot) -> None:
    await two_teams(bot)

    [reply] = await bot.command("tom", "/visit CIN2 2026-11-10")
    assert "The last recorded visit to CIN2 was on Fri 20 Nov 2026" in reply.text
    assert await visits_of(bot, "CIN2") == []

    await bot.click("tom", reply, "visits.confirm")

    assert await visits_of(bot, "CIN2") == [date(2026, 11, 10)]
    # The history gained a visit; the rhythm still runs from the later one.
    assert await last_visit(bot, "CIN2") == date(2026, 11, 20)
    assert "Next visit due by *Fri 18 Dec 2026*" in bot.dm_text("tom")


async def test_typing_confirm_records_an_earlier_visit_too(bot: Bot) -> None:
    await two_teams(bot)

    answer = await bot.ask("tom", "/visit CIN2 2026-11-10 confirm")

    assert "is recorded" in answer
    assert await visits_of(bot, "CIN2") == [date(2026, 11, 10)]


async def test_recording_the_same_visit_twice_keeps_one(bot: Bot) -> None:
    await two_teams(bot)

    await bot.ask("tom", "/visit CIN1")
    again = await bot.ask("tom", "/visit CIN1")

    assert "was already recorded" in again
    assert await visits_of(bot, "CIN1") == [date(2026, 11, 23)]


async def test_a_worker_cannot_record_a_visit_to_a_colleagues_child(bot: Bot) -> None:
    await two_teams(bot)

    answer = await bot.ask("priya", "/visit CIN1")

    assert "I can't find CIN1 among the children you can record visits for" in answer
    assert await visits_of(bot, "CIN1") == []


async def test_a_manager_records_for_their_team_but_not_for_another_team(bot: Bot) -> None:
    await two_teams(bot)

    ours = await bot.ask("mgr", "/visit CIN1")
    theirs = await bot.ask("kim", "/visit CIN1")
    admin = await bot.ask("alex", "/visit CIN1 2026-11-20")

    assert "is recorded" in ours
    assert "I can't find CIN1" in theirs
    assert "I can't find CIN1" in admin
    assert await visits_of(bot, "CIN1") == [date(2026, 11, 23)]


async def test_an_unknown_child_and_a_bad_date_get_helpful_answers(bot: Bot) -> None:
    await two_teams(bot)

    assert "I can't find NOPE" in await bot.ask("tom", "/visit NOPE")
    bad_date = await bot.ask("tom", "/visit CIN1 31/02/2026")
    assert "isn't a date I can read" in bad_date
    assert "/visit CHILD_REF" in bad_date


async def test_visit_works_by_dm_without_the_slash(bot: Bot) -> None:
    await two_teams(bot)

    assert "is recorded" in await bot.dm("tom", "visit CIN1")


# --- /visits ---------------------------------------------------------------------


async def test_visits_lists_a_workers_due_and_overdue_children_most_urgent_first(bot: Bot) -> None:
    await two_teams(bot)

    answer = await bot.ask("tom", "/visits")

    assert "*CP1*: visit overdue by 7 days (due Mon 16 Nov 2026)" in answer
    assert "*CIN1*: visit due today" in answer
    assert answer.index("CP1") < answer.index("CIN1")
    assert "CIN2" not in answer
    assert "CP2" not in answer  # Priya's


async def test_a_worker_with_nothing_due_is_told_so(bot: Bot) -> None:
    await two_teams(bot)
    await bot.ask("tom", "/visit CIN1")
    await bot.ask("tom", "/visit CP1")

    assert "Nothing due in the next 5 working days for your 3 children" in await bot.ask("tom", "/visits")


async def test_a_worker_asking_for_the_team_view_is_pointed_to_their_own(bot: Bot) -> None:
    await two_teams(bot)

    answer = await bot.ask("tom", "/visits team")

    assert "The team view is for managers" in answer
    assert "CP2" not in answer and "Priya" not in answer


async def test_a_manager_sees_compliance_per_worker_and_the_overdue_list(bot: Bot) -> None:
    await two_teams(bot)

    answer = await bot.ask("mgr", "/visits team")

    assert "• Priya Shah: 1 children, 0 overdue" in answer
    assert "• Tom Hughes: 3 children, 1 overdue" in answer
    assert "*CP1*: visit overdue by 7 days (Tom Hughes)" in answer
    assert "CLA1" not in answer  # another team's child


async def test_team_compliance_counts_visits_made_by_their_due_date(bot: Bot) -> None:
    await two_teams(bot)
    # CP2's visits: 29 Oct then 12 Nov. From 29 Oct the next was due by 12 Nov: on time.
    # CP1's visit of 2 Nov was due from one on 16 Oct by 30 Oct: late.
    async with bot.deps.db.transaction() as session:
        rows = parse(VisitRow, csv("child_ref,visited_on", "CP2,2026-10-29", "CP1,2026-10-16"))
        await import_visits(session, bot.deps.workspace_id, rows.rows, date(2026, 11, 23), bot.clock.now())

    answer = await bot.ask("mgr", "/visits team")

    assert "• Priya Shah: 1 children, 0 overdue; on time 100% (1/1)" in answer
    # Tom: CP1 due 30 Oct, met 2 Nov (late); CP1 due 16 Nov, missed; CIN1 due 23 Nov is today
    # (not yet closed); CIN2 due 18 Dec (open).
    assert "• Tom Hughes: 3 children, 1 overdue; on time 0% (0/2)" in answer


async def test_visits_child_ref_explains_each_obligation_and_its_rule(bot: Bot) -> None:
    await two_teams(bot)

    answer = await bot.ask("kim", "/visits CLA1")

    assert "visit: due Sun 1 Nov 2026 (2026-11-01), OVERDUE by 22 days" in answer
    assert "CLA reg 28(2)(c): every 3 months after the first year of a long-term placement" in answer
    assert "CLA review: due" in answer


async def test_only_the_worker_their_manager_or_an_admin_can_ask_why(bot: Bot) -> None:
    await two_teams(bot)

    assert "I can't find CLA1 among the children you can see" in await bot.ask("tom", "/visits CLA1")
    assert "I can't find CLA1" in await bot.ask("mgr", "/visits CLA1")
    assert "OVERDUE" in await bot.ask("sam", "/visits CLA1")
    assert "OVERDUE" in await bot.ask("alex", "/visits CLA1")


async def test_visits_banana_answers_with_usage_help(bot: Bot) -> None:
    await two_teams(bot)

    answer = await bot.ask("tom", "/visits banana split")

    assert "I didn't understand `/visits banana split`" in answer
    assert "/visits team" in answer


async def test_app_home_shows_the_workers_visit_card(bot: Bot) -> None:
    await two_teams(bot)

    home = await bot.home("tom")

    assert "YOUR VISITS" in home
    assert "2 children need a visit or review soon (1 overdue)" in home


# --- the Record visit button and its modal -----------------------------------------


async def morning_reminder(bot: Bot, user: str) -> Message:
    from schedules.visits import send_reminders

    await send_reminders(bot.deps, bot.deps.workspace_id, parse_now("2026-11-23T08:00"))
    [reminder] = bot.dms(user)
    return reminder


def picked(day: str, confirm: bool = False) -> dict[str, object]:
    values: dict[str, object] = {
        "visited_on": {"date": {"type": "datepicker", "selected_date": day}},
        "confirm": {
            "confirm": {
                "type": "checkboxes",
                "selected_options": [{"value": "yes"}] if confirm else [],
            }
        },
    }
    return values


async def open_record_modal(bot: Bot, user: str, ref: str) -> str:
    reminder = await morning_reminder(bot, user)
    await bot.click(user, reminder, "visits.record", value=ref)
    modal = bot.ws.modal_of(user)
    assert modal is not None and modal["callback_id"] == "visits.record"
    assert modal["private_metadata"] == ref
    return str(modal["id"])


async def test_the_record_visit_button_opens_a_date_picker_and_records_the_visit(bot: Bot) -> None:
    await two_teams(bot)

    view_id = await open_record_modal(bot, "tom", "CP1")
    modal = bot.ws.views[view_id]
    picker = modal["blocks"][1]["element"]
    assert picker["type"] == "datepicker" and picker["initial_date"] == "2026-11-23"

    status, response = await bot.ws.submit("tom", view_id, picked("2026-11-20"))
    await bot.ws.settle()

    assert status == 200 and response is None
    assert bot.ws.modal_of("tom") is None
    assert await visits_of(bot, "CP1") == [date(2026, 11, 20)]
    assert "Next visit due by *Fri 4 Dec 2026*" in bot.dm_text("tom")


async def test_the_modal_shows_a_future_date_as_an_error_and_records_nothing(bot: Bot) -> None:
    await two_teams(bot)
    view_id = await open_record_modal(bot, "tom", "CP1")

    status, response = await bot.ws.submit("tom", view_id, picked("2026-11-30"))

    assert response is not None and response["response_action"] == "errors"
    assert "in the future" in response["errors"]["visited_on"]
    assert await visits_of(bot, "CP1") == []


async def test_the_modal_needs_the_box_ticked_for_a_date_before_the_last_visit(bot: Bot) -> None:
    await two_teams(bot)
    view_id = await open_record_modal(bot, "tom", "CP1")

    _, refused = await bot.ws.submit("tom", view_id, picked("2026-10-30"))
    _, accepted = await bot.ws.submit("tom", view_id, picked("2026-10-30", confirm=True))

    assert refused is not None and "Tick the box" in refused["errors"]["visited_on"]
    assert accepted is None
    assert await visits_of(bot, "CP1") == [date(2026, 10, 30)]


# --- imports ---------------------------------------------------------------------------


async def test_the_children_import_keeps_the_visit_columns(bot: Bot) -> None:
    await two_teams(bot)

    async with bot.deps.db.session() as session:
        cla = await session.scalar(select(Child).where(Child.child_ref == "CLA1"))
    assert cla is not None
    assert (cla.status_since, cla.placement_start, cla.placement_type) == (
        date(2025, 1, 1),
        date(2025, 6, 1),
        "long_term",
    )
    assert (cla.last_visit_on, cla.last_review_on) == (date(2026, 8, 1), date(2026, 9, 1))
    assert (await bot.import_children(CHILDREN)).unchanged == 5


async def test_a_children_import_with_a_visit_in_the_future_writes_nothing(bot: Bot) -> None:
    await two_teams(bot)
    text = csv(
        "child_ref,allocated_to,status,last_visit_on",
        "CIN1,tom,cin,2026-11-20",
        "NEW1,tom,cin,2026-12-01",
    )

    with pytest.raises(ImportFailed) as failed:
        await bot.import_children(text)

    assert [str(p) for p in failed.value.problems] == ["line 3: last_visit_on 2026-12-01 is in the future"]
    assert await last_visit(bot, "CIN1") == date(2026, 10, 26)


async def test_a_bad_placement_type_is_reported_with_its_line(bot: Bot) -> None:
    with pytest.raises(ImportFailed) as failed:
        parse(ChildRow, csv("child_ref,allocated_to,status,placement_type", "X1,,cla,castle"))

    assert str(failed.value.problems[0]).startswith("line 2: placement_type 'castle' is not one of")


async def run_visit_import(bot: Bot, text: str) -> str:
    """`practice-bot import visits FILE` against the test database, as an admin would run it."""
    import os
    import tempfile

    from bot.cli import cmd_import

    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as f:
        f.write(text)
    args = argparse.Namespace(kind="visits", file=Path(f.name), dry_run=False)
    os.environ["PRACTICE_BOT_DATABASE_URL"] = bot.deps.db.url
    try:
        from bot.settings import Settings

        code = await cmd_import(args, Settings(_env_file=None), FixedClock(bot.clock.now()))
    finally:
        del os.environ["PRACTICE_BOT_DATABASE_URL"]
        os.unlink(f.name)
    return str(code)


async def test_a_visit_history_import_reports_every_bad_line_and_writes_nothing(
    bot: Bot, capsys: pytest.CaptureFixture[str]
) -> None:
    await two_teams(bot)
    unreadable = csv("child_ref,visited_on,kind", "CIN1,2026-11-02,", "CIN1,not a date,", "CIN1,2026-11-03,chat")
    unknown = csv(
        "child_ref,visited_on,kind",
        "CIN1,2026-11-02,statutory",
        "NOPE,2026-11-02,statutory",
        "CIN1,2026-12-25,statutory",
    )

    assert await run_visit_import(bot, unreadable) == "1"
    assert await run_visit_import(bot, unknown) == "1"

    err = capsys.readouterr().err
    assert "line 3: visited_on 'not a date' is not a date" in err
    assert "line 4: kind 'chat' is not one of: statutory, review or other" in err
    assert "line 3: unknown child_ref 'NOPE'" in err
    assert "line 4: visited_on 2026-12-25 is in the future" in err
    assert await visits_of(bot, "CIN1") == []


async def test_a_visit_history_import_is_idempotent_and_only_moves_the_last_visit_forward(
    bot: Bot, capsys: pytest.CaptureFixture[str]
) -> None:
    await two_teams(bot)
    text = csv(
        "child_ref,visited_on,kind",
        "CIN1,2026-09-28,statutory",
        "CIN1,2026-11-16,statutory",
        "CIN2,2026-11-02,",
        "CP1,2026-11-10,review",
    )

    assert await run_visit_import(bot, text) == "0"
    assert await run_visit_import(bot, text) == "0"

    out = capsys.readouterr().out
    assert "visits: 4 new, 0 already recorded" in out
    assert "visits: 0 new, 4 already recorded" in out
    assert await visits_of(bot, "CIN1") == [date(2026, 9, 28), date(2026, 11, 16)]
    assert await last_visit(bot, "CIN1") == date(2026, 11, 16)
    assert await last_visit(bot, "CIN2") == date(2026, 11, 20)  # the import's older visit
    async with bot.deps.db.session() as session:
        review = await session.scalar(select(Child.last_review_on).where(Child.child_ref == "CP1"))
        total = await session.scalar(select(func.count()).select_from(Visit))
    assert review == date(2026, 11, 10)
    assert total == 4


# --- the CLI: why does the bot say this is overdue? ------------------------------------


async def test_visits_explain_prints_each_obligation_its_due_date_state_and_rule(
    bot: Bot, capsys: pytest.CaptureFixture[str]
) -> None:
    import os

    from bot.cli import cmd_visits
    from bot.settings import Settings

    await two_teams(bot)
    args = argparse.Namespace(action="explain", child_ref="CP1", workspace=bot.deps.workspace_id)
    os.environ["PRACTICE_BOT_DATABASE_URL"] = bot.deps.db.url
    try:
        code = await cmd_visits(
            args,
            Settings(_env_file=None),
            FixedClock(parse_now("2026-11-24T09:00")),
        )
    finally:
        del os.environ["PRACTICE_BOT_DATABASE_URL"]

    out = capsys.readouterr().out
    assert code == 0
    assert "CP1: cp, as of 2026-11-24" in out
    assert (
        "visit: due Mon 16 Nov 2026 (2026-11-16), OVERDUE by 8 days. "
        "Rule: Local CP visit standard: at least every 10 working days (configurable); "
        "counted from Mon 2 Nov 2026." in out
    )
    assert "CP review conference: due Thu 1 Apr 2027" in out
