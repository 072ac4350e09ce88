"""'I'm a bit worried about this': raising, routing, taking and closing worries, as people do it."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import date

import pytest
from sqlalchemy import select

from storage.audit import trail
from storage.children import Child
from storage.org import Staff
from storage.worries import claim
from tests.support import Bot
from tests.worries_steps import (
    NEEDS_TEXT,
    OPEN,
    RECORD,
    TAKE,
    WELL_TEXT,
    WORRY_TEXT,
    book_desk,
    channel_of,
    co_located_floor,
    form,
    has_action,
    last_with,
    open_modal,
    raise_worry,
    submit_with_retry_header,
    worries,
)

TODAY = date(2026, 11, 23)


def free_text_anywhere(bot: Bot) -> list[str]:
    """Every message (DM or channel) that carries any of the worry's own words."""
    found = []
    for message in bot.ws.messages:
        blob = message.text + json.dumps(message.blocks or [])
        if any(t in blob for t in (WORRY_TEXT, WELL_TEXT, NEEDS_TEXT)):
            found.append(f"{message.channel}: {message.text}")
    return found


async def record_outcome(
    bot: Bot,
    owner: str,
    outcome: str,
    note: str,
    worker: int | None = None,
    child_ref: str | None = None,
) -> dict | None:
    message = last_with(bot, owner, RECORD) if any(has_action(m, RECORD) for m in bot.dms(owner)) else None
    if message is None:
        thread = next(m for m in bot.ws.messages if m.channel.startswith("G") and has_action(m, RECORD))
        await bot.click(owner, thread, RECORD)
    else:
        await bot.click(owner, message, RECORD)
    modal = bot.ws.modal_of(owner)
    assert modal is not None and modal["callback_id"] == "worries.outcome"
    values = {
        "outcome": {"outcome": {"type": "radio_buttons", "selected_option": {"value": outcome}}},
        "note": {"note": {"type": "plain_text_input", "value": note}},
        "worker": {
            "worker": {
                "type": "static_select",
                "selected_option": {"value": str(worker)} if worker else None,
            }
        },
        "child_ref": {"child_ref": {"type": "plain_text_input", "value": child_ref or ""}},
    }
    status, response = await bot.ws.submit(owner, modal["id"], values)
    assert status == 200
    await bot.ws.settle()
    return response


async def staff_id(bot: Bot, user_id: str) -> int:
    async with bot.deps.db.session() as session:
        staff = await session.scalar(select(Staff).where(Staff.user_id == user_id))
        assert staff is not None
        return staff.id


# --- the modal -----------------------------------------------------------------------


async def test_worried_with_a_child_ref_opens_the_signs_of_safety_modal_with_the_ref_filled_in(
    bot: Bot,
) -> None:
    await co_located_floor(bot)

    modal = await open_modal(bot, "tom", "IPS101")

    labels = [b["label"]["text"] for b in modal["blocks"] if b["type"] == "input"]
    assert labels[:4] == [
        "What are we worried about?",
        "What's working well?",
        "What needs to happen?",
        "How safe is the child? (0-10)",
    ]
    child = next(b for b in modal["blocks"] if b.get("block_id") == "child_ref")
    assert child["element"]["initial_value"] == "IPS101"


async def test_an_empty_worry_is_refused_inline_and_the_modal_keeps_what_was_typed(
    bot: Bot,
) -> None:
    await co_located_floor(bot)
    modal = await open_modal(bot, "tom")

    status, response = await bot.ws.submit("tom", modal["id"], form(worried="   ", scale="4"))

    assert status == 200 and response is not None
    assert response["response_action"] == "errors"
    assert set(response["errors"]) == {"worried"}
    assert bot.ws.modal_of("tom")["id"] == modal["id"]  # still open: nothing typed is lost
    assert await worries(bot) == []


@pytest.mark.parametrize("scale", ["11", "-1", "seven", ""])
async def test_a_scale_outside_0_to_10_is_refused_inline(bot: Bot, scale: str) -> None:
    await co_located_floor(bot)

    response = await raise_worry(bot, "tom", scale=scale)

    assert response is not None and "0 to 10" in response["errors"]["scale"]
    assert await worries(bot) == []


async def test_a_child_ref_the_raiser_does_not_hold_is_refused_but_a_blank_one_is_fine(
    bot: Bot,
) -> None:
    await co_located_floor(bot)

    unknown = await raise_worry(bot, "tom", child_ref="NOPE999")
    someone_elses = await raise_worry(bot, "tom", child_ref="IPS201")
    blank = await raise_worry(bot, "tom", child_ref="")

    assert unknown is not None and "NOPE999 isn't a child you hold" in unknown["errors"]["child_ref"]
    assert someone_elses is not None and "IPS201 isn't a child you hold" in someone_elses["errors"]["child_ref"]
    assert blank is None
    [worry] = await worries(bot)
    assert worry.child_ref is None
    assert "a family not yet known" in bot.dm_text("joe")


async def test_a_manager_can_raise_a_worry_about_a_child_in_their_team(bot: Bot) -> None:
    await co_located_floor(bot)

    assert await raise_worry(bot, "mgr", child_ref="ips201") is None
    [worry] = await worries(bot)
    assert worry.child_ref == "IPS201"


# --- routing ---------------------------------------------------------------------------


async def test_a_worry_goes_to_each_early_help_colleague_in_the_office_with_a_summary_not_the_text(
    bot: Bot,
) -> None:
    await co_located_floor(bot)

    await raise_worry(bot, "tom", child_ref="IPS101", scale="4", urgency="today")

    for person in ("joe", "amira"):
        message = last_with(bot, person, TAKE)
        text = bot.text([message])
        assert "Worry #1" in text and "IPS101" in text and "4/10" in text and "today" in text
    assert bot.dms("kate") == [] and bot.dms("zara") == []
    assert free_text_anywhere(bot) == []
    raiser = bot.dm_text("tom")
    assert "Worry #1" in raiser and "<@joe>" in raiser and "<@amira>" in raiser
    [worry] = await worries(bot)
    assert worry.state == "open" and worry.urgency == "today" and worry.scale == 4


async def test_a_lowestoft_worry_goes_to_lowestoft_early_help(bot: Bot) -> None:
    await co_located_floor(bot)

    await raise_worry(bot, "ellie", child_ref="LOW301")

    assert has_action(last_with(bot, "zara", TAKE), TAKE)
    assert bot.dms("joe") == []


async def test_with_desk_bookings_only_early_help_colleagues_booked_in_the_same_office_hear(
    bot: Bot,
) -> None:
    await co_located_floor(bot)
    await book_desk(bot, "tom", "Ipswich", TODAY, "IP-1")
    await book_desk(bot, "amira", "Ipswich", TODAY, "IP-2")
    await book_desk(bot, "joe", "Lowestoft", TODAY, "LO-1")

    await raise_worry(bot, "tom")

    assert last_with(bot, "amira", TAKE)
    assert bot.dms("joe") == []


async def test_when_no_early_help_colleague_is_in_the_worry_goes_to_the_duty_channel(
    bot: Bot,
) -> None:
    await co_located_floor(bot)
    await book_desk(bot, "tom", "Ipswich", TODAY, "IP-1")  # desks are in use today, but early help is out

    await raise_worry(bot, "tom")

    duty = channel_of(bot, "Ipswich Early Help")
    [posted] = bot.ws.messages_in(duty)
    assert has_action(posted, TAKE) and "nobody from this team is in the office today" in bot.text([posted])
    assert bot.dms("joe") == [] and bot.dms("amira") == []
    assert free_text_anywhere(bot) == []
    assert "nobody from Ipswich Early Help is in the office today" in bot.dm_text("tom")


async def test_early_help_can_step_a_worry_up_to_social_work_the_same_way(bot: Bot) -> None:
    await co_located_floor(bot)

    await raise_worry(bot, "joe", child_ref="EH401")

    assert last_with(bot, "rory", TAKE)  # Assessment Team A: the pairing's step-up team
    assert bot.dms("tom") == []
    [worry] = await worries(bot)
    assert worry.to_team_id is not None


# --- dedupe ------------------------------------------------------------------------------


async def test_a_double_submitted_modal_creates_one_worry(bot: Bot) -> None:
    await co_located_floor(bot)
    modal = await open_modal(bot, "tom")

    await asyncio.gather(
        bot.ws.submit("tom", modal["id"], form()),
        bot.ws.submit("tom", modal["id"], form()),
    )
    await bot.ws.settle()

    assert len(await worries(bot)) == 1
    assert len([m for m in bot.dms("joe") if has_action(m, TAKE)]) == 1


async def test_slack_retries_of_the_submission_create_one_worry(bot: Bot) -> None:
    await co_located_floor(bot)
    modal = await open_modal(bot, "tom")

    for retry in (0, 1, 2):
        assert await submit_with_retry_header(bot, "tom", modal["id"], form(), retry) == 200

    assert len(await worries(bot)) == 1
    assert len([m for m in bot.dms("amira") if has_action(m, TAKE)]) == 1


async def test_the_same_view_submitted_with_different_state_still_makes_one_worry(bot: Bot) -> None:
    await co_located_floor(bot)
    modal = await open_modal(bot, "tom")

    await bot.ws.submit("tom", modal["id"], form(scale="4"))
    await submit_with_retry_header(bot, "tom", modal["id"], form(scale="5"), 1)

    assert len(await worries(bot)) == 1


# --- taking it -------------------------------------------------------------------------


async def test_the_first_to_take_it_owns_it_and_the_others_see_who_did(bot: Bot) -> None:
    await co_located_floor(bot)
    await raise_worry(bot, "tom")

    await bot.click("joe", last_with(bot, "joe", TAKE), TAKE)

    [worry] = await worries(bot)
    assert worry.state == "claimed" and worry.owner_id == await staff_id(bot, "joe")
    amira_msg = [m for m in bot.dms("amira") if "Worry #1" in m.text][0]
    assert amira_msg.edited and "taken by <@joe>" in json.dumps(amira_msg.blocks)
    assert not has_action(amira_msg, TAKE)
    # The owner reads the worry straight away; the raiser hears who took it.
    modal = bot.ws.modal_of("joe")
    assert modal is not None and WORRY_TEXT in json.dumps(modal)
    assert "has taken your worry #1" in bot.dm_text("tom")
    # They talk in a group message of their own.
    group = [c for c in bot.ws.channels.values() if c.name.startswith("mpdm-")]
    assert len(group) == 1 and {"tom", "joe"} <= group[0].members
    assert free_text_anywhere(bot) == []


async def test_a_second_press_is_told_someone_else_took_it(bot: Bot) -> None:
    await co_located_floor(bot)
    await raise_worry(bot, "tom")
    amira_message = last_with(bot, "amira", TAKE)
    await bot.click("joe", last_with(bot, "joe", TAKE), TAKE)

    # Amira's screen still shows the button she saw before the update reached her.
    await bot.ws.click(
        "amira",
        {"action_id": TAKE, "block_id": "", "value": "1"},
        channel=amira_message.channel,
        message_ts=amira_message.ts,
    )
    await bot.ws.settle()

    assert "<@joe> took worry #1 just before you" in bot.dm_text("amira")
    [worry] = await worries(bot)
    assert worry.owner_id == await staff_id(bot, "joe")


async def test_two_colleagues_pressing_take_at_once_make_exactly_one_owner(bot: Bot) -> None:
    await co_located_floor(bot)
    await raise_worry(bot, "tom")
    joe_msg, amira_msg = last_with(bot, "joe", TAKE), last_with(bot, "amira", TAKE)

    await asyncio.gather(bot.click("joe", joe_msg, TAKE), bot.click("amira", amira_msg, TAKE))

    [worry] = await worries(bot)
    assert worry.state == "claimed"
    ids = {await staff_id(bot, "joe"), await staff_id(bot, "amira")}
    assert worry.owner_id in ids
    async with bot.deps.db.session() as session:
        takes = [e for e in await trail(session, bot.deps.workspace_id, "worry:1") if e.action == "worry.take"]
    assert len(takes) == 1
    assert sum("has taken your worry" in m.text for m in bot.dms("tom")) == 1


async def test_many_concurrent_claims_in_the_database_have_one_winner(bot: Bot) -> None:
    await co_located_floor(bot)
    await raise_worry(bot, "tom")
    contenders = [await staff_id(bot, u) for u in ("joe", "amira", "kate", "zara", "paul")]

    async def attempt(owner: int) -> bool:
        async with bot.deps.db.transaction() as session:
            return await claim(session, bot.deps.workspace_id, 1, owner, bot.clock.now())

    results = await asyncio.gather(*(attempt(c) for c in contenders))

    assert sorted(results) == [False, False, False, False, True]
    [worry] = await worries(bot)
    assert worry.owner_id == contenders[results.index(True)]


async def test_someone_from_another_team_cannot_take_a_worry_from_the_duty_channel(
    bot: Bot,
) -> None:
    await co_located_floor(bot)
    await book_desk(bot, "tom", "Ipswich", TODAY, "IP-1")
    await raise_worry(bot, "tom")
    duty = channel_of(bot, "Ipswich Early Help")
    bot.ws.channels[duty].members.add("priya")
    [posted] = bot.ws.messages_in(duty)

    await bot.click("priya", posted, TAKE)
    await bot.click("joe", posted, TAKE)

    [worry] = await worries(bot)
    assert worry.owner_id == await staff_id(bot, "joe")
    assert "taken by <@joe>" in json.dumps(bot.ws.messages_in(duty)[0].blocks)


# --- outcomes --------------------------------------------------------------------------


async def test_advice_given_closes_the_worry_and_the_raiser_is_told(bot: Bot) -> None:
    await co_located_floor(bot)
    await raise_worry(bot, "tom")
    await bot.click("joe", last_with(bot, "joe", TAKE), TAKE)

    assert await record_outcome(bot, "joe", "advice", "Talked it through; Tom will ring school") is None

    [worry] = await worries(bot)
    assert worry.state == "closed" and worry.outcome == "advice" and worry.closed_at is not None
    told = bot.dm_text("tom")
    assert "recorded the outcome of your worry #1" in told and "advice given" in told
    assert "ring school" not in told  # the note is read by opening the worry
    assert free_text_anywhere(bot) == []


async def test_a_step_down_puts_the_child_in_the_early_help_workers_caseload(bot: Bot) -> None:
    await co_located_floor(bot)
    await raise_worry(bot, "tom", child_ref="IPS101")
    await bot.click("joe", last_with(bot, "joe", TAKE), TAKE)
    amira = await staff_id(bot, "amira")

    await record_outcome(bot, "joe", "step_down", "Family support plan agreed", worker=amira, child_ref="IPS101")

    async with bot.deps.db.session() as session:
        child = await session.scalar(select(Child).where(Child.child_ref == "IPS101"))
    assert child is not None and child.allocated_to == amira and child.status == "early_help"
    assert "You hold 1 child" in await bot.ask("amira", "/caseload")
    assert "now in your caseload" in bot.dm_text("amira")
    assert "*step down to early help* (held by <@amira>)" in bot.dm_text("tom")


async def test_a_step_down_without_a_worker_is_refused_inline(bot: Bot) -> None:
    await co_located_floor(bot)
    await raise_worry(bot, "tom", child_ref="IPS101")
    await bot.click("joe", last_with(bot, "joe", TAKE), TAKE)

    response = await record_outcome(bot, "joe", "step_down", "Step down", worker=None, child_ref="IPS101")

    assert response is not None and "worker" in response["errors"]
    [worry] = await worries(bot)
    assert worry.state == "claimed"


async def test_a_step_up_tells_the_social_work_team_manager(bot: Bot) -> None:
    await co_located_floor(bot)
    await raise_worry(bot, "tom", child_ref="IPS102")
    await bot.click("amira", last_with(bot, "amira", TAKE), TAKE)

    await record_outcome(bot, "amira", "step_up", "This needs a social work assessment")

    assert "stepped up to social work by <@amira>" in bot.dm_text("mgr")
    assert "step up to social work" in bot.dm_text("tom")
    assert free_text_anywhere(bot) == []


async def test_no_further_action_is_recorded_and_only_the_owner_can_record_it(bot: Bot) -> None:
    await co_located_floor(bot)
    await raise_worry(bot, "tom")
    await bot.click("joe", last_with(bot, "joe", TAKE), TAKE)
    thread = next(m for m in bot.ws.messages if m.channel.startswith("G") and has_action(m, RECORD))

    await bot.click("tom", thread, RECORD)
    assert "Only the colleague who took this worry records its outcome" in bot.dm_text("tom")

    await record_outcome(bot, "joe", "nfa", "Already known to school nurse; nothing more")
    [worry] = await worries(bot)
    assert worry.outcome == "nfa"
    thread_after = next(m for m in bot.ws.messages if m.ts == thread.ts)
    assert not has_action(thread_after, RECORD)


# --- who can read it ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("viewer", "allowed"),
    [
        ("tom", True),  # the raiser
        ("joe", True),  # routed to (and took it)
        ("amira", True),  # routed to
        ("mgr", True),  # the raiser's manager
        ("kate", True),  # the receiving team's manager
        ("priya", False),  # the raiser's colleague
        ("paul", False),  # another early help team's manager
        ("alex", False),  # an admin runs the system but doesn't read worries
    ],
)
async def test_the_worry_text_is_shown_only_to_those_it_concerns_and_every_reading_is_audited(
    bot: Bot, viewer: str, allowed: bool
) -> None:
    await co_located_floor(bot)
    await raise_worry(bot, "tom")
    await bot.click("joe", last_with(bot, "joe", TAKE), TAKE)
    bot.ws.modal_stacks.clear()
    opener = last_with(bot, "tom", OPEN)  # a message with an Open button, pressed by the viewer

    status, _ = await bot.ws.click(
        viewer,
        {"action_id": OPEN, "block_id": "", "value": "1"},
        channel=opener.channel,
        message_ts=opener.ts,
    )
    await bot.ws.settle()

    assert status == 200
    modal = bot.ws.modal_of(viewer)
    async with bot.deps.db.session() as session:
        views = [e for e in await trail(session, bot.deps.workspace_id, "worry:1") if e.action == "worry.view"]
    if allowed:
        assert modal is not None and WORRY_TEXT in json.dumps(modal) and NEEDS_TEXT in json.dumps(modal)
        assert viewer in [e.actor for e in views]
    else:
        assert modal is None
        assert viewer not in [e.actor for e in views]
        assert "Only the people a worry went to" in bot.dm_text(viewer)


async def test_worry_text_is_never_logged(bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    await co_located_floor(bot)

    await raise_worry(bot, "tom")
    await bot.click("joe", last_with(bot, "joe", TAKE), TAKE)
    await record_outcome(bot, "joe", "advice", "Private note about the family")

    assert WORRY_TEXT not in caplog.text and "Private note" not in caplog.text


async def test_the_audit_command_prints_who_read_the_worry_and_when(
    bot: Bot, capsys: pytest.CaptureFixture[str]
) -> None:
    import argparse

    from bot.cli import cmd_audit
    from bot.clock import FixedClock
    from bot.settings import Settings

    await co_located_floor(bot)
    await raise_worry(bot, "tom")
    bot.at("2026-11-23T09:12")
    await bot.click("joe", last_with(bot, "joe", TAKE), TAKE)
    settings = Settings(_env_file=None, database_url=bot.deps.db.url)  # type: ignore[call-arg]

    code = await cmd_audit(argparse.Namespace(id=1, workspace=None), settings, FixedClock(bot.clock.now()))

    out = capsys.readouterr().out
    assert code == 0
    assert "worry #1 about IPS101: claimed" in out
    assert "2026-11-23 09:00  Tom Hughes (tom)" in out and "raised it" in out
    assert "2026-11-23 09:12  Joe Fraser (joe)" in out and "read the worry" in out
    assert WORRY_TEXT not in out


# --- lists and home ------------------------------------------------------------------------


async def test_worried_list_shows_each_person_their_own_view(bot: Bot) -> None:
    await co_located_floor(bot)
    await raise_worry(bot, "tom", child_ref="IPS101")
    await raise_worry(bot, "tom", child_ref="IPS102", urgency="week")
    await bot.click("joe", last_with(bot, "joe", TAKE), TAKE)
    await record_outcome(bot, "joe", "advice", "Advice given")
    bot.at("2026-11-23T10:00")  # worry #1 (today) has waited past its 30 minutes

    joe = await bot.ask("joe", "/worried list")
    tom = await bot.ask("tom", "/worried list")
    mgr = await bot.ask("mgr", "/worried list")

    assert "Waiting for you" in joe and "#1" in joe and "[Take this]" in joe
    assert "You raised" in tom and "*#1* IPS101" in tom and "waiting for someone in Ipswich Early Help" in tom
    assert "waiting longer than it should" in tom
    assert "#2" not in tom  # closed
    assert "Your team* (Ipswich CIN 2): 1 open, 1 waiting longer than they should" in mgr
    assert "advice given 1" in mgr and "step down to early help 0" in mgr
    assert WORRY_TEXT not in joe + tom + mgr


async def test_app_home_has_a_raise_a_worry_button_that_opens_the_modal(bot: Bot) -> None:
    await co_located_floor(bot)

    home = await bot.home("tom")
    assert "[Raise a worry]" in home
    view = bot.ws.home_of("tom")
    assert view is not None

    status, _ = await bot.ws.click("tom", {"action_id": "worries.new", "block_id": "", "value": ""}, view_id=view["id"])
    await bot.ws.settle()

    assert status == 200
    assert bot.ws.modal_of("tom")["callback_id"] == "worries.raise"


async def test_worried_banana_answers_with_usage_and_strangers_are_told_to_get_added(
    bot: Bot,
) -> None:
    await co_located_floor(bot)
    bot.ws.add_user("UNEW", "newbie", "New Person")

    assert "I didn't understand `/worried two words`" in await bot.ask("tom", "/worried two words")
    assert "not on this authority's staff list" in await bot.ask("UNEW", "/worried list")
    assert "Raise a worry" in await bot.dm("tom", "worried IPS101")


async def test_the_demo_has_open_claimed_and_closed_worries(bot: Bot) -> None:
    from bot.demo import seed

    async with bot.deps.db.transaction() as session:
        await seed(session, bot.deps.workspace_id, TODAY)

    states = [w.state for w in await worries(bot)]
    assert {"open", "claimed", "closed"} <= set(states)
    outcomes = {w.outcome for w in await worries(bot) if w.state == "closed"}
    assert {"step_down", "advice", "nfa"} <= outcomes
