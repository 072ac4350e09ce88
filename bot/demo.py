"""A demo authority: teams in two offices, staff with a spread of tenure and FTE,
children by case reference only. Seeded, so every run makes the same one."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.calendar import add_months
from storage.children import Allocation, Child
from storage.org import Staff, Team


@dataclass(frozen=True)
class TeamPlan:
    name: str
    office: str
    kind: str
    statuses: tuple[str, ...]
    # (name, role, months since qualifying, fte, children held)
    people: tuple[tuple[str, str, int, float, int], ...]


PLAN = (
    TeamPlan(
        "Ipswich CIN 2",
        "Ipswich",
        "social_work",
        ("cin", "cin", "cp", "cp", "cp"),
        (
            ("Grace Okafor", "manager", 150, 1.0, 0),
            ("Priya Shah", "social_worker", 13, 1.0, 26),
            ("Tom Hughes", "social_worker", 5, 1.0, 14),
            ("Aisha Rahman", "social_worker", 40, 0.6, 11),
            ("Dan Whitfield", "social_worker", 8, 1.0, 17),
            ("Megan Lloyd", "social_worker", 70, 1.0, 21),
            ("Olu Adeyemi", "social_worker", 2, 1.0, 6),
        ),
    ),
    TeamPlan(
        "Assessment Team A",
        "Ipswich",
        "social_work",
        ("assessment", "assessment", "assessment", "cin", "cp"),
        (
            ("Helen Marsh", "manager", 200, 1.0, 0),
            ("Jack Burrows", "social_worker", 30, 1.0, 22),
            ("Sofia Costa", "social_worker", 11, 1.0, 18),
            ("Ben Archer", "social_worker", 90, 0.8, 19),
            ("Chloe Dunn", "social_worker", 4, 0.5, 8),
            ("Rory Patel", "social_worker", 24, 1.0, 20),
        ),
    ),
    TeamPlan(
        "Lowestoft CLA",
        "Lowestoft",
        "social_work",
        ("cla", "cla", "cla", "care_leaver", "private_fostering"),
        (
            ("Martin Cole", "manager", 180, 1.0, 0),
            ("Ellie Ward", "social_worker", 55, 1.0, 23),
            ("Femi Bello", "social_worker", 9, 1.0, 16),
            ("Laura King", "social_worker", 16, 0.8, 18),
            ("Sam Turner", "social_worker", 100, 1.0, 24),
            ("Nadia Hussain", "social_worker", 3, 1.0, 9),
        ),
    ),
    TeamPlan(
        "Ipswich Early Help",
        "Ipswich",
        "early_help",
        ("early_help",),
        (
            ("Kate Simmons", "manager", 120, 1.0, 0),
            ("Joe Fraser", "early_help", 0, 1.0, 12),
            ("Amira Said", "early_help", 0, 0.8, 10),
            ("Lucy Grant", "early_help", 0, 1.0, 11),
        ),
    ),
    TeamPlan(
        "Lowestoft Early Help",
        "Lowestoft",
        "early_help",
        ("early_help",),
        (
            ("Paul Reed", "manager", 110, 1.0, 0),
            ("Zara Ali", "early_help", 0, 1.0, 9),
            ("Owen Price", "early_help", 0, 0.6, 7),
        ),
    ),
)

ADMIN = ("Alex Morgan", "admin")


def slack_id(n: int) -> str:
    return f"U{n:06d}"


async def is_empty(session: AsyncSession, workspace_id: str) -> bool:
    count = await session.scalar(select(func.count()).select_from(Staff).where(Staff.workspace_id == workspace_id))
    return not count


async def seed(session: AsyncSession, workspace_id: str, today: date, rng_seed: int = 7) -> tuple[int, int]:
    """Write the demo authority; returns (staff, children) counts."""
    rng = random.Random(rng_seed)
    staff_count = 0
    child_count = 0
    for plan in PLAN:
        team = Team(workspace_id=workspace_id, name=plan.name, office=plan.office, kind=plan.kind)
        session.add(team)
        await session.flush()
        for name, role, months, fte, held in plan.people:
            staff_count += 1
            first, last = name.lower().split()
            member = Staff(
                workspace_id=workspace_id,
                user_id=f"{first[0]}{last}",
                slack_user_id=slack_id(staff_count),
                name=name,
                email=f"{first}.{last}@example.gov.uk",
                team_id=team.id,
                role=role,
                fte=fte,
                qualified_on=add_months(today, -months) - timedelta(days=rng.randint(0, 20)) if months else None,
                joined_on=add_months(today, -min(months, 36)) if months else add_months(today, -14),
            )
            session.add(member)
            await session.flush()
            for i in range(held):
                child_count += 1
                status = rng.choice(plan.statuses)
                # Most children have been held a while; Priya's last few arrived this week.
                recent = member.name == "Priya Shah" and i >= held - 4
                start = today - timedelta(days=rng.randint(1, 5) if recent else rng.randint(20, 400))
                child = Child(
                    workspace_id=workspace_id,
                    child_ref=f"{plan.office[:3].upper()}{10000 + child_count}",
                    status=status,
                    allocated_to=member.id,
                    status_since=start - timedelta(days=rng.randint(0, 200)),
                )
                session.add(child)
                await session.flush()
                session.add(
                    Allocation(workspace_id=workspace_id, child_id=child.id, staff_id=member.id, start_on=start)
                )
    first_team = await session.scalar(select(Team).where(Team.workspace_id == workspace_id, Team.name == PLAN[0].name))
    assert first_team is not None
    staff_count += 1
    session.add(
        Staff(
            workspace_id=workspace_id,
            user_id="amorgan",
            slack_user_id=slack_id(staff_count),
            name=ADMIN[0],
            email="alex.morgan@example.gov.uk",
            team_id=first_team.id,
            role=ADMIN[1],
            fte=1.0,
        )
    )
    await session.flush()
    from bot.visits_demo import seed_visits

    await seed_visits(session, workspace_id, today)
    from storage.worries import seed_worries

    await seed_worries(session, workspace_id, today)
    from bot.desks_demo import seed_desks

    await seed_desks(session, workspace_id, today)
    return staff_count, child_count
