"""Slack listeners, one module per feature, each with `register(app, deps)`."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.app import Deps


def register_all(app: AsyncApp, deps: Deps) -> None:
    from handlers import caseload, home, messages

    for feature in (caseload, home, messages):
        feature.register(app, deps)
