"""Reading a big query a team at a time, beside another read in the same team order.

The morning jobs go over a whole authority (40,000 children in a large one). Read in
one go, a query's rows, and what is built from them, are a peak of tens of megabytes
that CPython keeps as resident memory long after (its arenas are rarely freed whole).
Streamed in team order instead (a server-side cursor), a job holds one team's rows at
a time, in the same constant number of queries.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Generic, TypeVar

T = TypeVar("T")

# Rows fetched at a time by a streamed query: a few teams' worth.
STREAM_CHUNK = 1_000


class ByTeam(Generic[T]):
    """What a stream of (team id, value), in team id order, has for each team asked about.

    Ask in ascending team id order (the order of the other read): the stream is read
    forward only as far as the team asked about, skipping teams nobody asks about.
    """

    def __init__(self, stream: AsyncIterator[tuple[int, T]]) -> None:
        self._stream = stream
        self._next: tuple[int, T] | None = None
        self._started = False

    async def get(self, team_id: int, default: T) -> T:
        if not self._started:
            self._started = True
            self._next = await anext(self._stream, None)
        while self._next is not None and self._next[0] < team_id:
            self._next = await anext(self._stream, None)
        if self._next is not None and self._next[0] == team_id:
            return self._next[1]
        return default
