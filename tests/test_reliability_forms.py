"""Bad input to every form (modal): problems shown in the form, never an exception, and
a rejected form writes nothing.

Hypothesis fills every field of the four forms with what Slack can send and what it
can't: real and impossible dates, options the form never offered (a stale form),
text of any length and alphabet, missing blocks. Each example is a few colleagues
pressing Submit at the same moment: 1,000 submissions per form with CI=true (on
PostgreSQL; 100 on SQLite, see `fuzz_inputs`), 100 locally. For every submission:

- the bot answers HTTP 200, either accepting (an empty ack) or with
  `response_action: errors` naming the fields to fix; no apology, nothing reaches
  Bolt's error handler;
- what the feature's pure rule says is wrong (bot.worries.validate_raise, a date
  outside bot.desks.BookingWindow, ...) is answered with errors for exactly those
  fields, and those submissions, sent first and on their own, change no row;
- the same wrong form submitted again unchanged is checked again (not mistaken for
  a duplicate and closed).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.clock import FixedClock
from bot.desks import BookingWindow
from bot.policy import DESK_TAGS
from bot.settings import Settings
from bot.worries import OUTCOMES, OutcomeForm, RaiseForm, validate_outcome, validate_raise
from storage.db import Database
from storage.org import Staff
from tests.reliability_steps import (
    Loop,
    apologies,
    failures,
    fingerprint,
    form_from_command,
    form_from_home,
    fuzz_inputs,
    is_errors,
    submit_at_once,
    taken_worry,
)
from tests.worries_steps import co_located_floor

# Ten colleagues, every role, pressing Submit at the same moment.
CROWD = ("tom", "priya", "rory", "joe", "amira", "zara", "ellie", "mgr", "kate", "alex")
TODAY = date(2026, 11, 23)  # the clock fixture's Monday, 09:00
NOW = time(9, 0)

JUNK = st.text(max_size=40)
DATES = st.one_of(
    st.dates(min_value=date(2026, 10, 1), max_value=date(2027, 1, 31)),
    st.dates(min_value=date(1900, 1, 1), max_value=date(2999, 12, 31)),
).map(date.isoformat)
# What a datepicker sends, and what no datepicker sends.
PICKED = st.one_of(st.none(), DATES, DATES, JUNK)
REFS = ["IPS101", "ips101", "IPS102", "IPS201", "LOW301", "LOW302", "ASM201", "EH401", "EH402", "NOPE999"]
WORDS = st.one_of(
    st.just("Dad shouted at the children and they went quiet"),
    st.just(""),
    st.just("   "),
    JUNK,
    # Around and past the 3,000-character limit (built cheaply: hypothesis is slow to draw long text).
    st.builds(lambda c, n: c * n, st.sampled_from(["a", "é", "🙂", "a "]), st.integers(1501, 3100)),
)


def entry(kind: str, **value: Any) -> dict[str, Any]:
    return {"type": kind, **value}


def option(value: str | None) -> dict[str, Any] | None:
    return None if value is None else {"value": value}


def blocks(values: dict[str, dict[str, Any]], missing: list[str]) -> dict[str, Any]:
    """Slack's `view.state.values` (block -> action -> element state), less `missing` blocks."""
    return {block: actions for block, actions in values.items() if block not in missing}


@pytest.fixture
def loop(db: Database, clock: FixedClock, settings: Settings) -> Iterator[Loop]:
    harness = Loop(db.url, clock, settings)
    harness.run(co_located_floor(harness.bot))
    # So that ten people (every role) each have a child to record a visit for or name in a worry.
    harness.run(
        harness.bot.children(
            "ASM201,rory,assessment",
            "ASM202,rory,cin",
            "LOW302,ellie,cla",
            "EH402,amira,early_help",
            "EH501,zara,early_help",
            full=False,
        )
    )
    yield harness
    harness.close()


def open_from_home(loop: Loop, user: str, action_id: str, value: str) -> str:
    return loop.run(form_from_home(loop.bot, user, action_id, value))


def open_by_command(loop: Loop, user: str, command: str) -> str:
    return loop.run(form_from_command(loop.bot, user, command))


def fuzz_forms(
    loop: Loop,
    views: dict[str, str],
    values: st.SearchStrategy[dict[str, Any]],
    predicted: Any,
    reopen: Any = None,
) -> None:
    """Submit fuzzed `values` from each person at once, many times; check every answer.

    `predicted(user, values)` is the set of fields the pure rule rejects (empty: it may be
    accepted); `reopen(user)` gives a fresh form after one was accepted.
    """
    bot = loop.bot
    people = list(views)
    known: dict[str, str] = {}

    @settings(
        max_examples=max(1, fuzz_inputs(bot.deps.db) // len(people)),
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(st.lists(values, min_size=len(people), max_size=len(people)))
    def crowd(filled: list[dict[str, Any]]) -> None:
        forms = {user: (views[user], v) for user, v in zip(people, filled, strict=True)}
        expected = {user: predicted(user, v) for user, (_, v) in forms.items()}
        wrong = {u: f for u, f in forms.items() if expected[u]}
        rest = {u: f for u, f in forms.items() if not expected[u]}
        start, errors = len(bot.ws.messages), len(bot.ws.errors)
        answers: dict[str, tuple[int, dict[str, Any] | None]] = {}
        with failures() as failed:
            if wrong:
                before = known.get("now") or loop.run(fingerprint(bot.deps.db))
                answers = loop.run(submit_at_once(bot, wrong))
                for user, (status, response) in answers.items():
                    said = f"{user} submitted {forms[user][1]!r}"
                    assert status == 200, said
                    assert is_errors(response), f"{said}: expected errors on {expected[user]}, got {response}"
                    assert response is not None
                    assert set(response["errors"]) == expected[user], said
                after = loop.run(fingerprint(bot.deps.db))
                assert after == before, f"a rejected form wrote something: {wrong!r}"
                known["now"] = after
            if rest:
                answers = loop.run(submit_at_once(bot, rest))
                known.clear()
        assert not failed.records, f"{forms!r}: {failed}"
        assert apologies(bot, start) == [], repr(forms)
        assert bot.ws.errors[errors:] == []
        for user, (status, response) in answers.items():
            assert status == 200
            assert response is None or is_errors(response), response
            if response is None and reopen is not None:
                views[user] = reopen(user)

    crowd()


# --- Record a visit -----------------------------------------------------------------------


VISIT_FORM = st.builds(
    lambda picked, ticked, missing: blocks(
        {
            "visited_on": {"date": entry("datepicker", selected_date=picked)},
            "confirm": {"confirm": entry("checkboxes", selected_options=ticked)},
        },
        missing,
    ),
    PICKED,
    st.one_of(st.just([]), st.just([{"value": "yes"}]), st.lists(st.builds(option, JUNK), max_size=2)),
    st.lists(st.sampled_from(["visited_on", "confirm"]), max_size=2),
)


def visit_problems(user: str, values: dict[str, Any]) -> set[str]:
    """No date, a date no one can read, or a visit in the future (bot.visits.check_visit_date)."""
    picked = values.get("visited_on", {}).get("date", {}).get("selected_date")
    try:
        visited = date.fromisoformat(picked) if picked else None
    except ValueError:
        visited = None
    return {"visited_on"} if visited is None or visited > TODAY else set()


def test_the_record_a_visit_form_answers_any_input_and_a_rejected_one_writes_nothing(loop: Loop) -> None:
    # Each worker's form for one of their children; the manager's for a child in the team.
    holders = {
        **{"tom": "IPS101", "priya": "IPS201", "ellie": "LOW301", "joe": "EH401", "rory": "ASM201"},
        **{"amira": "EH402", "zara": "EH501", "mgr": "IPS102", "helen": "ASM202", "martin": "LOW302"},
    }
    loop.run(loop.bot.command("tom", "/visit IPS101 2026-11-10"))  # a last visit to be earlier than
    views = {user: open_from_home(loop, user, "visits.record", ref) for user, ref in holders.items()}
    fuzz_forms(loop, views, VISIT_FORM, visit_problems)


# --- Book a desk -------------------------------------------------------------------------


def desk_form(picked: str | None, half: str | None, office: str | None, needs: list[str], missing: list[str]) -> Any:
    return blocks(
        {
            "day": {"day": entry("datepicker", selected_date=picked)},
            "half": {"half": entry("static_select", selected_option=option(half))},
            "office": {"office": entry("static_select", selected_option=option(office))},
            "needs": {"needs": entry("checkboxes", selected_options=[{"value": n} for n in needs])},
        },
        missing,
    )


DESK_FORM = st.builds(
    desk_form,
    PICKED,
    st.one_of(st.none(), st.sampled_from(["day", "am", "pm"]), JUNK),
    st.one_of(st.none(), st.sampled_from(["Ipswich", "Lowestoft"]), JUNK),
    st.lists(st.one_of(st.sampled_from(DESK_TAGS), JUNK), max_size=3),
    st.lists(st.sampled_from(["day", "half", "office", "needs"]), max_size=2),
)


def desk_problems(loop: Loop) -> Any:
    window = BookingWindow(TODAY, NOW, loop.bot.deps.policy.desks.horizon_days, loop.bot.deps.calendar)

    def problems(user: str, values: dict[str, Any]) -> set[str]:
        """No day, one no one can read, or one outside the booking window (bot.desks.BookingWindow)."""
        picked = values.get("day", {}).get("day", {}).get("selected_date")
        half = ((values.get("half", {}).get("half", {}) or {}).get("selected_option") or {}).get("value")
        try:
            day = date.fromisoformat(picked) if picked else None
        except ValueError:
            day = None
        span = half if half in ("am", "pm", "day") else "day"
        return {"day"} if day is None or window.problem(day, span) else set()

    return problems


def test_the_book_a_desk_form_answers_any_input_and_a_rejected_one_writes_nothing(loop: Loop) -> None:
    views = {user: open_by_command(loop, user, "/desk") for user in CROWD}
    fuzz_forms(loop, views, DESK_FORM, desk_problems(loop))


# --- Raise a worry -----------------------------------------------------------------------


def raise_form(
    worried: str, well: str, needs: str, scale: str | None, ref: str | None, urgency: str | None, missing: list[str]
) -> Any:
    def text(value: str | None) -> dict[str, Any]:
        return entry("plain_text_input", value=value)

    return blocks(
        {
            "worried": {"worried": text(worried)},
            "working_well": {"working_well": text(well)},
            "needs_to_happen": {"needs_to_happen": text(needs)},
            "scale": {"scale": entry("number_input", value=scale)},
            "child_ref": {"child_ref": text(ref)},
            "urgency": {"urgency": entry("radio_buttons", selected_option=option(urgency))},
        },
        missing,
    )


RAISE_FORM = st.builds(
    raise_form,
    WORDS,
    WORDS,
    WORDS,
    st.one_of(st.none(), st.integers(-3, 13).map(str), st.sampled_from(["4.5", "1e1", " 7 ", "٣", "²"]), JUNK),
    st.one_of(st.none(), st.just(""), st.sampled_from(REFS), JUNK),
    st.one_of(st.none(), st.sampled_from(["today", "week"]), JUNK),
    st.lists(
        st.sampled_from(["worried", "working_well", "needs_to_happen", "scale", "child_ref", "urgency"]), max_size=2
    ),
)


def text_of(values: dict[str, Any], block: str, key: str = "value") -> str:
    element = (values.get(block) or {}).get(block) or {}
    if key == "selected_option":
        return str((element.get("selected_option") or {}).get("value") or "")
    return str(element.get(key) or "").replace("\x00", "")


def raise_problems(holdings: dict[str, set[str]]) -> Any:
    def problems(user: str, values: dict[str, Any]) -> set[str]:
        """What bot.worries.validate_raise rejects; a reference counts if the raiser may name it."""
        form = RaiseForm(
            worried=text_of(values, "worried"),
            working_well=text_of(values, "working_well"),
            needs_to_happen=text_of(values, "needs_to_happen"),
            scale=text_of(values, "scale"),
            child_ref=text_of(values, "child_ref"),
            urgency=text_of(values, "urgency", "selected_option"),
        )
        known = form.child_ref.strip().upper() in holdings[user]
        return set(validate_raise(form, child_known=known)[1])

    return problems


def test_the_raise_a_worry_form_answers_any_input_and_a_rejected_one_writes_nothing(loop: Loop) -> None:
    # Whose references each may name (a child they hold; a manager's team's children).
    holdings = {
        **{"tom": {"IPS101", "IPS102"}, "priya": {"IPS201"}, "ellie": {"LOW301", "LOW302"}, "joe": {"EH401"}},
        **{"rory": {"ASM201", "ASM202"}, "amira": {"EH402"}, "zara": {"EH501"}, "alex": set()},
        **{"mgr": {"IPS101", "IPS102", "IPS201"}, "helen": {"ASM201", "ASM202"}},
    }
    views = {user: open_by_command(loop, user, "/worried") for user in holdings}
    fuzz_forms(
        loop,
        views,
        RAISE_FORM,
        raise_problems(holdings),
        reopen=lambda user: open_by_command(loop, user, "/worried"),
    )


# --- Record a worry's outcome ---------------------------------------------------------------


def outcome_form(outcome: str | None, note: str, worker: str | None, ref: str | None, missing: list[str]) -> Any:
    return blocks(
        {
            "outcome": {"outcome": entry("radio_buttons", selected_option=option(outcome))},
            "note": {"note": entry("plain_text_input", value=note)},
            "worker": {"worker": entry("static_select", selected_option=option(worker))},
            "child_ref": {"child_ref": entry("plain_text_input", value=ref)},
        },
        missing,
    )


def outcome_problems(staff: dict[str, Staff]) -> Any:
    ids = {str(s.id): s for s in staff.values()}

    def problems(user: str, values: dict[str, Any]) -> set[str]:
        """What bot.worries.validate_outcome rejects, and a worker who isn't in early help."""
        worker = text_of(values, "worker", "selected_option")
        form = OutcomeForm(
            outcome=text_of(values, "outcome", "selected_option"),
            note=text_of(values, "note"),
            worker_id=int(worker) if worker.isascii() and worker.isdigit() else None,
            child_ref=text_of(values, "child_ref"),
        )
        draft, errors = validate_outcome(form)
        if draft is not None and draft.worker_id is not None:
            chosen = ids.get(str(draft.worker_id))
            if chosen is None or chosen.role != "early_help":
                return {"worker"}
        return set(errors)

    return problems


def test_the_outcome_form_answers_any_input_and_a_rejected_one_writes_nothing(loop: Loop) -> None:
    bot = loop.bot

    async def everyone() -> dict[str, Staff]:
        async with bot.deps.db.session() as session:
            return {s.user_id: s for s in await session.scalars(select(Staff))}

    staff = loop.run(everyone())
    ids = [str(s.id) for s in staff.values()]
    form = st.builds(
        outcome_form,
        st.one_of(st.none(), st.sampled_from(OUTCOMES), JUNK),
        WORDS.map(lambda w: w[:600]),
        st.one_of(st.none(), st.sampled_from(ids), st.sampled_from(["0", "-1", "99999", "²", "٣"]), JUNK),
        st.one_of(st.none(), st.just(""), st.sampled_from(REFS), JUNK),
        st.lists(st.sampled_from(["outcome", "note", "worker", "child_ref"]), max_size=2),
    )

    def fresh(user: str) -> str:
        return open_from_home(loop, user, "worries.record_outcome", str(loop.run(taken_worry(bot, user))))

    owners = CROWD
    views = {user: fresh(user) for user in owners}
    fuzz_forms(loop, views, form, outcome_problems(staff), reopen=fresh)
