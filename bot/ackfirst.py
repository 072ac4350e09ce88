"""Acks before follow-up work, within one process.

Slack waits 3 seconds for an ack and then shows the person an error; a reply
through response_url may come any time in the next 30 minutes. Bolt acks, then
runs the rest of the listener on the same event loop, so under a burst (a whole
office typing /visits at nine on Monday) the database work after one request's
ack queues ahead of the next request's ack. Here a listener that has acked
waits, before its follow-up work, until no other request in this process is
still waiting for its ack, for at most `max_wait` seconds: acks go first, and
nothing waits long (a trigger_id for a modal stays fresh for 3 seconds).

`dispatch_request` (bot/app.py) counts requests in and gives each this ack; it
counts a request out when its listener acks, or when the dispatch ends without
one (say a middleware answered, or swapped in an ack of its own).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import weakref
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck


class _Pending:
    """One request not yet acked: how many had arrived with it, and whether it came alone."""

    __slots__ = ("arrivals", "counted", "after_a_lull")

    def __init__(self, arrivals: int, after_a_lull: bool) -> None:
        self.counted = True
        self.arrivals = arrivals
        self.after_a_lull = after_a_lull


class AckGate:
    """Counts requests waiting for their ack; follow-up work waits for the count to reach 0.

    A burst reaches the bot over a few milliseconds, not at one instant, so when others
    arrived around a request, "nobody waiting" also needs `linger` seconds without a new
    arrival: otherwise the first requests' work starts before the last ones have even been
    read. 40 ms: at 20, on PostgreSQL (whose driver works on the event loop itself), the
    first replies' work still overtook the last acks of a burst of 50. A request on its
    own (after a lull, none since) goes on the moment it has acked.
    """

    def __init__(self, max_wait: float = 0.5, linger: float = 0.04, max_waiting: int = 100) -> None:
        self.max_wait = max_wait
        self.linger = linger
        # Past this many follow-ups held back, more load than the process can answer is
        # arriving: holding more back would only pile up requests in memory, so they run.
        self.max_waiting = max_waiting
        self.waiting = 0
        self.pending = 0
        self._arrivals = 0
        self._last_arrival = 0.0
        self._quiet = asyncio.Event()
        self._quiet.set()

    def arrive(self) -> _Pending:
        now = time.monotonic()
        lull = not self.pending and now - self._last_arrival >= self.linger
        self.pending += 1
        self._arrivals += 1
        self._last_arrival = now
        self._quiet.clear()
        return _Pending(self._arrivals, lull)

    def acked(self, token: _Pending) -> None:
        if token.counted:
            token.counted = False
            self.pending -= 1
            if self.pending == 0:
                self._quiet.set()

    async def quiet(self, token: _Pending | None = None) -> None:
        """Until no request waits for its ack and none has just arrived, or `max_wait` has passed.

        With the `token` of the request whose work this is: at once, if that request came
        alone (after a lull, and no other has arrived since).
        """
        if self.waiting >= self.max_waiting:
            return
        if token is not None and token.after_a_lull and not self.pending and self._arrivals == token.arrivals:
            return
        self.waiting += 1
        try:
            await self._quiet_for(time.monotonic() + self.max_wait)
        finally:
            self.waiting -= 1

    async def _quiet_for(self, deadline: float) -> None:
        while True:
            now = time.monotonic()
            if now >= deadline:
                return
            if self.pending:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._quiet.wait(), deadline - now)
                continue
            settled = self._last_arrival + self.linger
            if now >= settled:
                return
            await asyncio.sleep(min(settled, deadline) - now)


class AckThenYield(AsyncAck):
    """The request's own ack, then a wait for other requests' acks before the listener goes on."""

    def __init__(self, inner: AsyncAck, gate: AckGate, token: _Pending) -> None:
        # No super().__init__(): `response` lives on the inner ack, which Bolt's runner polls.
        self._inner = inner
        self._gate = gate
        self._token = token

    @property
    def response(self) -> Any:
        return self._inner.response

    @response.setter
    def response(self, value: Any) -> None:
        self._inner.response = value

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        result = await self._inner(*args, **kwargs)
        self._gate.acked(self._token)
        await self._gate.quiet(self._token)
        return result


# Each app made by create_app, and its gate.
GATES: weakref.WeakKeyDictionary[AsyncApp, AckGate] = weakref.WeakKeyDictionary()
