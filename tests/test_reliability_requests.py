"""Requests that aren't Slack's are refused and do nothing; Slack's repeats do one thing.

Forgery: a slash command, a button click, a form submission and an event, each of
which would change something if Slack had sent it, arrive with a bad signature,
without the signature headers, replayed from 400 seconds ago, or altered after
signing. Each is answered 401, and nothing ran: no Web API call, no message, no
row written anywhere (not even the note that a delivery was seen). The same
request signed properly does change something, so the refusal is what stopped it.

Repeats: each of the four forms submitted twice in a row (a double click), twice at
the same moment, and delivered three times by Slack (X-Slack-Retry-Num 1 and 2) has
one effect: one row, one confirmation. A form sent back with problems and submitted
again unchanged is checked again, so its problems are shown again.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.app import LOCAL_SIGNING_SECRET, dispatch
from bot.workspace import signed_headers
from storage.audit import AuditEntry
from storage.desks import DeskBooking
from storage.org import Staff
from storage.visits import Visit
from storage.worries import Worry
from tests.reliability_steps import fingerprint, form_from_command, form_from_home, is_errors, taken_worry
from tests.support import Bot
from tests.worries_steps import co_located_floor, form, has_action

# --- what Slack would send ---------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    body: bytes
    content_type: str

    def signed(self, at: float | None = None, secret: str = LOCAL_SIGNING_SECRET) -> dict[str, str]:
        return signed_headers(secret, self.body, self.content_type, at=at)

    def altered(self) -> bytes:
        """The body with one more field, still well formed: the signature no longer matches."""
        if self.content_type == "application/json":
            return self.body[:-1] + b', "channel_type": "channel"}'
        return self.body + b"&user_id=mgr"


async def captured(bot: Bot, act: Callable[[], Awaitable[object]]) -> Delivery:
    """The request the local workspace builds (as Slack builds it) for `act`, not delivered."""
    ws = bot.ws
    seen: list[tuple[bytes, dict[str, str]]] = []
    real = ws.deliver

    async def keep(body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        seen.append((body, headers))
        return 200, b""

    ws.deliver = keep
    try:
        await act()
    finally:
        ws.deliver = real
    assert len(seen) == 1
    body, headers = seen[0]
    return Delivery(body, headers["content-type"])


async def would_book_a_desk(bot: Bot) -> Delivery:
    return await captured(bot, lambda: bot.ws.command("tom", "/desk tomorrow"))


async def would_cancel_a_desk(bot: Bot) -> Delivery:
    await bot.command("tom", "/desk tomorrow")
    booked = next(m for m in bot.dms("tom") if has_action(m, "desk_cancel"))
    action = {"action_id": "desk_cancel", "block_id": "b", "value": "2026-11-24|day"}
    return await captured(bot, lambda: bot.ws.click("tom", action, channel=booked.channel, message_ts=booked.ts))


async def would_raise_a_worry(bot: Bot) -> Delivery:
    view = await form_from_command(bot, "tom", "/worried")
    return await captured(bot, lambda: bot.ws.submit("tom", view, form()))


async def would_answer_a_message(bot: Bot) -> Delivery:
    return await captured(bot, lambda: bot.ws.say("tom", "caseload"))


KINDS: dict[str, Callable[[Bot], Awaitable[Delivery]]] = {
    "slash command": would_book_a_desk,
    "button click": would_cancel_a_desk,
    "form submission": would_raise_a_worry,
    "event": would_answer_a_message,
}


async def delivered(bot: Bot, body: bytes, headers: dict[str, str]) -> int:
    """Hand a request to the bot as the HTTP route does; wait for all it set off; its status."""
    before = asyncio.all_tasks()
    status, _ = await dispatch(bot.local.app, body, headers)
    while started := [t for t in asyncio.all_tasks() - before if not t.done()]:
        await asyncio.wait(started, timeout=10)
    await bot.ws.settle()
    return status


@dataclass(frozen=True)
class Seen:
    """Everything a request could have changed."""

    rows: str
    messages: int
    calls: int
    # Bumped by anything the workspace is sent: a call, a message, an edit through a response_url.
    version: int


async def seen(bot: Bot) -> Seen:
    await bot.ws.settle()
    # Every table, the record of deliveries already handled included.
    rows = await fingerprint(bot.deps.db, skip=frozenset())
    return Seen(rows, len(bot.ws.messages), len(bot.ws.calls), bot.ws.version)


FORGERIES: dict[str, Callable[[Delivery], tuple[bytes, dict[str, str]]]] = {
    "a bad signature": lambda d: (d.body, d.signed(secret="not-the-signing-secret")),
    "no signature headers": lambda d: (d.body, {"content-type": d.content_type}),
    "a replay from 400 seconds ago": lambda d: (d.body, d.signed(at=time.time() - 400)),
    "a body altered after signing": lambda d: (d.altered(), d.signed()),
}


@pytest.mark.parametrize("forgery", list(FORGERIES))
@pytest.mark.parametrize("kind", list(KINDS))
async def test_a_forged_request_is_refused_with_401_and_nothing_runs(bot: Bot, kind: str, forgery: str) -> None:
    await co_located_floor(bot)
    delivery = await KINDS[kind](bot)
    before = await seen(bot)

    body, headers = FORGERIES[forgery](delivery)
    status = await delivered(bot, body, headers)

    assert status == 401
    assert await seen(bot) == before


@pytest.mark.parametrize("kind", list(KINDS))
async def test_the_same_request_signed_by_slack_does_run(bot: Bot, kind: str) -> None:
    await co_located_floor(bot)
    delivery = await KINDS[kind](bot)
    before = await seen(bot)

    status = await delivered(bot, delivery.body, delivery.signed())

    assert status == 200
    after = await seen(bot)
    assert after.rows != before.rows and after.version > before.version


# --- each form, submitted more than once ------------------------------------------------------


@dataclass
class Effect:
    """What one submission of a form does, counted."""

    rows: int
    confirmations: int


async def count(bot: Bot, model: Any, *where: Any) -> int:
    async with bot.deps.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def staff_id(bot: Bot, user: str) -> int:
    async with bot.deps.db.session() as session:
        found = await session.scalar(select(Staff.id).where(Staff.user_id == user))
    assert found is not None
    return int(found)


def said(bot: Bot, user: str, words: str) -> int:
    return sum(words in m.text for m in bot.dms(user))


@dataclass
class FormCase:
    """A form ready to submit: who submits it, its id and values, and how to count its effect."""

    user: str
    view: str
    values: dict[str, Any]
    effect: Callable[[], Awaitable[Effect]]


async def record_a_visit(bot: Bot) -> FormCase:
    view = await form_from_home(bot, "tom", "visits.record", "IPS101")
    values = {"visited_on": {"date": {"type": "datepicker", "selected_date": "2026-11-20"}}}

    async def effect() -> Effect:
        return Effect(await count(bot, Visit), said(bot, "tom", "is recorded"))

    return FormCase("tom", view, values, effect)


async def book_a_desk(bot: Bot) -> FormCase:
    view = await form_from_command(bot, "tom", "/desk")
    values = {
        "day": {"day": {"type": "datepicker", "selected_date": "2026-11-24"}},
        "half": {"half": {"type": "static_select", "selected_option": {"value": "day"}}},
        "office": {"office": {"type": "static_select", "selected_option": {"value": "Ipswich"}}},
    }
    tom = await staff_id(bot, "tom")

    async def effect() -> Effect:
        # A whole day is one booking of two halves.
        return Effect(await count(bot, DeskBooking, DeskBooking.staff_id == tom) // 2, said(bot, "tom", "Booked "))

    return FormCase("tom", view, values, effect)


async def raise_a_worry(bot: Bot) -> FormCase:
    view = await form_from_command(bot, "tom", "/worried")

    async def effect() -> Effect:
        return Effect(await count(bot, Worry), said(bot, "tom", "Thank you. Worry #"))

    return FormCase("tom", view, form(), effect)


async def record_an_outcome(bot: Bot) -> FormCase:
    worry = await taken_worry(bot, "joe")
    view = await form_from_home(bot, "joe", "worries.record_outcome", str(worry))
    values = {
        "outcome": {"outcome": {"type": "radio_buttons", "selected_option": {"value": "advice"}}},
        "note": {"note": {"type": "plain_text_input", "value": "Talked it through; school will keep an eye"}},
    }

    async def effect() -> Effect:
        closed = await count(bot, AuditEntry, AuditEntry.action == "worry.outcome")
        return Effect(closed, said(bot, "tom", "recorded the outcome of your worry"))

    return FormCase("joe", view, values, effect)


FORMS: dict[str, Callable[[Bot], Awaitable[FormCase]]] = {
    "visits.record": record_a_visit,
    "desk_book": book_a_desk,
    "worries.raise": raise_a_worry,
    "worries.outcome": record_an_outcome,
}


async def submit_with_retries(bot: Bot, case: FormCase) -> list[int]:
    """Delivered once, then again by Slack with X-Slack-Retry-Num 1 and 2 (each signed anew)."""
    delivery = await captured(bot, lambda: bot.ws.submit(case.user, case.view, case.values))
    statuses = []
    for retry in (None, 1, 2):
        headers = delivery.signed()
        if retry is not None:
            headers |= {"x-slack-retry-num": str(retry), "x-slack-retry-reason": "http_timeout"}
        statuses.append(await delivered(bot, delivery.body, headers))
    return statuses


async def twice_in_a_row(bot: Bot, case: FormCase) -> list[int]:
    return [(await bot.ws.submit(case.user, case.view, case.values))[0] for _ in range(2)]


async def twice_at_once(bot: Bot, case: FormCase) -> list[int]:
    results = await asyncio.gather(*(bot.ws.submit(case.user, case.view, case.values) for _ in range(2)))
    return [status for status, _ in results]


REPEATS: dict[str, Callable[[Bot, FormCase], Awaitable[list[int]]]] = {
    "twice in a row": twice_in_a_row,
    "twice at once": twice_at_once,
    "three times by Slack": submit_with_retries,
}


@pytest.mark.parametrize("repeat", list(REPEATS))
@pytest.mark.parametrize("name", list(FORMS))
async def test_a_form_submitted_more_than_once_has_one_effect(bot: Bot, name: str, repeat: str) -> None:
    await co_located_floor(bot)
    case = await FORMS[name](bot)
    before = await case.effect()

    statuses = await REPEATS[repeat](bot, case)
    await bot.ws.settle()

    assert set(statuses) == {200}
    after = await case.effect()
    assert (after.rows - before.rows, after.confirmations - before.confirmations) == (1, 1)


async def test_a_form_sent_back_with_a_problem_and_submitted_again_unchanged_shows_the_problem_again(
    bot: Bot,
) -> None:
    await co_located_floor(bot)
    view = await form_from_home(bot, "tom", "visits.record", "IPS101")
    future = {"visited_on": {"date": {"type": "datepicker", "selected_date": "2026-11-30"}}}

    first = await bot.ws.submit("tom", view, future)
    again = await bot.ws.submit("tom", view, future)

    assert first == again
    assert is_errors(first[1]) and "in the future" in json.dumps(first[1])
    # Still open, with the problem shown, for Tom to put right.
    modal = bot.ws.modal_of("tom")
    assert modal is not None and modal["id"] == view

    fixed = {"visited_on": {"date": {"type": "datepicker", "selected_date": "2026-11-20"}}}
    status, response = await bot.ws.submit("tom", view, fixed)
    await bot.ws.settle()
    assert (status, response) == (200, None)
    assert said(bot, "tom", "is recorded") == 1
