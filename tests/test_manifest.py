"""manifest.yml matches the listeners the app really registers, and asks for no more scopes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bot.app import SCOPES
from tests.support import Bot

MANIFEST = Path(__file__).parents[1] / "manifest.yml"


def registered(app: Any) -> dict[str, set[str]]:
    """What each listener matches on, read from Bolt's built-in matchers."""
    found: dict[str, set[str]] = {"command": set(), "event": set(), "action": set(), "view": set()}

    def walk(func: Any, depth: int = 0) -> list[tuple[str, Any]]:
        out = []
        for cell in getattr(func, "__closure__", None) or []:
            value = cell.cell_contents
            if callable(value) and depth < 4:
                out += walk(value, depth + 1)
            else:
                out.append((func.__qualname__.split(".")[0], value))
        return out

    for listener in app._async_listeners:  # noqa: SLF001 - Bolt offers no public listing
        for matcher in listener.matchers:
            for kind, value in walk(getattr(matcher, "func", None)):
                constraint = value.get("type") if isinstance(value, dict) else value
                if kind in ("command", "event", "action", "view") and isinstance(constraint, str):
                    found[kind].add(constraint)
    return found


async def test_every_command_in_the_app_is_in_the_manifest_and_the_reverse(bot: Bot) -> None:
    manifest = yaml.safe_load(MANIFEST.read_text())
    in_manifest = {c["command"] for c in manifest["features"]["slash_commands"]}

    assert in_manifest == registered(bot.local.app)["command"]


async def test_events_interactivity_and_home_match_the_listeners(bot: Bot) -> None:
    manifest = yaml.safe_load(MANIFEST.read_text())
    app = registered(bot.local.app)
    events = {e.split(".")[0] for e in manifest["settings"]["event_subscriptions"]["bot_events"]}

    assert events == app["event"]
    assert manifest["settings"]["interactivity"]["is_enabled"] == bool(app["action"] or app["view"])
    assert manifest["features"]["app_home"]["home_tab_enabled"] == ("app_home_opened" in app["event"])


def test_the_manifest_asks_for_exactly_the_scopes_the_bot_installs_with() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text())
    assert sorted(manifest["oauth_config"]["scopes"]["bot"]) == sorted(SCOPES)


def test_every_url_in_the_manifest_points_at_the_bots_routes() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text())
    urls = [c["url"] for c in manifest["features"]["slash_commands"]]
    urls += [
        manifest["settings"]["event_subscriptions"]["request_url"],
        manifest["settings"]["interactivity"]["request_url"],
    ]
    assert all(u.endswith("/slack/events") for u in urls)
    assert manifest["oauth_config"]["redirect_urls"][0].endswith("/slack/oauth_redirect")
