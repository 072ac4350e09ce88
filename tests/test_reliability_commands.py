"""Bad input to every slash command: an answer every time, never an exception, and
text the command can't read writes nothing.

Hypothesis fuzzes what people type after /caseload, /visit, /visits, /desk, /whosin
and /worried. Each example is a crowd: ten colleagues (every role) typing at the
same moment, so 100 examples are 1,000 texts per command (CI=true, on PostgreSQL;
100 texts on SQLite, see `fuzz_inputs`); 10 examples (100 texts) locally. For every text:

- the bot answers (a reply, or the form it opens), with HTTP 200 and no apology;
- nothing reaches Bolt's error handler;
- if the command's own parser (the pure `parse_*` in bot/<feature>.py) rejects the
  text, the reply is that parser's message (with the usage) and no row anywhere
  changed (the rejected texts of an example are sent first, on their own, and
  every table is compared before and after).

Text the parser accepts may legitimately write (`/desk tomorrow` books a desk).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import caseload, desks, visits, worries
from bot.clock import FixedClock
from bot.settings import Settings
from handlers.desks import ensure_desks
from storage import desks as desk_store
from storage.db import Database
from tests.reliability_steps import Loop, apologies, failures, fingerprint, fuzz_inputs, received_text, type_at_once
from tests.worries_steps import co_located_floor

CROWD = ["mgr", "tom", "priya", "helen", "rory", "kate", "joe", "amira", "alex", "ellie"]

# Words each command knows, and near misses, so examples reach past the first word.
VOCABULARY = [
    *("team", "help", "?", "me", "mine", "list", "new", "raise", "open", "bookings", "my"),
    *("today", "tomorrow", "yesterday", "friday", "fri", "sat", "sunday", "am", "pm", "day", "morning"),
    *("every", "off", "stop", "never", "cancel", "in", "check", "i'm", "here", "needs", "none", "clear"),
    *("share", "on", "yes", "no", "confirm", "quiet", "adjusted_chair", "chair", "dual", "standing"),
    *("accessible", "desk", "at", "for", "Ipswich", "Lowestoft", "CIN", "2", "Ipswich CIN 2", "Lowestoft CLA"),
    *("<@tom>", "<@mgr|grace>", "<@priya>", "<@nobody>", "<@>", "<#C123|team>", "<!here>"),
    *("2026-11-20", "2026-11-24", "2027-01-04", "2026-13-45", "0000-00-00", "20/11/2026", "31/2", "1/12"),
    *("0/0/0", "99/99/99", "IPS101", "ips101", "IPS201", "LOW301", "EH401", "NOPE999", "../..", "-1", "1e9"),
    *("🙂", "\u00a0", "\u200b", "'", '"', "`", "*", "_", "~", "&lt;", "<", ">", "&", "\x00", "%00", "%", "+"),
    *("\\", "\n", "\t", "DROP TABLE staff;", "' OR 1=1 --", "x" * 70),
]
TEXT = st.one_of(
    st.text(max_size=80),
    st.lists(st.sampled_from(VOCABULARY), max_size=6).map(" ".join),
)
CROWD_TEXTS = st.lists(TEXT, min_size=len(CROWD), max_size=len(CROWD))

TODAY = date(2026, 11, 23)  # the clock fixture's Monday


@pytest.fixture
def loop(db: Database, clock: FixedClock, settings: Settings) -> Iterator[Loop]:
    harness = Loop(db.url, clock, settings)
    harness.run(co_located_floor(harness.bot))
    # The office layout is loaded on first use of /desk: a setup step, not something typed.
    harness.run(ensure_desks(harness.bot.deps, harness.bot.deps.workspace_id))
    yield harness
    harness.close()


def offices(loop: Loop) -> list[str]:
    async def names() -> list[str]:
        async with loop.bot.deps.db.session() as session:
            return await desk_store.office_names(session, loop.bot.deps.workspace_id)

    return loop.run(names())


def rejection(parse: Callable[[str], object], text: str) -> str | None:
    """The parser's message if it can't read `text`; None if it can."""
    try:
        parse(text)
    except (caseload.CommandError, visits.CommandError, desks.CommandError, worries.CommandError) as e:
        return e.message
    return None


def parsers(loop: Loop) -> dict[str, Callable[[str], object]]:
    known = offices(loop)
    return {
        "/caseload": caseload.parse_command,
        "/visit": lambda t: visits.parse_visit(t, TODAY),
        "/visits": visits.parse_visits,
        "/desk": lambda t: desks.parse_command(t, TODAY, known),
        "/whosin": lambda t: desks.parse_whosin(t, TODAY),
        "/worried": worries.parse_command,
    }


@pytest.mark.parametrize("command", ["/caseload", "/visit", "/visits", "/desk", "/whosin", "/worried"])
def test_any_text_after_a_command_gets_an_answer_and_text_it_cannot_read_writes_nothing(
    loop: Loop, command: str
) -> None:
    bot = loop.bot
    parse = parsers(loop)[command]
    known: dict[str, str] = {}  # the fingerprint, while nothing has written since it was taken

    @settings(
        max_examples=max(1, fuzz_inputs(bot.deps.db) // len(CROWD)),
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(texts=CROWD_TEXTS)
    def crowd(texts: list[str]) -> None:
        typed = dict(zip(CROWD, texts, strict=True))
        problems = {user: rejection(parse, received_text(command, text)) for user, text in typed.items()}
        rejected = {u: t for u, t in typed.items() if problems[u] is not None}
        accepted = {u: t for u, t in typed.items() if problems[u] is None}
        start, errors = len(bot.ws.messages), len(bot.ws.errors)

        with failures() as failed:
            answers = {}
            if rejected:
                before = known.get("now") or loop.run(fingerprint(bot.deps.db))
                answers = loop.run(type_at_once(bot, command, rejected))
                after = loop.run(fingerprint(bot.deps.db))
                assert after == before, f"{command}: text the parser rejects wrote something: {rejected!r}"
                known["now"] = after
            if accepted:
                answers |= loop.run(type_at_once(bot, command, accepted))
                known.clear()

        assert not failed.records, f"{command} {typed!r}: {failed}"
        assert apologies(bot, start) == [], f"{command} {typed!r}"
        assert bot.ws.errors[errors:] == []
        for user, answer in answers.items():
            said = f"{command} {typed[user]!r} from {user}"
            assert answer.status == 200, said
            assert answer.answered, f"no answer to {said}"
            if problems[user] is not None:
                # The parser's own words, with the usage beneath them.
                assert any(m.text == problems[user] for m in answer.replies), (
                    f"{said}: expected {problems[user]!r}, got {[m.text for m in answer.replies]!r}"
                )

    crowd()
