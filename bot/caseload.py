"""Caseload against the tenure cap: pure rules and the /caseload command.

Domain (domain.md, "Caseloads"): the unit is children; the cap depends on
months since qualifying (Suffolk ladder 15/20/25 by default) and is pro rata to
FTE; weighting by status is optional. Nothing here touches Slack, the database
or the system clock.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from bot.calendar import add_months, whole_months_between
from bot.commands import CommandError
from bot.policy import CaseloadPolicy

CASE_HOLDING_ROLES = frozenset({"social_worker", "manager"})


@dataclass(frozen=True)
class Worker:
    user_id: str
    name: str
    role: str
    fte: float
    team: str
    qualified_on: date | None = None
    joined_on: date | None = None


@dataclass(frozen=True)
class Holding:
    child_ref: str
    status: str
    allocated_on: date | None = None


@dataclass(frozen=True)
class Cap:
    children: int
    """The cap for this worker: the band's cap pro rata to FTE, rounded down."""
    full_time: int
    tenure_months: int | None
    """None when the tenure date is unknown (the lowest, protective band is used)."""
    next_rise_on: date | None = None
    next_rise_to: int | None = None


@dataclass(frozen=True)
class Points:
    held: float
    cap: float


@dataclass(frozen=True)
class CaseloadStatus:
    worker: Worker
    held: int
    by_status: dict[str, int]
    cap: Cap | None
    """None for roles that hold no capped caseload (early help, admin)."""
    points: Points | None = None

    @property
    def headroom(self) -> int | None:
        return None if self.cap is None else self.cap.children - self.held

    @property
    def over_by(self) -> int:
        headroom = self.headroom
        return -headroom if headroom is not None and headroom < 0 else 0

    @property
    def is_over(self) -> bool:
        return self.over_by > 0


@dataclass(frozen=True)
class TeamSummary:
    team: str
    members: tuple[CaseloadStatus, ...]
    average: float | None
    """Children per full-time case-holding worker, as the workforce census counts."""
    target: float

    @property
    def over_target(self) -> bool:
        return self.average is not None and self.average > self.target

    @property
    def workers_over(self) -> int:
        return sum(1 for m in self.members if m.is_over)


def pro_rata(cap: int, fte: float, policy: CaseloadPolicy) -> int:
    # Round down: a 0.5 FTE worker with a band cap of 15 holds at most 7, because
    # rounding up would put a part-time worker above the full-time proportion.
    if not policy.pro_rata:
        return cap
    return math.floor(cap * fte + 1e-9)


def tenure_start(worker: Worker, policy: CaseloadPolicy) -> date | None:
    return worker.qualified_on if policy.tenure_from == "qualified" else worker.joined_on


def cap_for(worker: Worker, policy: CaseloadPolicy, today: date) -> Cap | None:
    if worker.role not in CASE_HOLDING_ROLES:
        return None
    start = tenure_start(worker, policy)
    bands = policy.bands
    if start is None:
        return Cap(children=pro_rata(bands[0].cap, worker.fte, policy), full_time=bands[0].cap, tenure_months=None)
    months = whole_months_between(start, today)
    current = bands[0]
    for band in bands:
        if band.months <= months:
            current = band
    later = [b for b in bands if b.months > months and b.cap != current.cap]
    rise_on = add_months(start, later[0].months) if later else None
    rise_to = pro_rata(later[0].cap, worker.fte, policy) if later else None
    return Cap(
        children=pro_rata(current.cap, worker.fte, policy),
        full_time=current.cap,
        tenure_months=months,
        next_rise_on=rise_on,
        next_rise_to=rise_to,
    )


def assess(worker: Worker, holdings: Iterable[Holding], policy: CaseloadPolicy, today: date) -> CaseloadStatus:
    held = list(holdings)
    by_status = dict(Counter(h.status for h in held))
    cap = cap_for(worker, policy, today)
    points = None
    weighting = policy.weighting
    if weighting.enabled and cap is not None:
        total = sum(weighting.weights.get(h.status, 1.0) for h in held)
        points_cap = weighting.points_cap * (worker.fte if policy.pro_rata else 1.0)
        points = Points(held=round(total, 1), cap=round(points_cap, 1))
    return CaseloadStatus(worker=worker, held=len(held), by_status=by_status, cap=cap, points=points)


def holds_capped_caseload(status: CaseloadStatus) -> bool:
    """Social workers always; a manager only when they carry children themselves."""
    return status.cap is not None and (status.worker.role != "manager" or status.held > 0)


def summarise_team(team: str, members: Sequence[CaseloadStatus], policy: CaseloadPolicy) -> TeamSummary:
    holders = [m for m in members if holds_capped_caseload(m)]
    fte = sum(m.worker.fte for m in holders)
    average = round(sum(m.held for m in holders) / fte, 1) if fte > 0 else None
    return TeamSummary(team=team, members=tuple(members), average=average, target=policy.team_average_target)


@dataclass(frozen=True)
class FastRise:
    risen_by: int
    since: date
    added: tuple[str, ...]


def fast_rise(held_now: Sequence[Holding], held_then: int, since: date, policy: CaseloadPolicy) -> FastRise | None:
    """A rise of `fast_rise_children` or more since `since` (the window start)."""
    risen_by = len(held_now) - held_then
    if risen_by < policy.fast_rise_children:
        return None
    added = tuple(sorted(h.child_ref for h in held_now if h.allocated_on is not None and h.allocated_on > since))
    return FastRise(risen_by=risen_by, since=since, added=added)


# --- the /caseload command -------------------------------------------------

USAGE = (
    "*How to use /caseload*\n"
    "• `/caseload`: your children against your cap\n"
    "• `/caseload team`: your team (managers see each worker; everyone sees the team average)\n"
    "• `/caseload team NAME`: another team's figures (admins)\n"
    "• `/caseload @someone`: one of your team (their manager only)\n"
    "• `/caseload help`: this message"
)


@dataclass(frozen=True)
class Mine:
    pass


@dataclass(frozen=True)
class TeamView:
    team_name: str | None = None


@dataclass(frozen=True)
class Person:
    slack_user_id: str


@dataclass(frozen=True)
class Help:
    pass


CaseloadCommand = Mine | TeamView | Person | Help

_MENTION = re.compile(r"^<@([A-Za-z0-9._-]+)(?:\|[^>]*)?>$")


def parse_command(text: str) -> CaseloadCommand:
    words = text.split()
    match [w.lower() for w in words]:
        case [] | ["me"] | ["mine"]:
            return Mine()
        case ["help"] | ["?"]:
            return Help()
        case ["team"]:
            return TeamView()
        case ["team", *_]:
            return TeamView(team_name=" ".join(words[1:]))
        case [_] if m := _MENTION.match(words[0]):
            return Person(slack_user_id=m.group(1))
        case _:
            raise CommandError(f"I didn't understand `/caseload {text.strip()}`.", USAGE)


# --- words for people --------------------------------------------------------

STATUS_LABELS = {
    "assessment": "assessment",
    "cin": "child in need",
    "cp": "child protection",
    "cla": "looked after",
    "care_leaver": "care leaver",
    "private_fostering": "private fostering",
    "early_help": "early help",
}


def describe_statuses(by_status: dict[str, int]) -> str:
    parts = [f"{n} {STATUS_LABELS.get(s, s)}" for s, n in sorted(by_status.items(), key=lambda kv: (-kv[1], kv[0]))]
    return ", ".join(parts) if parts else "none"


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"


@dataclass(frozen=True)
class Headline:
    """The one-line answer a worker reads first, in an encouraging tone."""

    text: str
    tone: str = field(default="ok")  # ok | full | over | none


def headline(status: CaseloadStatus) -> Headline:
    cap = status.cap
    if cap is None:
        if status.held:
            return Headline(
                f"You hold {plural(status.held, 'child', 'children')}. "
                "Caps apply to social work caseloads, so there is no cap to show.",
                "none",
            )
        return Headline("You don't hold a caseload of children.", "none")
    headroom = cap.children - status.held
    if headroom > 0:
        return Headline(
            f"You hold {plural(status.held, 'child', 'children')} against your cap of {cap.children}: "
            f"room for {headroom} more.",
            "ok",
        )
    if headroom == 0:
        return Headline(
            f"You hold {plural(status.held, 'child', 'children')}: that's a full caseload at your cap "
            f"of {cap.children}. Talk to your manager before taking more.",
            "full",
        )
    return Headline(
        f"You hold {plural(status.held, 'child', 'children')}, {-headroom} over your cap of "
        f"{cap.children}. That's a lot to carry: your manager can help rebalance it.",
        "over",
    )
