"""Weekly digests: every team's digest, against one hand-written SQL query.

Ours is `schedules.visits.team_digests` (what the Monday job posts, minus
the posting). The floor is a single SQL statement that works out, per team,
the same figures: obligations overdue, obligations due by Sunday, and visits
on time over the last four weeks. SQL cannot sensibly hold the rules engine
(working days and bank holidays, five CLA regimes, first-review guesses), so
the floor uses calendar-day approximations of the same rules (10 working
days as 14 days, and so on); its totals are printed beside ours to show they
are the same figures, near enough. Also counts the queries a digest run
sends, for the large authority (120 teams) and the small demo (5 teams).
"""

from __future__ import annotations

import statistics
import time
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Date, bindparam, text

from bench.authority import LARGE, SMALL, TODAY
from bench.common import Result, counting_queries
from bot.app import Deps
from bot.visits import Compliance, week_bounds
from schedules.visits import team_digests
from storage.visits import history_start

REPEATS = 3


def _add(dialect: str, day: str, days: str) -> str:
    if dialect == "sqlite":
        return f"date({day}, '+' || ({days}) || ' days')"
    return f"(({day}) + ({days}))"


def floor_sql(dialect: str) -> str:
    a = lambda day, days: _add(dialect, day, str(days))  # noqa: E731 - a local shorthand
    counted = "CASE WHEN last IS NOT NULL AND (since IS NULL OR last >= since) THEN last END"
    start = "COALESCE(pstart, since)"
    visit_due = f"""CASE status
        WHEN 'cp' THEN {a(f"COALESCE({counted}, since)", 14)}
        WHEN 'cin' THEN {a(f"COALESCE({counted}, since)", 28)}
        WHEN 'cla' THEN CASE WHEN last IS NOT NULL AND ({start} IS NULL OR last >= {start})
                             THEN {a("last", "gap")} ELSE {a(start, 7)} END
        WHEN 'care_leaver' THEN CASE WHEN pstart IS NOT NULL AND (last IS NULL OR pstart > last)
                                     THEN {a("pstart", 7)} ELSE {a("COALESCE(last, since)", 61)} END
        WHEN 'private_fostering' THEN CASE WHEN {counted} IS NOT NULL THEN {a("last", "gap")}
                                           ELSE {a("since", 9)} END
        END"""
    other_due = f"""CASE status
        WHEN 'cp' THEN CASE WHEN review IS NOT NULL AND (since IS NULL OR review > since)
                            THEN {a("review", 183)} ELSE {a("since", 91)} END
        WHEN 'cla' THEN CASE WHEN review IS NOT NULL AND (since IS NULL OR review >= since)
                             THEN {a("review", f"CASE WHEN review < {a('since', 122)} THEN 91 ELSE 183 END")}
                             ELSE {a("since", 28)} END
        WHEN 'care_leaver' THEN {a("COALESCE(review, since)", 183)}
        WHEN 'assessment' THEN {a("since", 63)}
        END"""
    GAP = """CASE c.status WHEN 'cp' THEN 14 WHEN 'cin' THEN 28 WHEN 'care_leaver' THEN 61
                WHEN 'private_fostering' THEN 42
                WHEN 'cla' THEN CASE WHEN c.placement_type = 'long_term' THEN 91 ELSE 42 END END"""
    return f"""
WITH latest AS (
    SELECT child_id, MAX(visited_on) AS lv FROM visits
    WHERE workspace_id = :ws AND kind = 'statutory' GROUP BY child_id
), held AS (
    SELECT s.team_id, c.id, c.status, c.status_since AS since, c.placement_start AS pstart,
           c.last_review_on AS review,
           CASE WHEN c.last_visit_on IS NULL THEN l.lv
                WHEN l.lv IS NULL OR c.last_visit_on >= l.lv THEN c.last_visit_on ELSE l.lv END AS last,
           {GAP} AS gap
    FROM children c JOIN staff s ON s.id = c.allocated_to LEFT JOIN latest l ON l.child_id = c.id
    WHERE c.workspace_id = :ws AND s.workspace_id = :ws
), dues AS (
    SELECT team_id, {visit_due} AS due FROM held
    UNION ALL
    SELECT team_id, {other_due} AS due FROM held
), recent AS (
    SELECT child_id, visited_on,
           LAG(visited_on) OVER (PARTITION BY child_id ORDER BY visited_on) AS prev
    FROM visits WHERE workspace_id = :ws AND kind = 'statutory' AND visited_on >= :history_from
), compliance AS (
    SELECT s.team_id, COUNT(*) AS due,
           SUM(CASE WHEN r.prev IS NULL OR r.visited_on <= {a("r.prev", GAP)} THEN 1 ELSE 0 END) AS on_time
    FROM recent r JOIN children c ON c.id = r.child_id JOIN staff s ON s.id = c.allocated_to
    WHERE r.visited_on >= :window_start AND r.visited_on <= :window_end
      AND c.workspace_id = :ws AND c.status IN ('cp', 'cin', 'cla', 'care_leaver', 'private_fostering')
    GROUP BY s.team_id
), per_team AS (
    SELECT team_id,
           SUM(CASE WHEN due < :today THEN 1 ELSE 0 END) AS overdue,
           SUM(CASE WHEN due >= :today AND due <= :sunday THEN 1 ELSE 0 END) AS due_this_week
    FROM dues WHERE due IS NOT NULL GROUP BY team_id
)
SELECT p.team_id, p.overdue, p.due_this_week, COALESCE(c.on_time, 0), COALESCE(c.due, 0)
FROM per_team p LEFT JOIN compliance c ON c.team_id = p.team_id
"""


async def floor_digests(deps: Deps, workspace_id: str, on: date) -> list[tuple[Any, ...]]:
    dialect = deps.db.engine.dialect.name
    statement = text(floor_sql(dialect)).bindparams(
        *(bindparam(n, type_=Date) for n in ("history_from", "window_start", "window_end", "today", "sunday"))
    )
    _, sunday = week_bounds(on)
    params = {
        "ws": workspace_id,
        "history_from": history_start(on),
        "window_start": on - timedelta(days=28),
        "window_end": on - timedelta(days=1),
        "today": on,
        "sunday": sunday,
    }
    async with deps.db.engine.connect() as conn:
        return list((await conn.execute(statement, params)).all())


async def measure(deps: Deps) -> tuple[list[Result], list[str]]:
    on = TODAY
    await team_digests(deps, LARGE, on)  # warm: imports, caches, the database's own
    await floor_digests(deps, LARGE, on)
    ours_times, floor_times = [], []
    digests: dict[int, Any] = {}
    rows: list[tuple[Any, ...]] = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        rows = await floor_digests(deps, LARGE, on)
        floor_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        digests = await team_digests(deps, LARGE, on)
        ours_times.append(time.perf_counter() - started)
    with counting_queries(deps.db.engine) as large_queries:
        await team_digests(deps, LARGE, on)
    with counting_queries(deps.db.engine) as small_queries:
        small = await team_digests(deps, SMALL, on)
    ours_overdue = sum(len(d.overdue) for d in digests.values())
    ours_week = sum(d.due_this_week for d in digests.values())
    ours_compliance = sum((d.compliance for d in digests.values()), Compliance())
    floor_overdue = sum(int(r[1]) for r in rows)
    floor_week = sum(int(r[2]) for r in rows)
    floor_compliance = Compliance(sum(int(r[3]) for r in rows), sum(int(r[4]) for r in rows))
    note = (
        f"{len(digests)} teams; queries per run: {len(large_queries)} for {len(digests)} teams, "
        f"{len(small_queries)} for {len(small)} teams"
    )
    figures = (
        f"digest figures, ours vs the floor's SQL (calendar-day approximation of the rules): "
        f"overdue {ours_overdue} vs {floor_overdue}, due this week {ours_week} vs {floor_week}, "
        f"on time {ours_compliance.percent}% vs {floor_compliance.percent}%"
    )
    results = [
        Result(
            "weekly digests, every team", statistics.median(ours_times), statistics.median(floor_times), "s", 2.0, note
        ),
        Result(
            "digest queries, 120 teams vs 5",
            float(len(large_queries)),
            float(len(small_queries)),
            "queries",
            1.0,
            "must not grow with teams",
        ),
    ]
    return results, [figures]
