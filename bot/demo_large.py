"""A large synthetic authority for benchmarks: `practice-bot demo --size large`.

2,000 staff in 120 teams across 6 offices, 40,000 children with a realistic
status mix, 400,000 historical visits and 1,500 desks. Seeded, so every run
makes the same authority relative to `today`; fake case references only.

Rows go in with bulk Core inserts (executemany, in chunks), not ORM objects:
the small demo's one-object-at-a-time seeding would take minutes here. Visit
histories follow the same rhythms as the rules engine (CP every 10 working
days, CIN every 20, CLA every 6 weeks or 3 months, care leavers every 2
months, private fostering every 6 weeks), with the last visit chosen so that,
on `today`, most children are fine, about a quarter due soon and about one in
ten overdue (a few past the manager's threshold).
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.calendar import WorkingCalendar, add_months
from bot.desks import DeskSpec, FloorSpec, Layout, OfficeSpec, ZoneSpec
from bot.visits import ChildFacts, PlacementType, Status, VisitRules, next_visit

CHUNK = 5_000


@dataclass(frozen=True)
class Size:
    offices: int
    teams: int
    staff: int
    children: int
    visits: int
    desks: int


LARGE = Size(offices=6, teams=120, staff=2_000, children=40_000, visits=400_000, desks=1_500)

OFFICES = ("Ipswich", "Lowestoft", "Bury St Edmunds", "Felixstowe", "Sudbury", "Haverhill")

# (kind of team, Team.kind, how many per office, status mix of the children it holds)
TEAM_KINDS: tuple[tuple[str, str, int, tuple[tuple[str, float], ...]], ...] = (
    ("Assessment", "social_work", 4, (("assessment", 0.75), ("cin", 0.15), ("cp", 0.10))),
    ("Safeguarding", "social_work", 5, (("cin", 0.55), ("cp", 0.45))),
    ("Children in Care", "social_work", 5, (("cla", 0.96), ("private_fostering", 0.04))),
    ("Leaving Care", "social_work", 2, (("care_leaver", 1.0),)),
    ("Early Help", "early_help", 4, (("early_help", 1.0),)),
)

FIRST = [
    "Aisha",
    "Amira",
    "Ben",
    "Chloe",
    "Dan",
    "Ellie",
    "Femi",
    "Grace",
    "Helen",
    "Jack",
    "Joe",
    "Kate",
    "Laura",
    "Lucy",
    "Martin",
    "Megan",
    "Nadia",
    "Olu",
    "Owen",
    "Paul",
    "Priya",
    "Rory",
    "Sam",
    "Sofia",
    "Tom",
    "Zara",
    "Aaron",
    "Bethany",
    "Callum",
    "Divya",
    "Ethan",
    "Fatima",
    "George",
    "Hannah",
    "Imran",
    "Jasmine",
    "Kieran",
    "Leah",
    "Mohammed",
    "Niamh",
    "Oscar",
    "Poppy",
    "Ravi",
    "Sian",
    "Tariq",
    "Uma",
]
LAST = [
    "Okafor",
    "Shah",
    "Hughes",
    "Rahman",
    "Whitfield",
    "Lloyd",
    "Adeyemi",
    "Marsh",
    "Burrows",
    "Costa",
    "Archer",
    "Dunn",
    "Patel",
    "Cole",
    "Ward",
    "Bello",
    "King",
    "Turner",
    "Hussain",
    "Simmons",
    "Fraser",
    "Said",
    "Grant",
    "Reed",
    "Ali",
    "Price",
    "Morgan",
    "Evans",
    "Khan",
    "Murphy",
    "Nowak",
    "Osei",
    "Quinn",
    "Roberts",
    "Singh",
    "Taylor",
    "Walsh",
    "Young",
    "Brennan",
    "Clarke",
    "Dawson",
    "Ellis",
]

_PLACEMENTS = (
    [PlacementType.FOSTER] * 10
    + [PlacementType.LONG_TERM] * 5
    + [PlacementType.RESIDENTIAL] * 2
    + [PlacementType.PLACED_WITH_PARENT]
    + [PlacementType.CONNECTED_PERSON_TEMPORARY]
    + [PlacementType.CARE_ORDER_AT_HOME]
)


def _chunks(rows: Sequence[dict[str, Any]], size: int = CHUNK) -> Iterator[Sequence[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


async def _bulk(session: AsyncSession, table: Any, rows: Sequence[dict[str, Any]]) -> None:
    """executemany in chunks: one round of parameters per chunk, no ORM objects."""
    for chunk in _chunks(rows):
        await session.execute(insert(table), list(chunk))


def _target_offset(rng: random.Random) -> int:
    """Days from today to a child's next visit: mostly fine, some due soon, a few overdue."""
    r = rng.random()
    if r < 0.03:
        return -rng.randint(9, 20)  # past the manager's threshold
    if r < 0.10:
        return -rng.randint(1, 6)
    if r < 0.34:
        return rng.randint(0, 7)
    return rng.randint(8, 60)


def _interval_days(status: Status, placement: PlacementType | None, long_settled: bool) -> int:
    """The usual gap between visits, in calendar days (working-day rules approximated)."""
    if status is Status.CP:
        return 14
    if status is Status.CIN:
        return 28
    if status is Status.CARE_LEAVER:
        return 60
    if status is Status.PRIVATE_FOSTERING:
        return 42
    if placement is PlacementType.LONG_TERM and long_settled:
        return 90
    if placement in (PlacementType.PLACED_WITH_PARENT, PlacementType.CONNECTED_PERSON_TEMPORARY):
        return 28  # past the first review: every 4 to 6 weeks
    return 42


def large_layout(team_names: dict[str, list[str]], desks: int = LARGE.desks) -> Layout:
    """Offices > floors > zones: each team's base zone, plus touchdown and quiet zones.

    `team_names` maps each office to its teams; desks are shared out evenly.
    """
    offices: list[OfficeSpec] = []
    per_office = desks // len(team_names)
    extra = desks - per_office * len(team_names)
    for o, (office, teams) in enumerate(team_names.items()):
        total = per_office + (1 if o < extra else 0)
        prefix = "".join(w[0] for w in office.split()).upper() + office[1:3].upper()
        # Base zones of 11 desks; what is left forms shared touchdown and quiet zones.
        base = 11
        shared = total - base * len(teams)
        zones: list[tuple[str, str | None, int]] = [(f"Base {t + 1}", n, base) for t, n in enumerate(teams)]
        quiet = max(1, shared // 3)
        zones += [("Touchdown", None, shared - quiet), ("Quiet room", None, quiet)]
        floors: list[FloorSpec] = []
        per_floor = 8
        for f in range(0, len(zones), per_floor):
            floor_zones: list[ZoneSpec] = []
            for name, team, count in zones[f : f + per_floor]:
                specs = []
                for d in range(count):
                    tags: list[str] = []
                    if d % 11 == 0:
                        tags.append("adjusted_chair")
                    if d % 3 == 1:
                        tags.append("dual_screen")
                    if d % 13 == 5:
                        tags.append("standing")
                    if d % 23 == 7:
                        tags.append("accessible")
                    if name == "Quiet room":
                        tags.append("quiet")
                    code = f"{prefix}-{len(floors) + 1}{name[0]}{zones.index((name, team, count)):02d}-{d + 1:02d}"
                    specs.append(DeskSpec(code=code, tags=tuple(sorted(set(tags)))))
                floor_zones.append(ZoneSpec(name=name, team_base=team, desks=tuple(specs)))
            floors.append(FloorSpec(name=f"Floor {len(floors) + 1}", zones=tuple(floor_zones)))
        offices.append(OfficeSpec(name=office, floors=tuple(floors)))
    return Layout(offices=tuple(offices))


def layout_toml(layout: Layout) -> str:
    """The layout as a file `practice-bot run` can load (policy [desks] layout_file)."""

    def quoted(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = ["# Generated by bot/demo_large.py: the large benchmark authority's offices.", ""]
    for office in layout.offices:
        lines += ["[[offices]]", f"name = {quoted(office.name)}", ""]
        for floor in office.floors:
            lines += ["  [[offices.floors]]", f"  name = {quoted(floor.name)}", ""]
            for zone in floor.zones:
                lines += ["    [[offices.floors.zones]]", f"    name = {quoted(zone.name)}"]
                if zone.team_base:
                    lines.append(f"    team_base = {quoted(zone.team_base)}")
                lines.append("    desks = [")
                for desk in zone.desks:
                    tags = ", ".join(quoted(t) for t in desk.tags)
                    lines.append(f"      {{ code = {quoted(desk.code)}, tags = [{tags}] }},")
                lines += ["    ]", ""]
    return "\n".join(lines)


@dataclass(frozen=True)
class Seeded:
    staff: int
    children: int
    visits: int
    desks: int
    bookings: int


def plan_teams(size: Size = LARGE) -> list[tuple[str, str, str, tuple[tuple[str, float], ...]]]:
    """(team name, office, Team.kind, status mix) for every team, office by office."""
    per_office = size.teams // size.offices
    kinds = [k for k in TEAM_KINDS for _ in range(k[2])]
    assert len(kinds) == per_office, "TEAM_KINDS must add up to the teams in an office"
    out = []
    for office in OFFICES[: size.offices]:
        counts: dict[str, int] = {}
        for label, kind, _n, mix in kinds:
            counts[label] = counts.get(label, 0) + 1
            out.append((f"{office} {label} {counts[label]}", office, kind, mix))
    return out


def _share(total: int, weights: Sequence[float]) -> list[int]:
    """Split `total` in proportion to `weights` (largest remainders), summing exactly."""
    whole = sum(weights)
    raw = [total * w / whole for w in weights]
    out = [int(x) for x in raw]
    for i in sorted(range(len(raw)), key=lambda i: raw[i] - out[i], reverse=True)[: total - sum(out)]:
        out[i] += 1
    return out


async def seed_large(
    session: AsyncSession, workspace_id: str, today: date, rng_seed: int = 2026, size: Size = LARGE
) -> Seeded:
    """Write the large authority into an empty workspace; returns what was written."""
    from storage.children import Allocation, Child
    from storage.desks import sync_layout
    from storage.org import Staff, Team
    from storage.visits import STATUTORY, Visit

    rng = random.Random(rng_seed)
    rules = VisitRules()
    calendar = WorkingCalendar()
    at = datetime.combine(today, time(7, 0), tzinfo=UTC)

    # --- teams and staff ---------------------------------------------------------
    teams = plan_teams(size)
    await _bulk(
        session,
        Team,
        [{"workspace_id": workspace_id, "name": n, "office": o, "kind": k} for n, o, k, _ in teams],
    )
    team_ids = dict((await session.execute(select(Team.name, Team.id).where(Team.workspace_id == workspace_id))).all())
    per_team = _share(size.staff, [1.0] * len(teams))
    staff_rows: list[dict[str, Any]] = []
    n = 0
    for (name, _office, kind, _mix), people in zip(teams, per_team, strict=True):
        for p in range(people):
            n += 1
            first, last = rng.choice(FIRST), rng.choice(LAST)
            if n == 1:
                role = "admin"
            elif p == 0:
                role = "manager"
            else:
                role = "early_help" if kind == "early_help" else "social_worker"
            months = rng.choice((2, 4, 8, 10, 14, 20, 30, 48, 70, 100, 150)) if role != "early_help" else 0
            if role in ("manager", "admin"):
                months = rng.randint(60, 240)
            staff_rows.append(
                {
                    "workspace_id": workspace_id,
                    "user_id": f"w{n:05d}",
                    "slack_user_id": f"U{n:06d}",
                    "name": f"{first} {last}",
                    "email": f"{first.lower()}.{last.lower()}{n}@example.gov.uk",
                    "team_id": team_ids[name],
                    "role": role,
                    "fte": rng.choice((1.0,) * 7 + (0.8, 0.6, 0.5)),
                    "qualified_on": add_months(today, -months) - timedelta(days=rng.randint(0, 20)) if months else None,
                    "joined_on": add_months(today, -min(months or 14, 36)),
                }
            )
    await _bulk(session, Staff, staff_rows)
    staff_ids = dict(
        (await session.execute(select(Staff.user_id, Staff.id).where(Staff.workspace_id == workspace_id))).all()
    )

    # --- children: shared out by FTE and tenure, like real caseloads ----------------
    holders = [r for r in staff_rows if r["role"] in ("social_worker", "early_help")]
    weights = []
    for r in holders:
        q = r["qualified_on"]
        nqsw = q is not None and (today - q).days < 183
        weights.append(r["fte"] * (0.6 if nqsw else 1.0) * rng.uniform(0.7, 1.3))
    caseloads = _share(size.children, weights)
    mix_of = {team_ids[n]: mix for n, _o, _k, mix in teams}
    office_of = {team_ids[n]: o for n, o, _k, _m in teams}
    child_rows: list[dict[str, Any]] = []
    starts: list[date] = []
    for r, held in zip(holders, caseloads, strict=True):
        statuses = [s for s, _ in mix_of[r["team_id"]]]
        shares = [w for _, w in mix_of[r["team_id"]]]
        prefix = office_of[r["team_id"]][:3].upper()
        for _ in range(held):
            status = Status(rng.choices(statuses, shares)[0])
            child_rows.append(
                _child(
                    rng, workspace_id, f"{prefix}{100_000 + len(child_rows)}", status, staff_ids[r["user_id"]], today
                )
            )
            starts.append(today - timedelta(days=rng.randint(10, 500)))

    # --- visit histories, worked back from the next due date --------------------
    eligible = [i for i, c in enumerate(child_rows) if c["status"] not in ("early_help", "assessment")]
    per_child = _share(size.visits, [1.0] * len(eligible))
    histories: list[list[date]] = [[] for _ in child_rows]
    for i, count in zip(eligible, per_child, strict=True):
        row = child_rows[i]
        histories[i] = _history(rng, row, count, today, rules, calendar)
        row["last_visit_on"] = histories[i][-1] if histories[i] else None
    await _bulk(session, Child, child_rows)
    child_ids = dict(
        (await session.execute(select(Child.child_ref, Child.id).where(Child.workspace_id == workspace_id))).all()
    )
    await _bulk(
        session,
        Allocation,
        [
            {
                "workspace_id": workspace_id,
                "child_id": child_ids[c["child_ref"]],
                "staff_id": c["allocated_to"],
                "start_on": max(start, c["status_since"] or start),
                "end_on": None,
            }
            for c, start in zip(child_rows, starts, strict=True)
        ],
    )
    visit_rows = [
        {
            "workspace_id": workspace_id,
            "child_id": child_ids[c["child_ref"]],
            "visited_on": d,
            "kind": STATUTORY,
            "recorded_by": c["allocated_to"],
            "recorded_at": at,
        }
        for c, history in zip(child_rows, histories, strict=True)
        for d in history
    ]
    await _bulk(session, Visit, visit_rows)

    # --- desks: every team a base zone, and this week's bookings -------------------
    by_office: dict[str, list[str]] = {}
    for name, office, _k, _m in teams:
        by_office.setdefault(office, []).append(name)
    layout = large_layout(by_office, size.desks)
    await sync_layout(session, workspace_id, layout, today, at)
    bookings = await _book_week(session, workspace_id, today, rng, staff_rows, staff_ids, team_ids, teams, at)
    await session.flush()
    return Seeded(len(staff_rows), len(child_rows), len(visit_rows), len(layout.spots()), bookings)


def _child(
    rng: random.Random, workspace_id: str, ref: str, status: Status, staff_id: int, today: date
) -> dict[str, Any]:
    since: date | None = today - timedelta(days=rng.randint(30, 900))
    placement_type: str | None = None
    placement_start: date | None = None
    last_review: date | None = None
    if status is Status.ASSESSMENT:
        since = today - timedelta(days=rng.randint(2, 70))
    elif status is Status.CLA:
        placement_type = rng.choice(_PLACEMENTS).value
        assert since is not None
        placement_start = since + timedelta(days=rng.randint(0, max(0, (today - since).days - 20)))
        # reg 33: a review within 4 months of coming into care reads as the first (next in
        # 3 months); later ones every 6. Reviews on time, but for a few.
        recent = (today - since).days < 300
        longest = (80 if recent else 170) if rng.random() > 0.03 else 200
        last_review = today - timedelta(days=rng.randint(10, longest))
    elif status is Status.CP:
        last_review = today - timedelta(days=rng.randint(10, 175 if rng.random() > 0.03 else 200))
    elif status is Status.CARE_LEAVER:
        placement_start = since
        last_review = today - timedelta(days=rng.randint(10, 175 if rng.random() > 0.04 else 210))
    elif status is Status.EARLY_HELP:
        since = today - timedelta(days=rng.randint(10, 300))
    return {
        "workspace_id": workspace_id,
        "child_ref": ref,
        "status": status.value,
        "allocated_to": staff_id,
        "status_since": since,
        "placement_start": placement_start,
        "placement_type": placement_type,
        "last_visit_on": None,
        "last_review_on": last_review,
    }


def _history(
    rng: random.Random,
    row: dict[str, Any],
    count: int,
    today: date,
    rules: VisitRules,
    calendar: WorkingCalendar,
) -> list[date]:
    """`count` visit dates, oldest first, the last leaving the next visit due near a target."""
    status = Status(row["status"])
    placement = PlacementType(row["placement_type"]) if row["placement_type"] else None
    start = row["placement_start"] or row["status_since"]
    settled = start is not None and (today - start).days > 400
    gap = _interval_days(status, placement, settled)
    target = today + timedelta(days=_target_offset(rng))
    last = min(target - timedelta(days=gap), today - timedelta(days=1))
    # One check with the real rules: working days and regimes move the due date a little.
    facts = ChildFacts(
        child_ref=row["child_ref"],
        status=status,
        status_since=row["status_since"],
        placement_start=row["placement_start"],
        placement_type=placement,
        last_visit_on=last,
        last_review_on=row["last_review_on"],
    )
    due = next_visit(facts, today, rules, calendar)
    if due is not None and due.counted_from == last and due.due_on != target:
        last = min(last + (target - due.due_on), today - timedelta(days=1))
    visits = [last]
    current = last
    for _ in range(count - 1):
        late = rng.random() < 0.08
        step = gap + rng.randint(1, 6) if late else gap - rng.randint(0, max(1, gap // 5))
        current -= timedelta(days=max(1, step))
        visits.append(current)
    return sorted(visits)


async def _book_week(
    session: AsyncSession,
    workspace_id: str,
    today: date,
    rng: random.Random,
    staff_rows: list[dict[str, Any]],
    staff_ids: dict[str, int],
    team_ids: dict[str, int],
    teams: list[tuple[str, str, str, tuple[tuple[str, float], ...]]],
    at: datetime,
) -> int:
    """About half the staff in on each working day this week, at their base when it has room."""
    from bot.desks_demo import demo_week
    from storage.desks import Desk, DeskBooking

    desks = (
        await session.execute(
            select(Desk.id, Desk.office, Desk.team_base)
            .where(Desk.workspace_id == workspace_id, Desk.active.is_(True))
            .order_by(Desk.id)
        )
    ).all()
    team_name = {v: k for k, v in team_ids.items()}
    office_of = {n: o for n, o, _k, _m in teams}
    rows: list[dict[str, Any]] = []
    booked = 0
    for day in demo_week(today, WorkingCalendar()):
        free_base: dict[str, list[int]] = {}
        free_office: dict[str, list[int]] = {}
        for desk_id, office, base in desks:
            (free_base.setdefault(base, []) if base else free_office.setdefault(office, [])).append(desk_id)
        for r in staff_rows:
            if rng.random() > 0.5:
                continue
            team = team_name[r["team_id"]]
            pool = free_base.get(team) or free_office.get(office_of[team]) or []
            if not pool:
                continue
            desk_id = pool.pop(0)
            status = "checked_in" if day < today else "booked"
            for half in ("am", "pm"):
                rows.append(
                    {
                        "workspace_id": workspace_id,
                        "desk_id": desk_id,
                        "staff_id": staff_ids[r["user_id"]],
                        "day": day,
                        "half": half,
                        "status": status,
                        "live": 1,
                        "source": "demo",
                        "created_at": at - timedelta(days=3),
                        "checked_in_at": at if status == "checked_in" else None,
                        "ended_at": None,
                    }
                )
            booked += 1
    await _bulk(session, DeskBooking, rows)
    return booked
