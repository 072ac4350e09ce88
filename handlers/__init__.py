"""Slack listeners, one module per feature, each with `register(app, deps)`."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.app import Deps


def register_all(app: AsyncApp, deps: Deps) -> None:
    from handlers import caseload, desks, home, messages, visits, worries

    for feature in (caseload, home, messages, visits, desks, worries):
        feature.register(app, deps)
