"""Many workspaces: installed by OAuth, one database, nothing leaks across."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from slack_bolt.async_app import AsyncApp

from bot.clock import FixedClock
from bot.imports import StaffRow, parse
from bot.runtime import Local, build_deps, start_local
from bot.server import bolt_route
from bot.settings import Settings
from schedules import tick
from storage.db import Database
from storage.imports import import_children, import_staff
from tests.support import STAFF_HEADER, csv

FIRST = (
    "mgr1,Grace Okafor,Ipswich CIN 2,manager,1.0,2016-09-01",
    "priya,Priya Shah,Ipswich CIN 2,social_worker,1.0,2025-10-01",
)
SECOND = (
    "mgr2,Kim Lowe,Norwich CIN,manager,1.0,2016-09-01",
    "sam,Sam Turner,Norwich CIN,social_worker,1.0,2025-10-01",
)


@pytest.fixture
async def installed(db: Database, clock: FixedClock, settings: Settings) -> AsyncIterator[Local]:
    web_app = web.Application()
    apps: list[AsyncApp] = []
    bolt_route(web_app, lambda: apps[0])
    deps = build_deps(settings, clock, db=db)
    local = await start_local(deps, web_app=web_app, oauth=True)
    apps.append(local.app)
    ws = local.workspace
    for team_id, name, rows, refs in (
        ("T1", "First Council", FIRST, "IPS"),
        ("T2", "Second Council", SECOND, "NOR"),
    ):
        await install(ws.base_url, ws.add_team(team_id, name))
        async with db.transaction() as session:
            await import_staff(session, team_id, parse(StaffRow, csv(STAFF_HEADER, *rows)).rows)
            worker = rows[1].split(",")[0]
            from bot.imports import ChildRow

            children = csv("child_ref,allocated_to,status", *[f"{refs}{i:03d},{worker},cp" for i in range(26)])
            parsed = parse(ChildRow, children)
            await import_children(session, team_id, parsed.rows, clock.now().date(), columns=parsed.columns)
        for row in rows:
            user_id, person = row.split(",")[:2]
            ws.add_user(user_id, user_id, person, team_id=team_id)
    yield local
    await local.stop()


async def install(base_url: str, code: str) -> None:
    """A workspace admin clicks "Add to Slack" and approves, as Slack's OAuth v2 runs it."""
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base_url}/slack/install") as response:
            page = await response.text()
            assert response.status == 200
            # The state cookie is Secure (Slack installs run over https); carry it by hand here.
            cookie = response.cookies["slack-app-oauth-state"].value
        state = re.search(r"state=([^&\"]+)", page)
        assert state is not None, page
        async with http.get(
            f"{base_url}/slack/oauth_redirect?code={code}&state={state.group(1)}",
            headers={"Cookie": f"slack-app-oauth-state={cookie}"},
        ) as response:
            assert response.status == 200, await response.text()


async def test_each_workspace_sees_only_its_own_people_and_children(installed: Local) -> None:
    ws = installed.workspace

    await ws.command("mgr1", "/caseload team")
    await ws.command("mgr2", "/caseload team")
    await ws.command("sam", "/caseload")
    await ws.settle()

    first = " ".join(m.text + str(m.blocks) for m in ws.dms_to("mgr1"))
    second = " ".join(m.text + str(m.blocks) for m in ws.dms_to("mgr2") + ws.dms_to("sam"))
    assert "Priya Shah: 26 of 25" in first and "Sam" not in first and "Norwich" not in first
    assert "Sam Turner: 26 of 25" in second and "Priya" not in second and "Ipswich" not in second


async def test_alerts_go_to_each_workspace_with_its_own_token_and_never_across(installed: Local) -> None:
    ws = installed.workspace

    sends = await tick(installed.deps, installed.deps.clock.now(), only="caseload.alerts")

    assert {s.outcome for s in sends} == {"sent"}
    to_first = [m for m in ws.dms_to("mgr1") if "over their cap" in m.text]
    to_second = [m for m in ws.dms_to("mgr2") if "over their cap" in m.text]
    assert [m.team_id for m in to_first] == ["T1"] and "Priya" in to_first[0].text
    assert [m.team_id for m in to_second] == ["T2"] and "Sam" in to_second[0].text


async def test_app_home_in_one_workspace_shows_nothing_of_the_other(installed: Local) -> None:
    ws = installed.workspace

    await ws.open_home("mgr2")
    await ws.settle()

    home = str(ws.home_of("mgr2"))
    assert "Sam Turner" in home and "Priya" not in home


async def test_a_workspace_that_never_installed_the_app_is_refused(installed: Local) -> None:
    ws = installed.workspace
    ws.add_user("stranger", "stranger", "Stranger", team_id="T9")

    status, _ = await ws.command("stranger", "/caseload")

    replies = " ".join(m.text for m in ws.dms_to("stranger"))
    assert "install" in replies.lower()
    assert "Priya" not in replies and "Sam" not in replies and "cap" not in replies
