"""`make bench` (`python -m bench`): every benchmark on SQLite and PostgreSQL, one table.

Builds the large synthetic authority on both databases (PostgreSQL is a
throwaway server, as in the tests), runs each benchmark against its floor
measured in the same run, prints the table and writes bench/RESULTS.md.
Takes several minutes. `--only ack,desks` and `--db sqlite` narrow a run for
profiling (and then leave RESULTS.md alone unless `--write`).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import time
from dataclasses import replace
from pathlib import Path

from bench.authority import LARGE, NOW, Backend, prepare, scratch, settings_for, sqlite_backend
from bench.common import Result, write_results

BENCHES = ("digests", "reminders", "desks", "ack", "fanout", "memory", "imports")
RESULTS = Path(__file__).with_name("RESULTS.md")


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


async def run_backend(backend: Backend, only: set[str], folder: Path) -> tuple[list[Result], list[str]]:
    from bot.clock import FixedClock, parse_now
    from bot.runtime import build_deps
    from bot.server import settle_heap

    results: list[Result] = []
    notes: list[str] = []
    say(f"[{backend.name}] seeding the large authority ...")
    await prepare(backend, folder)
    assert backend.seeded is not None
    s = backend.seeded
    notes.append(
        f"{backend.name}: seeded {s.staff} staff, {s.children} children, {s.visits} visits, "
        f"{s.desks} desks, {s.bookings} desk bookings in {backend.seed_seconds:.0f}s (bulk inserts)"
    )
    deps = build_deps(settings_for(backend.url), FixedClock(parse_now(NOW)), workspace_id=LARGE)
    # As `practice-bot run` does after start-up: what setting up made is out of the garbage
    # collector's way, so a full collection in the middle of a timed run walks only what
    # that run made (bot.server.settle_heap).
    settle_heap()

    def add(found: list[Result]) -> None:
        for r in found:
            say(f"[{backend.name}] {r.row()}")
        results.extend(replace(r, name=f"{r.name} ({backend.name})") for r in found)

    try:
        if "digests" in only:
            from bench import bench_digests

            say(f"[{backend.name}] weekly digests ...")
            found, extra = await bench_digests.measure(deps)
            add(found)
            notes += [f"{backend.name}: {n}" for n in extra]
        if "reminders" in only:
            from bench import bench_reminders

            say(f"[{backend.name}] morning reminders ...")
            add(await bench_reminders.measure(deps))
        if "desks" in only:
            from bench import bench_desks

            say(f"[{backend.name}] desk contention ...")
            found, extra = await bench_desks.measure(deps)
            add(found)
            notes += [f"{backend.name}: {n}" for n in extra]
    finally:
        await deps.db.dispose()
    for name, module in (("ack", "bench_ack"), ("fanout", "bench_fanout")):
        if name in only:
            say(f"[{backend.name}] {name} ...")
            bench = __import__(f"bench.{module}", fromlist=["measure"])
            found, extra = await bench.measure(backend)
            add(found)
            notes += [f"{backend.name}: {n}" for n in extra]
    if "memory" in only:
        from bench import bench_memory
        from bench.authority import keep_only

        say(f"[{backend.name}] memory of practice-bot run ...")
        await keep_only(backend.url, LARGE)
        found, extra = await bench_memory.measure(backend, folder)
        add(found)
        notes += [f"{backend.name}: {n}" for n in extra]
    return results, notes


async def run_imports() -> Result:
    from bench.bench_imports import import_into_sqlite, read_only, workbook

    data = workbook()
    floor = read_only(data)
    folder = scratch()
    try:
        took, created = await import_into_sqlite(data, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return Result("Annex A import, 10,000 rows", took, floor, "s", None, f"{created} rows; floor: openpyxl reading it")


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", help=f"comma-separated, from: {', '.join(BENCHES)}")
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--write", action="store_true", help="write bench/RESULTS.md even for a partial run")
    args = parser.parse_args(argv)
    only = set(args.only.split(",")) if args.only else set(BENCHES)
    unknown = only - set(BENCHES)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    started = time.perf_counter()
    folder = scratch()
    results: list[Result] = []
    notes: list[str] = []
    try:
        if args.db in ("sqlite", "both"):
            found, extra = await run_backend(sqlite_backend(folder), only, folder)
            results += found
            notes += extra
        if args.db in ("postgresql", "both"):
            from tests.pg import start_postgres

            server = await asyncio.to_thread(start_postgres)
            try:
                found, extra = await run_backend(Backend("PostgreSQL", server.url), only, folder)
                results += found
                notes += extra
            finally:
                await asyncio.to_thread(server.stop)
        if "imports" in only:
            say("Annex A import ...")
            results.append(await run_imports())
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    elapsed = time.perf_counter() - started
    notes.append(f"the whole run took {elapsed / 60:.1f} minutes")
    full = only == set(BENCHES) and args.db == "both"
    if full or args.write:
        findings = Path(__file__).with_name("FINDINGS.md").read_text()
        table = write_results(results, notes, RESULTS, findings)
    else:
        from bench.common import HEADER

        table = "\n".join([HEADER, *(r.row() for r in results)])
    print(table)
    for note in notes:
        print(f"- {note}")
    missed = [r for r in results if r.met is False]
    print(f"\n{len(results) - len(missed)} of {len(results)} rows met or untargeted; missed: {len(missed)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
