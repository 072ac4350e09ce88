"""Worries and the messages that carry them: who raised, who it went to, who took it.

The free text (`worried`, `working_well`, `needs_to_happen`, `outcome_note`) is
read only through handlers that check `bot.worries.can_read` and audit the view;
nothing in this module logs it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bot.worries import Candidate, OutcomeDraft, TeamInfo, Viewer, WorryDraft, WorryParties
from storage.children import Child, reallocate
from storage.db import Base, UTCDateTime, WorkspaceScoped
from storage.org import Staff, Team
from storage.upsert import insert_ignore


class Worry(WorkspaceScoped, Base):
    __tablename__ = "worries"
    __table_args__ = (
        # One modal, one worry: a double-submit or a retry finds the row already there.
        UniqueConstraint("workspace_id", "source_key"),
        Index("ix_worries_workspace_state", "workspace_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_key: Mapped[str] = mapped_column(String(64))
    raiser_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    # The raiser's team when raised: their manager may read it even if they move on.
    raiser_team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    to_team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    child_ref: Mapped[str | None] = mapped_column(String(64))
    worried: Mapped[str] = mapped_column(Text)
    working_well: Mapped[str] = mapped_column(Text)
    needs_to_happen: Mapped[str] = mapped_column(Text)
    scale: Mapped[int] = mapped_column(Integer)
    urgency: Mapped[str] = mapped_column(String(8))  # today | week
    state: Mapped[str] = mapped_column(String(8))  # open | claimed | closed
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[str | None] = mapped_column(String(20))
    outcome_note: Mapped[str | None] = mapped_column(Text)
    outcome_worker_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Where it went when nobody was in (and where escalations go).
    duty_channel: Mapped[str | None] = mapped_column(String(32))
    # The conversation between raiser and owner.
    thread_channel: Mapped[str | None] = mapped_column(String(32))
    thread_ts: Mapped[str | None] = mapped_column(String(32))


class WorryRecipient(WorkspaceScoped, Base):
    """A person (or duty channel) a worry was sent to, and the message to update when it is taken."""

    __tablename__ = "worry_recipients"
    __table_args__ = (UniqueConstraint("workspace_id", "channel", "ts"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    worry_id: Mapped[int] = mapped_column(ForeignKey("worries.id"), index=True)
    # Null for a duty channel message.
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))  # route | duty | nudge | escalate
    # Null when the message could not be sent (the person still counts as routed to).
    channel: Mapped[str | None] = mapped_column(String(32))
    ts: Mapped[str | None] = mapped_column(String(32))


# --- plain data for handlers -----------------------------------------------------


@dataclass(frozen=True)
class WorryCard:
    """A worry without its free text: what lists and notifications may show."""

    id: int
    child_ref: str | None
    scale: int
    urgency: str
    state: str
    raised_at: datetime
    raiser_name: str
    raiser_slack_id: str
    owner_name: str | None
    owner_slack_id: str | None
    outcome: str | None
    to_team: str | None


def as_viewer(staff: Staff) -> Viewer:
    return Viewer(staff_id=staff.id, role=staff.role, team_id=staff.team_id)


def as_team_info(team: Team) -> TeamInfo:
    return TeamInfo(id=team.id, name=team.name, kind=team.kind, office=team.office, channel_id=team.channel_id)


async def _names(session: AsyncSession, workspace_id: str, ids: set[int]) -> dict[int, Staff]:
    if not ids:
        return {}
    rows = await session.scalars(select(Staff).where(Staff.workspace_id == workspace_id, Staff.id.in_(ids)))
    return {s.id: s for s in rows}


async def cards(session: AsyncSession, workspace_id: str, worries: Sequence[Worry]) -> list[WorryCard]:
    people = await _names(
        session,
        workspace_id,
        {w.raiser_id for w in worries} | {w.owner_id for w in worries if w.owner_id is not None},
    )
    team_ids = {w.to_team_id for w in worries if w.to_team_id is not None}
    teams = {}
    if team_ids:
        teams = {
            t.id: t.name
            for t in await session.scalars(select(Team).where(Team.workspace_id == workspace_id, Team.id.in_(team_ids)))
        }
    out = []
    for w in worries:
        owner = people.get(w.owner_id) if w.owner_id is not None else None
        raiser = people[w.raiser_id]
        out.append(
            WorryCard(
                id=w.id,
                child_ref=w.child_ref,
                scale=w.scale,
                urgency=w.urgency,
                state=w.state,
                raised_at=w.raised_at,
                raiser_name=raiser.name,
                raiser_slack_id=raiser.slack_user_id,
                owner_name=owner.name if owner else None,
                owner_slack_id=owner.slack_user_id if owner else None,
                outcome=w.outcome,
                to_team=teams.get(w.to_team_id) if w.to_team_id is not None else None,
            )
        )
    return out


# --- raising -------------------------------------------------------------------


async def known_child_ref(session: AsyncSession, workspace_id: str, me: Staff, ref: str) -> str | None:
    """The stored reference if `me` may raise a worry about it: a child they hold, or
    (for a manager) a child held in their team. Matched case-insensitively."""
    child = await session.scalar(
        select(Child).where(Child.workspace_id == workspace_id, func.upper(Child.child_ref) == ref.upper())
    )
    if child is None or child.allocated_to is None:
        return None
    if child.allocated_to == me.id:
        return child.child_ref
    if me.role == "manager":
        holder = await session.get(Staff, child.allocated_to)
        if holder is not None and holder.team_id == me.team_id:
            return child.child_ref
    return None


async def all_team_info(session: AsyncSession, workspace_id: str) -> list[TeamInfo]:
    rows = await session.scalars(select(Team).where(Team.workspace_id == workspace_id).order_by(Team.name))
    return [as_team_info(t) for t in rows]


async def in_office_today(
    session: AsyncSession, workspace_id: str, staff_ids: Sequence[int], day: date
) -> dict[int, str | None] | None:
    """Where each of `staff_ids` is booked in on `day`, from desk bookings.

    None when there are no desk bookings to go on (nobody in the workspace
    booked a desk for `day`, e.g. desks are not used here): then everyone is
    taken to be in at their team's base. Otherwise a map staff id -> office of
    their live booking (absent: not in today).
    """
    from storage.desks import LIVE, Desk, DeskBooking

    anyone = await session.scalar(
        select(DeskBooking.id)
        .where(
            DeskBooking.workspace_id == workspace_id,
            DeskBooking.day == day,
            DeskBooking.live == LIVE,
        )
        .limit(1)
    )
    if anyone is None:
        # No desk bookings at all that day (desks not used here): fall back to team bases.
        return None
    if not staff_ids:
        return {}
    rows = await session.execute(
        select(DeskBooking.staff_id, Desk.office)
        .join(Desk, Desk.id == DeskBooking.desk_id)
        .where(
            DeskBooking.workspace_id == workspace_id,
            DeskBooking.day == day,
            DeskBooking.live == LIVE,
            DeskBooking.staff_id.in_(list(staff_ids)),
        )
        .order_by(DeskBooking.half)
    )
    booked: dict[int, str | None] = {}
    for staff_id, office in rows:
        # Morning first ("am" < "pm"): where they start the day.
        booked.setdefault(int(staff_id), office)
    return booked


async def office_of(session: AsyncSession, workspace_id: str, me: Staff, day: date) -> str | None:
    """Where the raiser is today: their desk booking's office, else their team's base."""
    booked = await in_office_today(session, workspace_id, [me.id], day)
    if booked is not None and booked.get(me.id):
        return booked[me.id]
    return me.team.office


async def candidates(
    session: AsyncSession, workspace_id: str, team: TeamInfo, role: str, day: date
) -> dict[int, tuple[Staff, Candidate]]:
    rows = list(
        await session.scalars(
            select(Staff)
            .where(Staff.workspace_id == workspace_id, Staff.team_id == team.id, Staff.role == role)
            .order_by(Staff.name)
        )
    )
    booked = await in_office_today(session, workspace_id, [s.id for s in rows], day)
    out: dict[int, tuple[Staff, Candidate]] = {}
    for member in rows:
        if booked is None:
            candidate = Candidate(member.id, team.office, True)
        else:
            candidate = Candidate(member.id, booked.get(member.id), member.id in booked)
        out[member.id] = (member, candidate)
    return out


async def create_worry(
    session: AsyncSession,
    workspace_id: str,
    source_key: str,
    raiser: Staff,
    draft: WorryDraft,
    to_team_id: int | None,
    duty_channel: str | None,
    now: datetime,
) -> Worry | None:
    """The new worry; None if `source_key` already raised one (a double-submit)."""
    won = await insert_ignore(
        session,
        Worry,
        {
            "workspace_id": workspace_id,
            "source_key": source_key,
            "raiser_id": raiser.id,
            "raiser_team_id": raiser.team_id,
            "to_team_id": to_team_id,
            "child_ref": draft.child_ref,
            "worried": draft.worried,
            "working_well": draft.working_well,
            "needs_to_happen": draft.needs_to_happen,
            "scale": draft.scale,
            "urgency": draft.urgency,
            "state": "open",
            "raised_at": now,
            "duty_channel": duty_channel,
        },
        ["workspace_id", "source_key"],
    )
    if not won:
        return None
    return await session.scalar(select(Worry).where(Worry.workspace_id == workspace_id, Worry.source_key == source_key))


def add_recipient(
    session: AsyncSession,
    workspace_id: str,
    worry_id: int,
    staff_id: int | None,
    kind: str,
    channel: str | None,
    ts: str | None,
) -> None:
    session.add(
        WorryRecipient(
            workspace_id=workspace_id,
            worry_id=worry_id,
            staff_id=staff_id,
            kind=kind,
            channel=channel,
            ts=ts,
        )
    )


# --- reading -------------------------------------------------------------------


async def get_worry(session: AsyncSession, workspace_id: str, worry_id: int) -> Worry | None:
    return await session.scalar(select(Worry).where(Worry.workspace_id == workspace_id, Worry.id == worry_id))


async def recipients(session: AsyncSession, workspace_id: str, worry_id: int) -> list[WorryRecipient]:
    rows = await session.scalars(
        select(WorryRecipient)
        .where(WorryRecipient.workspace_id == workspace_id, WorryRecipient.worry_id == worry_id)
        .order_by(WorryRecipient.id)
    )
    return list(rows)


async def parties(session: AsyncSession, workspace_id: str, worry: Worry) -> WorryParties:
    routed = await session.scalars(
        select(WorryRecipient.staff_id).where(
            WorryRecipient.workspace_id == workspace_id,
            WorryRecipient.worry_id == worry.id,
            WorryRecipient.staff_id.is_not(None),
        )
    )
    owner_team = None
    if worry.owner_id is not None:
        owner = await session.get(Staff, worry.owner_id)
        owner_team = owner.team_id if owner is not None else None
    return WorryParties(
        raiser_id=worry.raiser_id,
        raiser_team_id=worry.raiser_team_id,
        to_team_id=worry.to_team_id,
        owner_id=worry.owner_id,
        owner_team_id=owner_team,
        recipient_ids=frozenset(s for s in routed if s is not None),
    )


async def open_worries(session: AsyncSession, workspace_id: str) -> list[Worry]:
    rows = await session.scalars(
        select(Worry).where(Worry.workspace_id == workspace_id, Worry.state == "open").order_by(Worry.id)
    )
    return list(rows)


async def routed_to(session: AsyncSession, workspace_id: str, staff_id: int) -> list[Worry]:
    """Open worries sent to `staff_id`, and ones they took that are not closed yet."""
    sent = select(WorryRecipient.worry_id).where(
        WorryRecipient.workspace_id == workspace_id, WorryRecipient.staff_id == staff_id
    )
    rows = await session.scalars(
        select(Worry)
        .where(
            Worry.workspace_id == workspace_id,
            or_(
                (Worry.state == "open") & Worry.id.in_(sent),
                (Worry.state == "claimed") & (Worry.owner_id == staff_id),
            ),
        )
        .order_by(Worry.raised_at)
    )
    return list(rows)


async def raised_by(session: AsyncSession, workspace_id: str, staff_id: int) -> list[Worry]:
    rows = await session.scalars(
        select(Worry)
        .where(Worry.workspace_id == workspace_id, Worry.raiser_id == staff_id, Worry.state != "closed")
        .order_by(Worry.raised_at)
    )
    return list(rows)


def _team_filter(workspace_id: str, team_id: int) -> Any:
    owners_in_team = select(Staff.id).where(Staff.workspace_id == workspace_id, Staff.team_id == team_id)
    return (Worry.workspace_id == workspace_id) & or_(
        Worry.raiser_team_id == team_id,
        Worry.to_team_id == team_id,
        Worry.owner_id.in_(owners_in_team),
    )


async def team_open(session: AsyncSession, workspace_id: str, team_id: int) -> list[Worry]:
    rows = await session.scalars(
        select(Worry).where(_team_filter(workspace_id, team_id), Worry.state != "closed").order_by(Worry.raised_at)
    )
    return list(rows)


async def team_outcomes(session: AsyncSession, workspace_id: str, team_id: int, since: datetime) -> Counter[str]:
    rows = await session.execute(
        select(Worry.outcome, func.count())
        .where(_team_filter(workspace_id, team_id), Worry.state == "closed", Worry.closed_at >= since)
        .group_by(Worry.outcome)
    )
    return Counter({str(outcome): int(n) for outcome, n in rows})


# --- claiming and closing --------------------------------------------------------


async def claim(session: AsyncSession, workspace_id: str, worry_id: int, owner_id: int, now: datetime) -> bool:
    """Take an open worry; True for exactly one caller, however many press at once.

    One conditional UPDATE: the database decides, so two replicas or two
    clicks in the same millisecond cannot both own it.
    """
    result: Any = await session.execute(
        update(Worry)
        .where(Worry.workspace_id == workspace_id, Worry.id == worry_id, Worry.state == "open")
        .values(state="claimed", owner_id=owner_id, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)


async def close(
    session: AsyncSession,
    workspace_id: str,
    worry: Worry,
    owner_id: int,
    draft: OutcomeDraft,
    now: datetime,
) -> bool:
    """Record the outcome once; a stepped-down child moves to the early help worker's caseload."""
    result: Any = await session.execute(
        update(Worry)
        .where(
            Worry.workspace_id == workspace_id,
            Worry.id == worry.id,
            Worry.state == "claimed",
            Worry.owner_id == owner_id,
        )
        .values(
            state="closed",
            outcome=draft.outcome,
            outcome_note=draft.note,
            outcome_worker_id=draft.worker_id,
            closed_at=now,
            child_ref=draft.child_ref or worry.child_ref,
        )
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:
        return False
    if draft.outcome == "step_down" and draft.worker_id is not None and draft.child_ref is not None:
        await step_down(session, workspace_id, draft.child_ref, draft.worker_id, now.date())
    return True


async def step_down(session: AsyncSession, workspace_id: str, child_ref: str, worker_id: int, on: date) -> Child:
    """The child joins the early help worker's caseload (created if new to us: a family not yet known)."""
    child = await session.scalar(
        select(Child).where(Child.workspace_id == workspace_id, func.upper(Child.child_ref) == child_ref.upper())
    )
    if child is None:
        child = Child(workspace_id=workspace_id, child_ref=child_ref, status="early_help", status_since=on)
        session.add(child)
        await session.flush()
    elif child.status != "early_help":
        child.status = "early_help"
        child.status_since = on
    await reallocate(session, child, worker_id, on)
    return child


async def early_help_workers(session: AsyncSession, workspace_id: str, team_id: int | None) -> list[Staff]:
    """Who can hold a stepped-down child: the receiving team's early help workers first."""
    rows = list(
        await session.scalars(
            select(Staff).where(Staff.workspace_id == workspace_id, Staff.role == "early_help").order_by(Staff.name)
        )
    )
    return sorted(rows, key=lambda s: (s.team_id != team_id, s.name))


async def managers_of(session: AsyncSession, workspace_id: str, team_ids: Sequence[int | None]) -> list[Staff]:
    ids = [t for t in team_ids if t is not None]
    if not ids:
        return []
    rows = await session.scalars(
        select(Staff)
        .where(Staff.workspace_id == workspace_id, Staff.team_id.in_(ids), Staff.role == "manager")
        .order_by(Staff.name)
    )
    return list(rows)


# --- demo --------------------------------------------------------------------------

_DEMO_TEXT = (
    (
        "Child came to school hungry three days this week and said there was no food at home.",
        "Mum keeps in touch with school and came to the last meeting.",
        "Someone to talk with mum about money and food this week.",
    ),
    (
        "Parents arguing loudly at the last home visit; the youngest was upset.",
        "Grandparent visits daily and the children are close to them.",
        "Early help could offer a parenting group and check in with school.",
    ),
    (
        "Attendance has dropped to 70% this term.",
        "The child is settled with the foster carer.",
        "A conversation with school about a plan for mornings.",
    ),
)


async def _demo_child(session: AsyncSession, workspace_id: str, staff_id: int) -> str | None:
    return await session.scalar(
        select(Child.child_ref)
        .where(Child.workspace_id == workspace_id, Child.allocated_to == staff_id)
        .order_by(Child.child_ref)
    )


async def seed_worries(session: AsyncSession, workspace_id: str, today: date) -> int:
    """Demo worries: open (one escalated), claimed and closed, for `make run`. Returns how many."""
    from bot.calendar import WorkingCalendar
    from bot.clock import LONDON
    from storage import audit

    staff = {s.user_id: s for s in await session.scalars(select(Staff).where(Staff.workspace_id == workspace_id))}
    teams = {t.name: t for t in await session.scalars(select(Team).where(Team.workspace_id == workspace_id))}
    needed = {
        "thughes",
        "scosta",
        "pshah",
        "mlloyd",
        "eward",
        "jfraser",
        "asaid",
        "lgrant",
        "zali",
        "oprice",
    }
    if not needed <= set(staff) or "Ipswich Early Help" not in teams or "Lowestoft Early Help" not in teams:
        return 0
    calendar = WorkingCalendar()
    ipswich_eh = teams["Ipswich Early Help"]
    lowestoft_eh = teams["Lowestoft Early Help"]

    def at(day: date, hour: int, minute: int = 0) -> datetime:
        return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LONDON)

    def working_days_back(n: int) -> date:
        day = today
        while n:
            day -= timedelta(days=1)
            if calendar.is_working_day(day):
                n -= 1
        return day

    plans: list[dict[str, Any]] = [
        # Open, raised this morning: waiting in Ipswich Early Help.
        {
            "raiser": "thughes",
            "to": ipswich_eh,
            "urgency": "today",
            "scale": 4,
            "raised": at(today, 8, 40),
            "text": 0,
            "routed": ["jfraser", "asaid", "lgrant"],
        },
        # Open for two working days: overdue, the chase job escalates it.
        {
            "raiser": "scosta",
            "to": ipswich_eh,
            "urgency": "week",
            "scale": 6,
            "raised": at(working_days_back(3), 11),
            "text": 2,
            "routed": ["jfraser", "asaid", "lgrant"],
            "no_child": True,
        },
        # Claimed by Joe yesterday.
        {
            "raiser": "pshah",
            "to": ipswich_eh,
            "urgency": "week",
            "scale": 5,
            "raised": at(working_days_back(1), 14),
            "text": 1,
            "routed": ["jfraser", "asaid", "lgrant"],
            "owner": "jfraser",
            "claimed_after": 25,
        },
        # Closed: stepped down to Lucy's early help caseload.
        {
            "raiser": "mlloyd",
            "to": ipswich_eh,
            "urgency": "week",
            "scale": 7,
            "raised": at(working_days_back(6), 10),
            "text": 0,
            "routed": ["jfraser", "asaid", "lgrant"],
            "owner": "asaid",
            "claimed_after": 40,
            "outcome": (
                "step_down",
                "Agreed a step down: Lucy will hold with a family support plan.",
                "lgrant",
            ),
        },
        # Closed: advice given, in Lowestoft.
        {
            "raiser": "eward",
            "to": lowestoft_eh,
            "urgency": "today",
            "scale": 6,
            "raised": at(working_days_back(4), 9),
            "text": 2,
            "routed": ["zali", "oprice"],
            "owner": "zali",
            "claimed_after": 10,
            "outcome": (
                "advice",
                "Talked through a school attendance plan; Ellie will follow up.",
                None,
            ),
        },
        # Closed: no further action.
        {
            "raiser": "thughes",
            "to": ipswich_eh,
            "urgency": "today",
            "scale": 8,
            "raised": at(working_days_back(9), 15),
            "text": 1,
            "routed": ["jfraser", "asaid", "lgrant"],
            "owner": "lgrant",
            "claimed_after": 15,
            "outcome": (
                "nfa",
                "Support already in place through school; nothing more needed.",
                None,
            ),
        },
    ]
    for n, plan in enumerate(plans):
        raiser = staff[plan["raiser"]]
        worried, working_well, needs = _DEMO_TEXT[plan["text"]]
        ref = None if plan.get("no_child") else await _demo_child(session, workspace_id, raiser.id)
        raised: datetime = plan["raised"]
        worry = Worry(
            workspace_id=workspace_id,
            source_key=f"demo-{n}",
            raiser_id=raiser.id,
            raiser_team_id=raiser.team_id,
            to_team_id=plan["to"].id,
            child_ref=ref,
            worried=worried,
            working_well=working_well,
            needs_to_happen=needs,
            scale=plan["scale"],
            urgency=plan["urgency"],
            state="open",
            raised_at=raised,
        )
        session.add(worry)
        await session.flush()
        audit.record(session, workspace_id, raised, raiser.user_id, "worry.raise", f"worry:{worry.id}")
        for user_id in plan["routed"]:
            add_recipient(session, workspace_id, worry.id, staff[user_id].id, "route", None, None)
        if "owner" in plan:
            owner = staff[plan["owner"]]
            claimed = raised + timedelta(minutes=plan["claimed_after"])
            worry.state, worry.owner_id, worry.claimed_at = "claimed", owner.id, claimed
            audit.record(session, workspace_id, claimed, owner.user_id, "worry.take", f"worry:{worry.id}")
            audit.record(session, workspace_id, claimed, owner.user_id, "worry.view", f"worry:{worry.id}")
        if "outcome" in plan:
            outcome, note, worker = plan["outcome"]
            closed = raised + timedelta(hours=3)
            worry.state, worry.outcome, worry.outcome_note, worry.closed_at = (
                "closed",
                outcome,
                note,
                closed,
            )
            if worker is not None and ref is not None:
                worry.outcome_worker_id = staff[worker].id
                await step_down(session, workspace_id, ref, staff[worker].id, closed.date())
            audit.record(
                session,
                workspace_id,
                closed,
                staff[plan["owner"]].user_id,
                "worry.outcome",
                f"worry:{worry.id}",
            )
    await session.flush()
    return len(plans)
