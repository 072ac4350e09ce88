"""The local workspace page in a real browser (headless Chromium) against `practice-bot run`.

Someone opens the page, picks who they are, types a command and reads the
answer; a manager opens App Home and sees their team. Nothing is faked: the
server is the real command on a SQLite file with the demo authority seeded.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from tests.served import Served, running

NOW = "2026-11-23T09:00"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Debian's Chromium, not Playwright's download (`playwright install` can't run here).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TOM = "U000003"  # Tom Hughes, 5 months qualified, 14 children (demo authority)
GRACE = "U000001"  # Grace Okafor, manager of Ipswich CIN 2


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("browser")
    with running(f"sqlite+aiosqlite:///{root}/browser.db", cwd=root, now=NOW) as bots:
        yield bots[0]


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # PRACTICE_BOT_SCREENSHOTS keeps them somewhere you can look at them afterwards.
    wanted = os.environ.get("PRACTICE_BOT_SCREENSHOTS")
    folder = Path(wanted) if wanted else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def pg(served: Served) -> Iterator[Page]:
    if not Path(CHROMIUM).exists():
        raise AssertionError("Chromium is not installed: `.ci/run` installs it (apt-get install chromium)")
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-GB")
            page = context.new_page()
            page.set_default_timeout(15_000)
            page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
            page.on(
                "console",
                lambda message: problems.append(f"console: {message.text}") if message.type == "error" else None,
            )
            page.on(
                "response",
                lambda response: (
                    problems.append(f"HTTP {response.status}: {response.url}") if response.status >= 400 else None
                ),
            )
            page.goto(served.url + "/")
            yield page
        finally:
            browser.close()
    # The page must not have thrown anything while we used it.
    assert problems == [], problems


def be(pg: Page, user_id: str) -> None:
    """Pick who you are from the 'You are' list, as a person does."""
    pg.wait_for_selector(f'#user-select option[value="{user_id}"]', state="attached")
    pg.select_option("#user-select", user_id)
    expect(pg.locator("#composer-input")).to_be_enabled()


def test_a_worker_picks_themselves_types_caseload_and_reads_that_they_have_room_for_1_more(
    pg: Page, screenshots: Path
) -> None:
    be(pg, TOM)
    expect(pg.locator("#pane-title")).to_have_text("Practice Bot")  # their DM with the bot

    pg.fill("#composer-input", "/caseload")
    pg.press("#composer-input", "Enter")

    pane = pg.locator("#pane")
    expect(pane).to_contain_text("You hold 14 children against your cap of 15: room for 1 more.")
    pg.screenshot(path=str(screenshots / "worker-caseload.png"), full_page=True)
    assert pg.locator("#status.error").count() == 0


def test_a_manager_opens_app_home_and_sees_the_team_table(pg: Page, screenshots: Path) -> None:
    be(pg, GRACE)

    pg.locator("#conv-list button.nav-item", has_text="Home").click()

    expect(pg.locator("#pane-title")).to_have_text("Home")
    home = pg.locator("#pane .home-view")
    expect(home).to_contain_text("Tom Hughes: 14 of 15")
    expect(home).to_contain_text("Priya Shah: 26 of 25")
    pg.screenshot(path=str(screenshots / "manager-home.png"), full_page=True)
    assert pg.locator("#status.error").count() == 0
