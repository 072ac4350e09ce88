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
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse


class Pacer:
    """Hands out evenly spaced start times per method, first come first served."""

    def __init__(self, rates: dict[str, float]) -> None:
        self.rates = {m: r for m, r in rates.items() if r > 0}
        self._next: dict[str, float] = {}

    def delay(self, method: str) -> float:
        """Seconds to wait before calling `method` now; reserves that slot."""
        rate = self.rates.get(method)
        if rate is None:
            return 0.0
        now = time.monotonic()
        at = max(now, self._next.get(method, now))
        self._next[method] = at + 1.0 / rate
        return at - now

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
