"""Start-up memory: the heap handed back after a burst, and no more of `holidays` than England's.

Both are checked in a fresh interpreter, as `practice-bot run` starts.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

glibc_only = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's malloc only (Linux)")


def fresh_python(code: str, **env: str) -> str:
    environment = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"} | env
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment, check=True)
    return done.stdout.strip()


@glibc_only
def test_the_bot_keeps_two_malloc_arenas_and_can_hand_free_memory_back_after_a_burst() -> None:
    burst = "b = [bytes(4096) for _ in range(20_000)]; del b"
    code = f"from bot import heap; print(heap.limit_arenas()); {burst}; print(type(heap.trim()).__name__)"
    assert fresh_python(code).split() == ["True", "bool"]


@glibc_only
def test_an_operators_own_malloc_arena_max_is_left_alone() -> None:
    assert fresh_python("from bot import heap; print(heap.limit_arenas())", MALLOC_ARENA_MAX="4") == "False"


def test_england_bank_holidays_come_from_the_uk_calendar_alone_not_every_country_the_package_knows() -> None:
    code = """
import sys
from datetime import date
from bot.calendar import WorkingCalendar, england_bank_holidays
ours = england_bank_holidays(range(2020, 2031))
countries = sorted(m for m in sys.modules if m.startswith("holidays.countries."))
import holidays
theirs = frozenset(holidays.country_holidays("GB", subdiv="ENG", years=range(2020, 2031)).keys())
print(countries, ours == theirs, date(2026, 12, 28) in ours, WorkingCalendar().is_working_day(date(2026, 12, 28)))
"""
    assert fresh_python(code) == "['holidays.countries.united_kingdom'] True True False"
