"""Shared pieces for benchmarks: timing, percentiles, the results table.

Every benchmark measures its floor in the same run and reports a ratio,
because this machine is shared and absolute times drift.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import event


@dataclass(frozen=True)
class Result:
    name: str
    ours: float
    floor: float
    unit: str
    target: float | None
    note: str = ""
    # False when a check beside the timing failed (a double booking, a lost message):
    # then the target is missed whatever the ratio.
    sound: bool = True

    @property
    def ratio(self) -> float:
        return self.ours / self.floor if self.floor > 0 else float("inf")

    @property
    def met(self) -> bool | None:
        if self.target is None:
            return None if self.sound else False
        return self.sound and self.ratio <= self.target

    def row(self) -> str:
        target = f"≤ {self.target:g}x" if self.target is not None else "-"
        verdict = {True: "met", False: "MISSED", None: "-"}[self.met]
        return (
            f"| {self.name} | {self.ours:.2f} {self.unit} | {self.floor:.2f} {self.unit} | "
            f"{self.ratio:.2f}x | {target} | {verdict} | {self.note} |"
        )


HEADER = "| benchmark | ours | floor | ratio | target | verdict | note |\n| --- | --- | --- | --- | --- | --- | --- |"


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
        changed = subprocess.run(["git", "status", "--porcelain"], capture_output=True, text=True).stdout.strip()
        commit += " with uncommitted changes" if changed else ""
    except OSError:
        commit = "?"
    # The machine is shared: the load average (last minute) says how busy it was at the end.
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {commit}, load average {os.getloadavg()[0]:.1f} at the end"
    )


def write_results(results: list[Result], notes: list[str], path: Path, findings: str = "") -> str:
    table = "\n".join([HEADER, *(r.row() for r in results)])
    text = f"# Benchmark results\n\nMachine: {machine()}\n\n{table}\n"
    if notes:
        text += "\n" + "\n".join(f"- {n}" for n in notes) + "\n"
    if findings:
        text += "\n" + findings.strip() + "\n"
    path.write_text(text)
    return table


# --- processes, queries, HTTP ------------------------------------------------------


class Process:
    """A `python -m bench.serve ROLE` (or any) child process that prints a JSON line when ready."""

    def __init__(self, proc: asyncio.subprocess.Process, info: dict[str, Any]) -> None:
        self.proc = proc
        self.info = info

    @property
    def url(self) -> str:
        return str(self.info["url"])

    @property
    def pid(self) -> int:
        return int(self.proc.pid)

    @classmethod
    async def start(cls, *args: str, within: float = 120.0) -> Process:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.serve", *args, stdout=asyncio.subprocess.PIPE, cwd=ROOT
        )
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), within)
        if not line:
            await proc.wait()
            raise RuntimeError(f"bench.serve {args[0]} exited with {proc.returncode} before it was ready")
        return cls(proc, json.loads(line))

    async def stop(self) -> None:
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), 30)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()


ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def counting_queries(engine: Any) -> Iterator[list[str]]:
    """Every SQL statement `engine` sends while the block runs."""
    statements: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", before)


async def get_json(url: str) -> Any:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return await response.json()


async def post_json(url: str, data: Any = None) -> Any:
    async with aiohttp.ClientSession() as http, http.post(url, json=data or {}) as response:
        return await response.json()


def rss_mb(pid: int) -> tuple[float, float]:
    """(resident now, peak resident) of `pid` in MB, from /proc (no psutil)."""
    fields: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return fields["VmRSS"], fields["VmHWM"]
