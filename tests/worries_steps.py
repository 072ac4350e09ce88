"""Steps the worries tests share: a co-located floor of teams, raising a worry through the modal."""

from __future__ import annotations

import asyncio
import json
from datetime import date
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select

from bot.workspace import Message, signed_headers
from storage.desks import LIVE, Desk, DeskBooking
from storage.org import Staff
from storage.worries import Worry, WorryRecipient
from tests.support import Bot, csv

TAKE = "worries.take"
OPEN = "worries.open"
RECORD = "worries.record_outcome"

WORRY_TEXT = "Dad shouted at the children during the visit and they went quiet"
WELL_TEXT = "Nan collects them from school every day"
NEEDS_TEXT = "Someone to check in with school about how they seem"

FLOOR = csv(
    "user_id,name,team,role,fte,qualified_on,office",
    "mgr,Grace Okafor,Ipswich CIN 2,manager,1.0,2014-01-01,Ipswich",
    "tom,Tom Hughes,Ipswich CIN 2,social_worker,1.0,2026-06-10,Ipswich",
    "priya,Priya Shah,Ipswich CIN 2,social_worker,1.0,2025-10-01,Ipswich",
    "helen,Helen Marsh,Assessment Team A,manager,1.0,2010-01-01,Ipswich",
    "rory,Rory Patel,Assessment Team A,social_worker,1.0,2024-01-01,Ipswich",
    "kate,Kate Simmons,Ipswich Early Help,manager,1.0,,Ipswich",
    "joe,Joe Fraser,Ipswich Early Help,early_help,1.0,,Ipswich",
    "amira,Amira Said,Ipswich Early Help,early_help,0.8,,Ipswich",
    "martin,Martin Cole,Lowestoft CLA,manager,1.0,2012-01-01,Lowestoft",
    "ellie,Ellie Ward,Lowestoft CLA,social_worker,1.0,2020-01-01,Lowestoft",
    "paul,Paul Reed,Lowestoft Early Help,manager,1.0,,Lowestoft",
    "zara,Zara Ali,Lowestoft Early Help,early_help,1.0,,Lowestoft",
    "alex,Alex Morgan,Ipswich CIN 2,admin,1.0,2016-09-01,Ipswich",
)


async def co_located_floor(bot: Bot) -> None:
    await bot.import_staff(FLOOR)
    await bot.children(
        "IPS101,tom,cin",
        "IPS102,tom,cp",
        "IPS201,priya,cin",
        "LOW301,ellie,cla",
        "EH401,joe,early_help",
        full=False,
    )


def form(
    worried: str = WORRY_TEXT,
    working_well: str = WELL_TEXT,
    needs: str = NEEDS_TEXT,
    scale: str = "4",
    child_ref: str = "IPS101",
    urgency: str = "today",
) -> dict[str, Any]:
    def text(block: str, value: str) -> dict[str, Any]:
        return {block: {block: {"type": "plain_text_input", "value": value}}}

    values: dict[str, Any] = {}
    values |= text("worried", worried)
    values |= text("working_well", working_well)
    values |= text("needs_to_happen", needs)
    values |= {"scale": {"scale": {"type": "number_input", "value": scale}}}
    values |= text("child_ref", child_ref)
    values |= {"urgency": {"urgency": {"type": "radio_buttons", "selected_option": {"value": urgency}}}}
    return values


async def open_modal(bot: Bot, user: str, text: str = "") -> dict[str, Any]:
    await bot.command(user, f"/worried {text}".strip())
    modal = bot.ws.modal_of(user)
    assert modal is not None, "no modal opened"
    return modal


async def raise_worry(bot: Bot, user: str, **fields: Any) -> dict[str, Any] | None:
    """`user` opens the modal and submits it; returns the bot's response (errors), if any."""
    modal = await open_modal(bot, user)
    status, response = await bot.ws.submit(user, modal["id"], form(**fields))
    assert status == 200
    await bot.ws.settle()
    return response


async def worries(bot: Bot) -> list[Worry]:
    async with bot.deps.db.session() as session:
        return list(await session.scalars(select(Worry).order_by(Worry.id)))


async def recipient_rows(bot: Bot, worry_id: int) -> list[WorryRecipient]:
    async with bot.deps.db.session() as session:
        return list(
            await session.scalars(
                select(WorryRecipient).where(WorryRecipient.worry_id == worry_id).order_by(WorryRecipient.id)
            )
        )


def has_action(message: Message, action_id: str) -> bool:
    return action_id in json.dumps(message.blocks or [])


def last_with(bot: Bot, user: str, action_id: str) -> Message:
    found = [m for m in bot.dms(user) if has_action(m, action_id)]
    assert found, f"no message to {user} with {action_id}: {bot.dm_text(user)}"
    return found[-1]


def channel_of(bot: Bot, team_name: str) -> str:
    name = "".join(c if c.isalnum() else "-" for c in team_name.lower())
    return next(c.id for c in bot.ws.channels.values() if c.name == name)


async def book_desk(bot: Bot, user_id: str, office: str, day: date, code: str) -> None:
    """A live desk booking (the desks feature's table), as if booked with /desk."""
    async with bot.deps.db.transaction() as session:
        staff = await session.scalar(select(Staff).where(Staff.user_id == user_id))
        assert staff is not None
        desk = Desk(
            workspace_id=bot.deps.workspace_id,
            code=code,
            office=office,
            floor="1",
            zone="A",
            tags="",
        )
        session.add(desk)
        await session.flush()
        for half in ("am", "pm"):
            session.add(
                DeskBooking(
                    workspace_id=bot.deps.workspace_id,
                    desk_id=desk.id,
                    staff_id=staff.id,
                    day=day,
                    half=half,
                    status="booked",
                    live=LIVE,
                    source="request",
                    created_at=bot.clock.now(),
                )
            )


async def submit_with_retry_header(bot: Bot, user: str, view_id: str, values: dict[str, Any], retry: int) -> int:
    """The same view_submission delivered again, as Slack does when it retries (X-Slack-Retry-Num)."""
    ws = bot.ws
    view = dict(ws.views[view_id])
    view["state"] = {"values": values}
    payload = {
        "type": "view_submission",
        "team": {"id": ws.team_id, "domain": "local"},
        "user": {"id": user, "username": user, "name": user, "team_id": ws.team_id},
        "api_app_id": ws.app_id,
        "token": "local",
        "trigger_id": f"retry.{retry}",
        "view": view,
        "is_enterprise_install": False,
        "response_urls": [],
    }
    body = urlencode({"payload": json.dumps(payload)}).encode()
    headers = signed_headers(ws.signing_secret, body, "application/x-www-form-urlencoded")
    if retry:
        headers["x-slack-retry-num"] = str(retry)
        headers["x-slack-retry-reason"] = "http_timeout"
    assert ws.deliver is not None
    before = asyncio.all_tasks()
    status, _ = await ws.deliver(body, headers)
    # Wait for the work the bot started after acking, as the workspace does for its own requests.
    started = [t for t in asyncio.all_tasks() - before if not t.done()]
    if started:
        await asyncio.wait(started, timeout=10)
    await ws.settle()
    return status
