"""Keeping the resident memory of a long-running bot close to what it uses (glibc, Linux).

C's allocator (glibc malloc) holds on to what Python, SQLite and the drivers free: a
morning's jobs over a large authority leave megabytes free but resident. Two cheap,
standard remedies, both no-ops where they don't apply (macOS, musl):

- fewer malloc arenas: glibc gives each thread that allocates (aiosqlite runs one per
  database connection, asyncio's resolver more) an arena of its own, up to 8 per core,
  and each keeps its own free memory. Two serve an asyncio process as well;
- `malloc_trim(0)` after a burst of work (start-up's catch-up, a scheduled job): hands
  back the free pages inside every arena.

Measured on the large authority (bench_memory): 7-8 MB less resident after the
catch-up, and no growth from the arenas while serving 2,000 commands.
"""

from __future__ import annotations

import ctypes
import os
import sys
from functools import cache

# mallopt's parameter for the most arenas (malloc.h); MALLOC_ARENA_MAX in the environment
# sets the same, and wins: an operator's choice is left alone.
M_ARENA_MAX = -8
ARENAS = 2


@cache
def _glibc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None


def limit_arenas(arenas: int = ARENAS) -> bool:
    """At most `arenas` malloc arenas from now on; call it before threads start. True if set."""
    libc = _glibc()
    if libc is None or "MALLOC_ARENA_MAX" in os.environ:
        return False
    return bool(libc.mallopt(M_ARENA_MAX, arenas))


def trim() -> bool:
    """Give the free memory malloc holds back to the operating system. True if any was."""
    libc = _glibc()
    return libc is not None and bool(libc.malloc_trim(0))
