"""Pacing calls to Slack: a steady rate per Web API method, instead of bursts and 429s.

Slack limits chat.postMessage to about one message a second per channel and,
across a workspace, to a rate it does not publish; past it, it answers 429
with Retry-After and the client waits whole seconds. A job sending 2,000
morning reminders as fast as it can would spend most of its time waiting
out 429s. Spaced at the workspace's rate instead, it takes as long as the
limit allows and no longer; a 429 that still comes is retried as before.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse


class Pacer:
    """Hands out evenly spaced start times per method, first come first served.

    A sender that fell behind its schedule (a slow reply, a slow commit) may make up
    the lost time by starting sooner, by at most `catch_up` seconds: on average it
    keeps the rate instead of losing a little at every hiccup, and the few calls
    it makes up are a burst well inside Slack's (which allows a burst of about a
    second's worth). Further behind, or idle, it starts afresh from now.
    """

    def __init__(
        self,
        rates: dict[str, float],
        catch_up: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rates = {m: r for m, r in rates.items() if r > 0}
        self.catch_up = catch_up
        self.clock = clock
        self._next: dict[str, float] = {}

    def delay(self, method: str) -> float:
        """Seconds to wait before calling `method` now; reserves that slot."""
        rate = self.rates.get(method)
        if rate is None:
            return 0.0
        now = self.clock()
        due = self._next.get(method, now)
        if now - due > self.catch_up:
            due = now
        self._next[method] = due + 1.0 / rate
        return max(0.0, due - now)

    async def wait(self, method: str) -> None:
        pause = self.delay(method)
        if pause > 0:
            await asyncio.sleep(pause)


class PacedWebClient(AsyncWebClient):
    """An AsyncWebClient whose calls to paced methods wait for their slot first."""

    def __init__(self, *args: Any, pacer: Pacer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pacer = pacer

    async def api_call(self, api_method: str, **kwargs: Any) -> AsyncSlackResponse:
        await self.pacer.wait(api_method)
        return await super().api_call(api_method, **kwargs)
