"""Shared pieces for benchmarks: timing, percentiles, the results table.

Every benchmark measures its floor in the same run and reports a ratio,
because this machine is shared and absolute times drift.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path


@dataclass(frozen=True)
class Result:
    name: str
    ours: float
    floor: float
    unit: str
    target: float | None
    note: str = ""

    @property
    def ratio(self) -> float:
        return self.ours / self.floor if self.floor > 0 else float("inf")

    @property
    def met(self) -> bool | None:
        return None if self.target is None else self.ratio <= self.target

    def row(self) -> str:
        target = f"≤ {self.target:g}x" if self.target is not None else "-"
        verdict = {True: "met", False: "MISSED", None: "-"}[self.met]
        return (
            f"| {self.name} | {self.ours:.2f} {self.unit} | {self.floor:.2f} {self.unit} | "
            f"{self.ratio:.2f}x | {target} | {verdict} | {self.note} |"
        )


HEADER = (
    "| benchmark | ours | floor | ratio | target | verdict | note |\n"
    "| --- | --- | --- | --- | --- | --- | --- |"
)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


async def timed(work: Callable[[], Awaitable[object]]) -> float:
    started = time.perf_counter()
    await work()
    return time.perf_counter() - started


def machine() -> str:
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    except OSError:
        commit = "?"
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {commit}"
    )


def write_results(results: list[Result], notes: list[str], path: Path) -> str:
    table = "\n".join([HEADER, *(r.row() for r in results)])
    text = f"# Benchmark results\n\nMachine: {machine()}\n\n{table}\n"
    if notes:
        text += "\n" + "\n".join(f"- {n}" for n in notes) + "\n"
    path.write_text(text)
    return table
