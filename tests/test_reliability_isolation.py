"""No answer shows a child's reference to someone who may not see it.

Hypothesis builds small authorities at random (teams, staff in every role, children
allocated to anyone or no one, worries raised, sent, taken and closed), and everyone
in them asks every read command at once: /caseload (me, team, another team, a
colleague), /visits (me, team, a reference), /whosin (mine, another team), /worried
list, /desk mine, and App Home. Every reply, form and Home view, buttons and hidden
values included, is searched for every reference in the authority.

Who may see a reference (the product's rules, from the handlers and bot/worries.py):
- a child allocated to you (your /visits, your Home);
- a child allocated to anyone in your team, if you are its manager or an admin
  (`Staff.is_manager`: /visits team);
- the child a worry is about, if you may read the worry (`bot.worries.can_read`: its
  raiser, the people it was sent to, its owner, and managers of those teams);
- any child on the list, for an admin who asks about it by reference (`/visits REF`
  explains a child's dates to its worker, their manager or an admin);
- the reference you typed yourself (`/visits REF` says it can't find REF), which
  must not tell you whether the child exists: the answer about a child you may not see
  is word for word the answer about one that doesn't exist.
Everything else shows counts and names only: caseload tables (an admin's view of any
team included), who's in, desks.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.clock import FixedClock
from bot.settings import Settings
from bot.worries import Viewer, WorryDraft, WorryParties, can_read
from storage.db import Database
from storage.org import Staff
from storage.worries import Worry, add_recipient, create_worry
from tests.conftest import wipe
from tests.reliability_steps import Loop, apologies, failures, fuzz_inputs
from tests.support import STAFF_HEADER, Bot, csv

SOCIAL_WORK = ["Team A", "Team B", "Team C"]
EARLY_HELP = "Early Help E"
NOBODY_HAS = "QZ999K"  # a reference no child or worry has
# Last visits (the clock is Mon 23 Nov 2026): long overdue, overdue, due soon, just visited, none.
LAST_VISITS = ["2026-08-03", "2026-10-19", "2026-10-26", "2026-11-20", ""]


def ref(i: int) -> str:
    return f"QZ{i:03d}K"  # one shape, fixed width: no reference is part of another


@dataclass(frozen=True)
class Person:
    user: str
    team: str
    role: str


@dataclass(frozen=True)
class WorrySketch:
    raiser: int
    child_ref: str | None
    to_team: str | None
    sent_to: tuple[int, ...]
    state: str
    owner: int | None


@dataclass
class Org:
    people: list[Person]
    children: dict[str, int | None]  # reference -> index of the person holding it
    last_visits: dict[str, str]  # reference -> date of the last visit ("": none recorded)
    worries: list[WorrySketch] = field(default_factory=list)

    def teams(self) -> list[str]:
        return sorted({p.team for p in self.people})


@st.composite
def orgs(draw: st.DrawFn) -> Org:
    teams = draw(st.lists(st.sampled_from(SOCIAL_WORK), min_size=1, max_size=3, unique=True))
    if draw(st.booleans()):
        teams.append(EARLY_HELP)
    people = []
    for i in range(draw(st.integers(1, 8))):
        team = draw(st.sampled_from(teams))
        roles = ["early_help", "manager"] if team == EARLY_HELP else ["social_worker", "manager", "admin"]
        people.append(Person(f"p{i}", team, draw(st.sampled_from(roles))))
    holders = st.one_of(st.none(), st.integers(0, len(people) - 1))
    children = {ref(i): draw(holders) for i in range(draw(st.integers(0, 10)))}
    # Most overdue or due soon, so lists, reminders and Home cards name them.
    last_visits = {r: draw(st.sampled_from(LAST_VISITS)) for r in children}
    refs = [*children, ref(500)]  # a worry can be about a child not (or no longer) on our list
    worries = []
    for _ in range(draw(st.integers(0, 4))):
        raiser = draw(st.integers(0, len(people) - 1))
        others = [i for i in range(len(people)) if i != raiser]
        sent_to = tuple(draw(st.lists(st.sampled_from(others), unique=True, max_size=3))) if others else ()
        state = draw(st.sampled_from(["open", "claimed", "closed"])) if sent_to else "open"
        owner = draw(st.sampled_from(sent_to)) if state != "open" else None
        worries.append(
            WorrySketch(
                raiser,
                draw(st.one_of(st.none(), st.sampled_from(refs))),
                draw(st.one_of(st.none(), st.sampled_from(teams))),
                sent_to,
                state,
                owner,
            )
        )
    return Org(people, children, last_visits, worries)


async def build(loop: Loop, org: Org) -> dict[str, Staff]:
    """The authority in the database, as imports and the worries form leave it."""
    bot = loop.bot
    await wipe(bot.deps.db)
    rows = [f"{p.user},Person {p.user.upper()},{p.team},{p.role},1.0,2020-01-01" for p in org.people]
    await bot.import_staff(csv(STAFF_HEADER, *rows))
    if org.children:
        lines = []
        for n, (child, holder) in enumerate(org.children.items()):
            person = org.people[holder] if holder is not None else None
            status = "early_help" if person and person.role == "early_help" else ("cin", "cp")[n % 2]
            lines.append(f"{child},{person.user if person else ''},{status},2026-01-05,{org.last_visits[child]}")
        await bot.import_children(csv("child_ref,allocated_to,status,status_since,last_visit_on", *lines))
    workspace = bot.deps.workspace_id
    now = bot.clock.now()
    async with bot.deps.db.transaction() as session:
        staff = {s.user_id: s for s in await session.scalars(select(Staff).where(Staff.workspace_id == workspace))}
        teams = {s.team.name: s.team_id for s in staff.values()}
        for n, sketch in enumerate(org.worries):
            raiser = staff[org.people[sketch.raiser].user]
            draft = WorryDraft("worried", "", "", 5, sketch.child_ref, "today")
            to_team = teams.get(sketch.to_team) if sketch.to_team else None
            worry = await create_worry(session, workspace, f"iso:{n}", raiser, draft, to_team, None, now)
            assert worry is not None
            for i in sketch.sent_to:
                add_recipient(session, workspace, worry.id, staff[org.people[i].user].id, "route", None, None)
            if sketch.owner is not None:
                worry.state = sketch.state
                worry.owner_id = staff[org.people[sketch.owner].user].id
                worry.claimed_at = now
                if sketch.state == "closed":
                    worry.outcome, worry.outcome_note, worry.closed_at = "advice", "talked", now
    return staff


def may_see(org: Org, staff: dict[str, Staff], asker: Person, worries: list[Worry]) -> set[str]:
    """The references `asker` may be shown, by the rules in this module's docstring."""
    me = staff[asker.user]
    visible = {r for r, holder in org.children.items() if holder is not None and org.people[holder].user == asker.user}
    if me.is_manager:
        visible |= {
            r for r, holder in org.children.items() if holder is not None and org.people[holder].team == asker.team
        }
    by_id = {s.id: s for s in staff.values()}
    viewer = Viewer(staff_id=me.id, role=me.role, team_id=me.team_id)
    for worry, sketch in zip(worries, org.worries, strict=True):
        owner = by_id.get(worry.owner_id) if worry.owner_id else None
        parties = WorryParties(
            raiser_id=worry.raiser_id,
            raiser_team_id=worry.raiser_team_id,
            to_team_id=worry.to_team_id,
            owner_id=worry.owner_id,
            owner_team_id=owner.team_id if owner else None,
            recipient_ids=frozenset(staff[org.people[i].user].id for i in sketch.sent_to),
        )
        if sketch.child_ref and can_read(viewer, parties):
            visible.add(sketch.child_ref)
    return visible


async def ask_everything(bot: Bot, people: list[str], commands: list[str]) -> dict[str, dict[str, str]]:
    """Everyone asks every command and opens App Home, all at once; what each was shown, by command.

    Each command is typed in a channel of its own, so its replies are told apart by channel.
    """
    ws = bot.ws
    start = len(ws.messages)
    asks = [(user, command, f"CASK{n:02d}") for n, command in enumerate(commands) for user in people]
    results = await asyncio.gather(
        *(ws.command(user, command, channel) for user, command, channel in asks),
        *(ws.open_home(user) for user in people),
    )
    await ws.settle()
    assert {status for status, _ in results} == {200}
    new = [m for m in ws.messages[start:] if m.user == ws.bot_user_id]
    seen: dict[str, dict[str, str]] = {user: {} for user in people}
    for user, command, channel in asks:
        replies = [m for m in new if m.ephemeral_to == user and m.channel == channel]
        assert replies, f"no answer to {command} from {user}"
        seen[user][command] = shown(replies, None)
    for user in people:
        seen[user]["App Home"] = shown([], ws.home_of(user))
    return seen


def shown(answer_messages: list[object], view: object | None) -> str:
    """Everything a person is sent: texts, blocks, button values, hidden metadata."""
    return json.dumps([m.__dict__ for m in answer_messages] + [view], default=str)  # type: ignore[attr-defined]


@pytest.fixture
def loop(db: Database, clock: FixedClock, settings: Settings) -> Iterator[Loop]:
    harness = Loop(db.url, clock, settings)
    yield harness
    harness.close()


def test_no_answer_to_anyone_shows_a_child_reference_they_may_not_see(loop: Loop) -> None:
    bot = loop.bot

    @settings(
        max_examples=max(10, fuzz_inputs(bot.deps.db) // 40),
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(org=orgs(), data=st.data())
    def authority(org: Org, data: st.DataObject) -> None:
        staff = loop.run(build(loop, org))

        async def stored_worries() -> list[Worry]:
            async with bot.deps.db.session() as session:
                return list(await session.scalars(select(Worry).order_by(Worry.id)))

        worries = loop.run(stored_worries())
        every_ref = set(org.children) | {w.child_ref for w in org.worries if w.child_ref}
        asked_about = data.draw(st.sampled_from(sorted(every_ref | {NOBODY_HAS})), label="asked about")
        other_team = data.draw(st.sampled_from(org.teams()), label="other team")
        colleague = data.draw(st.sampled_from(org.people), label="colleague").user
        commands = [
            "/caseload",
            "/caseload team",
            f"/caseload team {other_team}",
            f"/caseload <@{colleague}>",
            "/visits",
            "/visits team",
            f"/visits {asked_about}",
            f"/visits {NOBODY_HAS}",
            "/whosin",
            f"/whosin {other_team}",
            "/worried list",
            "/desk mine",
        ]
        everyone = {p.user: p for p in org.people}
        start = len(bot.ws.messages)
        with failures() as failed:
            seen = loop.run(ask_everything(bot, list(everyone), commands))
        assert not failed.records, str(failed)
        assert apologies(bot, start) == []

        for user, person in everyone.items():
            visible = may_see(org, staff, person, worries)
            for command, text in seen[user].items():
                typed = set(command.split()[1:])
                leaked = sorted(r for r in every_ref - visible - typed if r in text)
                assert not leaked, f"{command} from {user} ({person.role}, {person.team}) shows {leaked}"
            # An admin may ask about any child on the list by reference (handlers.visits.may_view).
            admin_may_ask = person.role == "admin" and asked_about in org.children
            if asked_about not in visible and not admin_may_ask:
                # No oracle: a child you may not see reads exactly like one that doesn't exist.
                about = seen[user][f"/visits {asked_about}"]
                nothing = seen[user][f"/visits {NOBODY_HAS}"].replace(NOBODY_HAS, asked_about)
                assert _words(about) == _words(nothing), f"/visits {asked_about} from {user} tells it exists"

    authority()


def _words(shown_json: str) -> list[str]:
    """The texts of what was shown (message ids and timestamps differ between two asks)."""
    return [str(m.get("text")) + json.dumps(m.get("blocks")) for m in json.loads(shown_json) if m]
