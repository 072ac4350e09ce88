"""Booking desks in offices with team bases, told as the people who use them would tell it.

The clock is pinned at Monday 23 November 2026, 09:00 (Europe/London); the
layout is the shipped demo one unless a test loads its own.
"""

from __future__ import annotations

from pathlib import Path

from bot.desks import parse_layout
from handlers.desks import sync_layout_and_tell
from tests.support import Bot

QUALIFIED = "2020-01-01"


async def ipswich_cin(bot: Bot) -> None:
    await bot.staff(
        f"grace,Grace Okafor,Ipswich CIN 2,manager,1.0,{QUALIFIED}",
        f"tom,Tom Hughes,Ipswich CIN 2,social_worker,1.0,{QUALIFIED}",
        f"priya,Priya Shah,Ipswich CIN 2,social_worker,1.0,{QUALIFIED}",
        f"aisha,Aisha Rahman,Ipswich CIN 2,social_worker,0.6,{QUALIFIED}",
        f"dan,Dan Whitfield,Ipswich CIN 2,social_worker,1.0,{QUALIFIED}",
        f"jack,Jack Burrows,Assessment Team A,social_worker,1.0,{QUALIFIED}",
        f"ellie,Ellie Ward,Lowestoft CLA,social_worker,1.0,{QUALIFIED}",
        f"femi,Femi Bello,Lowestoft CLA,social_worker,1.0,{QUALIFIED}",
        f"laura,Laura King,Lowestoft CLA,social_worker,1.0,{QUALIFIED}",
        f"sam,Sam Turner,Lowestoft CLA,social_worker,1.0,{QUALIFIED}",
        f"nadia,Nadia Hussain,Lowestoft CLA,social_worker,1.0,{QUALIFIED}",
        f"martin,Martin Cole,Lowestoft CLA,manager,1.0,{QUALIFIED}",
    )


async def test_a_worker_books_tomorrow_and_gets_a_desk_in_their_team_base(bot: Bot) -> None:
    await ipswich_cin(bot)

    answer = await bot.ask("tom", "/desk tomorrow")

    assert "You're booked for Tue 24 Nov 2026, all day." in answer
    assert "Ipswich, Floor 2, North (your team's base)" in answer


# A small office: two neighbouring desks in the CLA base, one with an adjusted chair.
TWO_DESKS = """
[[offices]]
name = "Lowestoft"
  [[offices.floors]]
  name = "Ground floor"
    [[offices.floors.zones]]
    name = "Harbour"
    team_base = "Lowestoft CLA"
    desks = [
      { code = "LW-01", tags = ["adjusted_chair"] },
      { code = "LW-02" },
    ]
"""


async def layout(bot: Bot, text: str) -> None:
    await sync_layout_and_tell(bot.deps, bot.deps.workspace_id, parse_layout(text))


def code_in(answer: str, prefix: str) -> str:
    start = answer.index(prefix)
    return answer[start : start + len(prefix) + 2]


async def test_a_worker_sits_next_to_a_team_mate_already_booked_that_day(bot: Bot) -> None:
    await ipswich_cin(bot)
    first = await bot.ask("priya", "/desk tomorrow")
    priya = int(code_in(first, "IP-2N-")[-2:])

    answer = await bot.ask("dan", "/desk tomorrow")

    dan = int(code_in(answer, "IP-2N-")[-2:])
    assert abs(dan - priya) == 1


async def test_standing_needs_set_once_get_the_adjusted_chair_every_time(bot: Bot) -> None:
    await ipswich_cin(bot)

    set_needs = await bot.ask("aisha", "/desk needs adjusted_chair")
    tuesday = await bot.ask("aisha", "/desk tomorrow")
    wednesday = await bot.ask("aisha", "/desk wednesday")

    assert "every desk I book for you will have adjusted chair" in set_needs
    assert "IP-2N-01" in tuesday and "IP-2N-01" in wednesday
    assert "No standing needs" not in await bot.ask("aisha", "/desk needs")
    assert "adjusted chair" in await bot.ask("aisha", "/desk needs")


async def test_nobody_else_gets_the_adjusted_chair_while_someone_who_needs_it_waits(
    bot: Bot,
) -> None:
    await ipswich_cin(bot)
    await layout(bot, TWO_DESKS)
    await bot.ask("ellie", "/desk tomorrow am adjusted_chair")  # LW-01 for the morning
    waiting = await bot.ask("femi", "/desk tomorrow adjusted_chair")  # all day: nothing fits
    await bot.ask("laura", "/desk tomorrow pm")  # LW-02, the plain desk

    answer = await bot.ask("sam", "/desk tomorrow pm")

    assert "*number 1* on the waitlist" in waiting
    assert "The afternoon instead: LW-01" in waiting
    assert "LW-02" in await bot.ask("laura", "/desk mine")
    assert "LW-01" not in answer
    assert "on the waitlist" in answer


async def test_when_the_office_is_full_the_answer_gives_alternatives_and_a_waitlist_place(
    bot: Bot,
) -> None:
    await ipswich_cin(bot)
    for worker in ("ellie", "femi", "laura", "sam"):
        assert "You're booked" in await bot.ask(worker, "/desk tomorrow")

    answer = await bot.ask("nadia", "/desk tomorrow")

    assert "Every desk in Lowestoft is taken for Tue 24 Nov 2026, all day." in answer
    assert "*number 1* on the waitlist" in answer
    assert "Ipswich instead: IP-" in answer
    assert "Wed 25 Nov 2026 instead: LW-" in answer
    assert "[Leave the waitlist]" in answer


async def test_a_cancelled_desk_goes_to_the_first_waiting_worker_with_a_dm(bot: Bot) -> None:
    await ipswich_cin(bot)
    for worker in ("ellie", "femi", "laura", "sam"):
        await bot.ask(worker, "/desk tomorrow")
    await bot.ask("nadia", "/desk tomorrow")
    await bot.ask("martin", "/desk tomorrow")

    cancelled = await bot.ask("laura", "/desk cancel tomorrow")

    assert "Cancelled: LW-" in cancelled
    assert "Good news: a desk came free and it's yours for Tue 24 Nov 2026, all day." in bot.dm_text("nadia")
    assert "Good news" not in bot.dm_text("martin")
    assert "LW-" in await bot.ask("nadia", "/desk mine")
    assert "number 1 on the waitlist" in await bot.ask("martin", "/desk mine")


async def test_taking_an_alternative_from_the_full_answer_books_it(bot: Bot) -> None:
    await ipswich_cin(bot)
    for worker in ("ellie", "femi", "laura", "sam"):
        await bot.ask(worker, "/desk tomorrow")
    full = await bot.command("nadia", "/desk tomorrow")

    replies = await bot.click("nadia", full[-1], "desk_book_alt")

    assert "You're booked for" in bot.text(replies)
    assert "IP-" in bot.text(replies)


async def test_bad_dates_are_answered_with_what_is_allowed(bot: Bot) -> None:
    await ipswich_cin(bot)

    past = await bot.ask("tom", "/desk 2026-11-20")
    weekend = await bot.ask("tom", "/desk saturday")
    far = await bot.ask("tom", "/desk 2026-12-31")
    nonsense = await bot.ask("tom", "/desk 2026-02-30")

    assert "Fri 20 Nov has already passed" in past
    assert "Sat 28 Nov is a weekend" in weekend
    assert "too far ahead" in far
    for answer in (past, weekend, far):
        assert "You can book working days from today up to Mon 7 Dec (14 days ahead)." in answer
    assert "isn't a real date" in nonsense


async def test_a_bank_holiday_is_not_bookable(bot: Bot) -> None:
    from bot.policy import DesksPolicy, Policy

    bot.deps.policy = Policy(desks=DesksPolicy(horizon_days=40))
    await ipswich_cin(bot)

    assert "Fri 25 Dec is a bank holiday" in await bot.ask("tom", "/desk 25/12")


async def test_an_unknown_need_or_office_gets_the_list_of_known_ones(bot: Bot) -> None:
    await ipswich_cin(bot)

    need = await bot.ask("tom", "/desk tomorrow jacuzzi")
    office = await bot.ask("tom", "/desk tomorrow at Felixstowe")

    assert "I didn't understand `jacuzzi`" in need
    assert "Needs I know: adjusted_chair, standing, dual_screen, accessible, quiet" in need
    assert "I didn't understand `felixstowe`" in office
    assert "Offices: Ipswich, Lowestoft" in office


async def test_booking_another_office_by_name(bot: Bot) -> None:
    await ipswich_cin(bot)

    answer = await bot.ask("tom", "/desk friday pm lowestoft")

    assert "You're booked for Fri 27 Nov 2026, afternoon." in answer
    assert "LW-" in answer


async def test_a_second_booking_for_the_same_day_says_you_already_have_one(bot: Bot) -> None:
    await ipswich_cin(bot)
    await bot.ask("tom", "/desk tomorrow")

    again = await bot.ask("tom", "/desk tomorrow")

    assert "You already have IP-" in again
    assert "/desk cancel 2026-11-24" in again


async def test_a_morning_then_an_afternoon_booking_books_only_the_rest(bot: Bot) -> None:
    await ipswich_cin(bot)
    await bot.ask("tom", "/desk tomorrow am")

    answer = await bot.ask("tom", "/desk tomorrow")

    assert "You're booked for Tue 24 Nov 2026, afternoon. You already had the morning booked." in answer


async def test_desk_alone_opens_the_form_and_submitting_it_books(bot: Bot) -> None:
    await ipswich_cin(bot)
    await bot.ask("aisha", "/desk needs dual_screen")

    await bot.command("aisha", "/desk")
    modal = bot.ws.modal_of("aisha")
    assert modal is not None and modal["callback_id"] == "desk_book"
    needs = next(b for b in modal["blocks"] if b.get("block_id") == "needs")
    assert [o["value"] for o in needs["element"]["initial_options"]] == ["dual_screen"]
    values = {
        "day": {"day": {"type": "datepicker", "selected_date": "2026-11-25"}},
        "half": {"half": {"type": "static_select", "selected_option": {"value": "pm"}}},
        "office": {"office": {"type": "static_select", "selected_option": {"value": "Ipswich"}}},
        "needs": {"needs": {"type": "checkboxes", "selected_options": [{"value": "dual_screen"}]}},
    }
    status, response = await bot.ws.submit("aisha", modal["id"], values)
    await bot.ws.settle()

    assert status == 200 and response is None
    dm = bot.dm_text("aisha")
    assert "You're booked for Wed 25 Nov 2026, afternoon." in dm
    assert "dual screen" in dm


async def test_the_form_refuses_a_weekend_on_the_day_field(bot: Bot) -> None:
    await ipswich_cin(bot)
    await bot.command("tom", "/desk")
    modal = bot.ws.modal_of("tom")
    assert modal is not None
    values = {
        "day": {"day": {"type": "datepicker", "selected_date": "2026-11-28"}},
        "half": {"half": {"type": "static_select", "selected_option": {"value": "day"}}},
        "office": {"office": {"type": "static_select", "selected_option": {"value": "Ipswich"}}},
        "needs": {"needs": {"type": "checkboxes", "selected_options": []}},
    }

    status, response = await bot.ws.submit("tom", modal["id"], values)

    assert response is not None and response["response_action"] == "errors"
    assert "is a weekend" in response["errors"]["day"]


async def test_my_bookings_list_has_cancel_buttons_that_work(bot: Bot) -> None:
    await ipswich_cin(bot)
    await bot.ask("tom", "/desk tomorrow")
    await bot.ask("tom", "/desk thursday am")
    mine = await bot.command("tom", "/desk mine")
    assert "Tue 24 Nov 2026, all day" in bot.text(mine)
    assert "Thu 26 Nov 2026, morning" in bot.text(mine)

    replies = await bot.click("tom", mine[-1], "desk_cancel")

    assert (
        "Cancelled" in bot.text(mine)
        or "Cancelled" in bot.text(replies)
        or any("Cancelled" in (m.text or "") for m in bot.ws.messages)
    )
    after = await bot.ask("tom", "/desk mine")
    assert "Tue 24 Nov" not in after
    assert "Thu 26 Nov 2026, morning" in after


async def test_cancelling_a_day_with_nothing_booked_says_so(bot: Bot) -> None:
    await ipswich_cin(bot)

    assert "nothing to cancel" in await bot.ask("tom", "/desk cancel friday")


async def test_a_weekly_booking_books_every_tuesday_within_the_horizon(bot: Bot) -> None:
    await ipswich_cin(bot)

    answer = await bot.ask("tom", "/desk every tuesday")
    mine = await bot.ask("tom", "/desk mine")

    assert "Every Tuesday, all day" in answer
    assert "Tue 24 Nov 2026, all day" in mine and "Tue 1 Dec 2026, all day" in mine
    assert "every week: Tuesdays (all day)" in mine


async def test_the_weekly_job_books_the_new_week_but_not_a_week_cancelled(bot: Bot) -> None:
    from schedules import tick

    await ipswich_cin(bot)
    await bot.ask("tom", "/desk every tuesday")
    await bot.ask("tom", "/desk cancel 2026-12-01")

    bot.at("2026-11-25T06:00")  # Wed: Tue 8 Dec is not yet in the horizon (9 Dec is)
    await tick(bot.deps, bot.clock.now(), only="desks.recurring")
    bot.at("2026-11-26T06:00")
    await tick(bot.deps, bot.clock.now(), only="desks.recurring")
    bot.at("2026-11-26T09:00")
    mine = await bot.ask("tom", "/desk mine")

    assert "Tue 8 Dec 2026, all day" in mine
    assert "Tue 1 Dec" not in mine
    assert "Stopped booking every Tuesday" in await bot.ask("tom", "/desk every tuesday off")


async def test_the_morning_check_in_dm_and_the_im_in_button(bot: Bot) -> None:
    from schedules import tick

    await ipswich_cin(bot)
    await bot.ask("tom", "/desk tomorrow")
    bot.at("2026-11-24T08:00")

    await tick(bot.deps, bot.clock.now(), only="desks.checkin")
    await tick(bot.deps, bot.clock.now(), only="desks.checkin")  # a second run sends nothing

    checkins = [m for m in bot.dms("tom") if "Good morning" in m.text]
    assert len(checkins) == 1
    assert "I'm in" in bot.text(checkins)
    await bot.click("tom", checkins[0], "desk_checkin")
    assert "you're checked in at IP-" in bot.dm_text("tom")
    assert ":white_check_mark: checked in" in await bot.ask("tom", "/desk mine")


async def test_an_unconfirmed_desk_is_released_at_half_ten_and_goes_to_the_waitlist(
    bot: Bot,
) -> None:
    from schedules import tick

    await ipswich_cin(bot)
    await layout(bot, TWO_DESKS)
    await bot.ask("ellie", "/desk tomorrow")
    await bot.ask("femi", "/desk tomorrow")
    await bot.ask("laura", "/desk tomorrow")  # waiting
    bot.at("2026-11-24T08:00")
    await tick(bot.deps, bot.clock.now(), only="desks.checkin")
    ellie_checkin = next(m for m in bot.dms("ellie") if "Good morning" in m.text)
    await bot.click("ellie", ellie_checkin, "desk_checkin")

    bot.at("2026-11-24T10:30")
    await tick(bot.deps, bot.clock.now(), only="desks.release_am")

    assert "wasn't checked in to, so I've freed it" in bot.dm_text("femi")
    assert "freed it" not in bot.dm_text("ellie")
    assert "Good news: a desk came free" in bot.dm_text("laura")
    assert "Tue 24 Nov" not in await bot.ask("femi", "/desk mine")


async def test_an_afternoon_booking_is_released_at_half_two_not_half_ten(bot: Bot) -> None:
    from schedules import tick

    await ipswich_cin(bot)
    await bot.ask("tom", "/desk tomorrow pm")
    bot.at("2026-11-24T10:30")
    await tick(bot.deps, bot.clock.now(), only="desks.release_am")
    assert "afternoon" in await bot.ask("tom", "/desk mine")

    bot.at("2026-11-24T14:30")
    await tick(bot.deps, bot.clock.now(), only="desks.release_pm")

    assert "wasn't checked in to" in bot.dm_text("tom")


async def test_whosin_names_only_team_mates_who_share(bot: Bot) -> None:
    await ipswich_cin(bot)
    await bot.ask("priya", "/desk share on")
    await bot.ask("priya", "/desk today")
    await bot.ask("tom", "/desk today")

    answer = await bot.ask("dan", "/whosin")

    assert "Priya Shah" in answer
    assert "Tom Hughes" not in answer
    assert "1 more from the team are in" in answer
    assert "desks taken by zone" not in answer


async def test_a_manager_sees_occupancy_by_zone_without_names(bot: Bot) -> None:
    await ipswich_cin(bot)
    await bot.ask("tom", "/desk tomorrow")
    await bot.ask("jack", "/desk tomorrow am")

    answer = await bot.ask("grace", "/whosin tomorrow")

    assert "Floor 2, North (Ipswich CIN 2): morning 1/4, afternoon 1/4" in answer
    assert "Floor 2, South (Assessment Team A): morning 1/3, afternoon 0/3" in answer
    assert "Tom Hughes" not in answer and "Jack Burrows" not in answer


async def test_whosin_for_another_team_and_day(bot: Bot) -> None:
    await ipswich_cin(bot)
    await bot.ask("ellie", "/desk share on")
    await bot.ask("ellie", "/desk friday")

    answer = await bot.ask("tom", "/whosin Lowestoft CLA friday")

    assert "Lowestoft CLA: who's in, Fri 27 Nov 2026" in answer.title() or "LOWESTOFT CLA" in answer
    assert "Ellie Ward" in answer
    assert "Lowestoft, Ground floor, Harbour" in answer


async def test_app_home_shows_upcoming_desks_with_a_cancel_button_that_works(bot: Bot) -> None:
    await ipswich_cin(bot)
    await bot.ask("tom", "/desk tomorrow")

    home = await bot.home("tom")
    assert "YOUR DESKS" in home and "Tue 24 Nov 2026, all day" in home and "[Cancel]" in home

    view = bot.ws.home_of("tom")
    assert view is not None
    block = next(b for b in view["blocks"] if str(b.get("block_id", "")).startswith("desk_home_"))
    action = {
        "action_id": "desk_cancel",
        "block_id": block["block_id"],
        "value": block["accessory"]["value"],
    }
    status, _ = await bot.ws.click("tom", action, view_id=view["id"])
    await bot.ws.settle()

    assert status == 200
    assert "Cancelled: IP-" in bot.dm_text("tom")
    assert "Tue 24 Nov" not in await bot.home("tom")


async def test_a_desk_removed_from_the_layout_moves_its_bookings_with_a_dm(bot: Bot) -> None:
    await ipswich_cin(bot)
    await layout(bot, TWO_DESKS)
    await bot.ask("ellie", "/desk tomorrow")
    await bot.ask("femi", "/desk tomorrow")
    smaller = TWO_DESKS.replace('      { code = "LW-02" },\n', "")
    bigger = smaller.replace(
        '{ code = "LW-01", tags = ["adjusted_chair"] },',
        '{ code = "LW-01", tags = ["adjusted_chair"] },\n      { code = "LW-03" },',
    )

    await layout(bot, bigger)

    assert "Desk LW-02 has been taken out of the office layout" in bot.dm_text("femi") + bot.dm_text("ellie")
    mine = await bot.ask("femi", "/desk mine") + await bot.ask("ellie", "/desk mine")
    assert "LW-03" in mine and "LW-02" not in mine


async def test_a_removed_desk_with_nowhere_to_go_puts_the_booking_back_on_the_waitlist(
    bot: Bot,
) -> None:
    await ipswich_cin(bot)
    await layout(bot, TWO_DESKS)
    await bot.ask("ellie", "/desk tomorrow")
    await bot.ask("femi", "/desk tomorrow")

    await layout(bot, TWO_DESKS.replace('      { code = "LW-02" },\n', ""))

    told = bot.dm_text("femi") + bot.dm_text("ellie")
    assert "no other desk is free" in told
    assert "on the waitlist" in await bot.ask("femi", "/desk mine") + await bot.ask("ellie", "/desk mine")


async def test_the_layout_can_be_loaded_twice_without_changes(bot: Bot) -> None:
    from bot.desks import load_layout
    from storage.desks import sync_layout

    async with bot.deps.db.transaction() as session:
        first = await sync_layout(
            session,
            bot.deps.workspace_id,
            load_layout(bot.deps.policy.desks.layout_file),
            bot.clock.now().date(),
            bot.clock.now(),
        )
        second = await sync_layout(
            session,
            bot.deps.workspace_id,
            load_layout(bot.deps.policy.desks.layout_file),
            bot.clock.now().date(),
            bot.clock.now(),
        )

    assert first.added == 14
    assert (second.added, second.changed, second.removed) == (0, 0, 0)


async def test_a_worker_can_book_by_dm_without_the_slash(bot: Bot) -> None:
    await ipswich_cin(bot)

    assert "You're booked for Tue 24 Nov 2026" in await bot.dm("tom", "desk tomorrow")


async def test_someone_not_on_the_staff_list_is_told_how_to_get_added(bot: Bot) -> None:
    bot.ws.add_user("UNEW", "newbie", "New Person")

    assert "not on this authority's staff list" in await bot.ask("UNEW", "/desk tomorrow")
    assert "not on this authority's staff list" in await bot.ask("UNEW", "/whosin")


async def test_desk_help_lists_the_commands(bot: Bot) -> None:
    await ipswich_cin(bot)

    answer = await bot.ask("tom", "/desk help")

    assert "/desk every tuesday" in answer and "/desk share on|off" in answer


def test_desks_check_reports_a_good_layout_and_the_problems_in_a_bad_one(tmp_path: Path, capsys: object) -> None:
    from bot.cli import main
    from bot.policy import DEMO_LAYOUT

    bad = tmp_path / "bad.toml"
    bad.write_text(
        TWO_DESKS.replace('tags = ["adjusted_chair"]', 'tags = ["hammock"]')
        + TWO_DESKS.replace("Lowestoft", "Felixstowe")
    )

    assert main(["desks", "check", str(DEMO_LAYOUT)]) == 0
    assert main(["desks", "check", str(bad)]) == 1
    out = capsys.readouterr()  # type: ignore[attr-defined]
    assert "14 desks" in out.out
    assert "unknown tag hammock" in out.err
