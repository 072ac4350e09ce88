"""The clock is injected everywhere, so demos, tests and `--now` can pin it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


class Clock(Protocol):
    def now(self) -> datetime:
        """An aware datetime in the clock's zone."""
        ...


@dataclass(frozen=True)
class SystemClock:
    zone: ZoneInfo = LONDON

    def now(self) -> datetime:
        return datetime.now(self.zone)


@dataclass
class FixedClock:
    """A clock that only moves when told to: `--now`, demos and tests."""

    at: datetime

    def now(self) -> datetime:
        return self.at

    def set(self, at: datetime) -> None:
        self.at = at


def today(clock: Clock) -> date:
    return clock.now().date()


def parse_now(text: str, zone: ZoneInfo = LONDON) -> datetime:
    """Parse `--now` values: `2026-11-23`, `2026-11-23T09:00`, or with an offset.

    A naive value is read as local (Europe/London) wall time, which is what a
    person typing a date means.
    """
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(zone)
