"""Morning reminders: every worker's due list for the day, against reading the rows it needs.

Ours is `schedules.visits.due_lists` (what the 08:30 job computes before it
sends). The floor is one hand-written SELECT of exactly the columns the due
lists are built from (each allocated child's facts, its worker, and its
latest recorded visit) executed through the driver and fetched as plain
tuples: no ORM, no rules, nothing built.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from sqlalchemy import text

from bench.authority import LARGE, TODAY
from bench.common import Result
from bot.app import Deps
from schedules.visits import due_lists

REPEATS = 3

READ = text(
    """
SELECT c.id, c.child_ref, c.status, c.status_since, c.placement_start, c.placement_type,
       c.last_visit_on, c.last_review_on, l.lv, s.id, s.name, s.slack_user_id, s.team_id
FROM children c
JOIN staff s ON s.id = c.allocated_to
LEFT JOIN (
    SELECT child_id, MAX(visited_on) AS lv FROM visits
    WHERE workspace_id = :ws AND kind = 'statutory' GROUP BY child_id
) l ON l.child_id = c.id
WHERE c.workspace_id = :ws AND s.workspace_id = :ws
"""
)


async def read_rows(deps: Deps, workspace_id: str) -> list[Any]:
    async with deps.db.engine.connect() as conn:
        return list((await conn.execute(READ, {"ws": workspace_id})).all())


async def measure(deps: Deps) -> list[Result]:
    await due_lists(deps, LARGE, TODAY)
    await read_rows(deps, LARGE)
    ours_times, floor_times = [], []
    lists: dict[str, Any] = {}
    rows: list[Any] = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        rows = await read_rows(deps, LARGE)
        floor_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        lists = await due_lists(deps, LARGE, TODAY)
        ours_times.append(time.perf_counter() - started)
    children = sum(len(v) for v in lists.values())
    note = f"{len(rows)} children read; {len(lists)} workers with {children} children due"
    return [
        Result(
            "morning reminders, every worker",
            statistics.median(ours_times),
            statistics.median(floor_times),
            "s",
            2.0,
            note,
        )
    ]
