"""The test harness: the real bot on the local workspace, driven as a person would.

Tests speak in people and files: import a staff CSV, have someone type a
command, read what the bot said to them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.app import Deps
from bot.blocktext import blocks_to_text, view_to_text
from bot.clock import FixedClock, parse_now
from bot.imports import ChildRow, StaffRow, parse
from bot.policy import Policy
from bot.runtime import Local, build_deps, start_local
from bot.settings import Settings
from bot.workspace import LocalWorkspace, Message
from storage.db import Database
from storage.imports import Report, import_children, import_staff

STAFF_HEADER = "user_id,name,team,role,fte,qualified_on"
CHILDREN_HEADER = "child_ref,allocated_to,status"


def csv(header: str, *rows: str) -> str:
    return "\n".join([header, *rows]) + "\n"


@dataclass
class Bot:
    local: Local
    clock: FixedClock

    @classmethod
    async def start(cls, db: Database, clock: FixedClock, settings: Settings, policy: Policy | None = None) -> Bot:
        deps = build_deps(settings, clock, db=db)
        if policy is not None:
            deps.policy = policy
        local = await start_local(deps)
        return cls(local, clock)

    async def stop(self) -> None:
        await self.local.stop()

    @property
    def deps(self) -> Deps:
        return self.local.deps

    @property
    def ws(self) -> LocalWorkspace:
        return self.local.workspace

    def at(self, when: str | datetime) -> None:
        self.clock.set(parse_now(when) if isinstance(when, str) else when)

    # --- data --------------------------------------------------------------

    async def import_staff(self, text: str) -> Report:
        parsed = parse(StaffRow, text)
        async with self.deps.db.transaction() as session:
            report = await import_staff(session, self.deps.workspace_id, parsed.rows)
        await self.local.sync_directory()
        return report

    async def import_children(self, text: str, full: bool = True) -> Report:
        parsed = parse(ChildRow, text)
        async with self.deps.db.transaction() as session:
            report = await import_children(
                session,
                self.deps.workspace_id,
                parsed.rows,
                self.clock.now().date(),
                columns=parsed.columns,
                full=full,
            )
        return report

    async def staff(self, *rows: str) -> Report:
        return await self.import_staff(csv(STAFF_HEADER, *rows))

    async def children(self, *rows: str, full: bool = True) -> Report:
        return await self.import_children(csv(CHILDREN_HEADER, *rows), full=full)

    async def hold(self, worker: str, count: int, status: str = "cin", prefix: str | None = None) -> None:
        """Give `worker` `count` more children (a partial import, so others keep theirs)."""
        prefix = prefix or f"{worker.upper()}-"
        rows = [f"{prefix}{i:03d},{worker},{status}" for i in range(count)]
        await self.children(*rows, full=False)

    # --- people -------------------------------------------------------------

    async def command(self, user: str, text: str, channel: str | None = None) -> list[Message]:
        """`user` types `text`; returns everything the bot said in reply."""
        before = len(self.ws.messages)
        status, _ = await self.ws.command(user, text, channel)
        assert status == 200, f"the bot answered HTTP {status}"
        await self.ws.settle()
        return [m for m in self.ws.messages[before:] if m.user == self.ws.bot_user_id]

    async def ask(self, user: str, text: str, channel: str | None = None) -> str:
        """`user` types `text`; returns the bot's replies as readable text."""
        return self.text(await self.command(user, text, channel))

    async def dm(self, user: str, text: str) -> str:
        before = len(self.ws.messages)
        status, _ = await self.ws.say(user, text)
        assert status == 200
        await self.ws.settle()
        return self.text([m for m in self.ws.messages[before:] if m.user == self.ws.bot_user_id])

    async def home(self, user: str) -> str:
        status, _ = await self.ws.open_home(user)
        assert status == 200
        await self.ws.settle()
        view = self.ws.home_of(user)
        return view_to_text(view, self.ws.names()) if view else ""

    async def click(self, user: str, message: Message, action_id: str, **extra: Any) -> list[Message]:
        element = find_element(message.blocks or [], action_id)
        before = len(self.ws.messages)
        action = {"action_id": action_id, "block_id": element.get("_block_id", ""), **extra}
        if "value" in element and "value" not in extra:
            action["value"] = element["value"]
        status, _ = await self.ws.click(user, action, channel=message.channel, message_ts=message.ts)
        assert status == 200, f"the bot answered HTTP {status}"
        await self.ws.settle()
        return [m for m in self.ws.messages[before:] if m.user == self.ws.bot_user_id]

    def text(self, messages: list[Message]) -> str:
        names = self.ws.names()
        return "\n".join(blocks_to_text(m.blocks, m.text, names) for m in messages)

    def dms(self, user: str) -> list[Message]:
        return self.ws.dms_to(user)

    def dm_text(self, user: str) -> str:
        return self.text(self.dms(user))


def find_element(blocks: list[dict[str, Any]], action_id: str) -> dict[str, Any]:
    for block in blocks:
        elements = list(block.get("elements", []))
        if block.get("accessory"):
            elements.append(block["accessory"])
        if block.get("element"):
            elements.append(block["element"])
        for element in elements:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return {**element, "_block_id": block.get("block_id", "")}
    raise AssertionError(f"no element {action_id!r} in {json.dumps(blocks)[:500]}")


# --- council data files (Annex A workbooks) -------------------------------------


def xlsx(sheets: dict[str, list[list[Any]]], cached: dict[str, dict[str, str]] | None = None) -> bytes:
    """A workbook written with openpyxl, one sheet per entry, rows as given.

    openpyxl saves formulas without a result; `cached` adds the result Excel
    would have saved, by sheet title and cell ({"List 7": {"E3": "46344"}}).
    """
    import io
    import re
    import zipfile

    from openpyxl import Workbook

    book = Workbook()
    first = book.active
    assert first is not None
    book.remove(first)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    data = buffer.getvalue()
    if not cached:
        return data
    positions = {title: f"sheet{i}" for i, title in enumerate(sheets, start=1)}
    wanted = {positions[title]: cells for title, cells in cached.items()}
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            found = re.fullmatch(r"xl/worksheets/(sheet\d+)\.xml", item.filename)
            if found and found.group(1) in wanted:
                xml = content.decode("utf-8")
                for ref, value in wanted[found.group(1)].items():
                    xml = re.sub(
                        rf'(<c r="{ref}"[^>]*>)(<f>[^<]*</f>)(?:<v\s*/>|<v></v>)?', rf"\g<1>\g<2><v>{value}</v>", xml
                    )
                content = xml.encode("utf-8")
            target.writestr(item, content)
    return out.getvalue()


def excel_serial(d: Any) -> int:
    from datetime import date as _date

    return int((d - _date(1899, 12, 30)).days)


async def social_workers(bot: Bot, count: int, teams: int = 1, office: str = "Ipswich") -> list[Any]:
    """`count` social workers ("Person 000", ...) dealt round `teams` teams ("Team 0", ...) in
    `office`, added in bulk and known to the local workspace; their Staff rows, in order."""
    from sqlalchemy import select

    from storage.org import Staff, Team

    ws = bot.deps.workspace_id
    async with bot.deps.db.transaction() as session:
        made = [Team(workspace_id=ws, name=f"Team {t}", office=office) for t in range(teams)]
        session.add_all(made)
        await session.flush()
        session.add_all(
            Staff(
                workspace_id=ws,
                user_id=f"p{i:03d}",
                slack_user_id=f"UP{i:04d}",
                name=f"Person {i:03d}",
                team_id=made[i % teams].id,
                role="social_worker",
                fte=1.0,
            )
            for i in range(count)
        )
    await bot.local.sync_directory()
    async with bot.deps.db.session() as session:
        return list(await session.scalars(select(Staff).where(Staff.workspace_id == ws).order_by(Staff.id)))
