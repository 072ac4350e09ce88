"""Hot-desking with team bases: the layout, the /desk and /whosin commands, allocation.

Domain (domain.md, "Desks"): everyone hot-desks and teams have bases; there may
be one desk for every ten staff; people with adjusted or accessible chairs must
be able to rely on getting them; a worker back from a difficult visit wants to
sit with their team. So: zones as team bases, half days, equipment needs, a fair
answer when full (alternatives and a waitlist), and knowing who of your team is in.

Nothing here touches Slack, the database or the system clock.
"""

from __future__ import annotations

import re
import tomllib
import zlib
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.calendar import WorkingCalendar
from bot.commands import CommandError
from bot.policy import DESK_TAGS

Half = Literal["am", "pm"]
Span = Literal["am", "pm", "day"]
HALVES: tuple[Half, ...] = ("am", "pm")

# After this time a booking for today can only be for the afternoon.
MORNING_ENDS = time(13, 0)
# A booking made this close to its release time is left alone: its owner may be on the way.
RELEASE_GRACE = timedelta(minutes=30)


def halves_of(span: Span) -> tuple[Half, ...]:
    return HALVES if span == "day" else (span,)


def span_of(halves: Collection[str]) -> Span:
    if set(halves) >= {"am", "pm"}:
        return "day"
    return "am" if "am" in halves else "pm"


SPAN_LABELS: dict[str, str] = {"am": "morning", "pm": "afternoon", "day": "all day"}


# --- the layout file --------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DeskSpec(_Strict):
    code: str = Field(min_length=1, max_length=40)
    tags: tuple[str, ...] = ()

    @field_validator("tags")
    @classmethod
    def _known_tags(cls, tags: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(tags) - set(DESK_TAGS))
        if unknown:
            raise ValueError(f"unknown tag {', '.join(unknown)} (known: {', '.join(DESK_TAGS)})")
        return tags


class ZoneSpec(_Strict):
    name: str = Field(min_length=1, max_length=60)
    team_base: str | None = Field(default=None, max_length=100)
    desks: tuple[DeskSpec, ...] = Field(min_length=1)


class FloorSpec(_Strict):
    name: str = Field(min_length=1, max_length=60)
    zones: tuple[ZoneSpec, ...] = Field(min_length=1)


class OfficeSpec(_Strict):
    name: str = Field(min_length=1, max_length=100)
    floors: tuple[FloorSpec, ...] = Field(min_length=1)


@dataclass(frozen=True)
class DeskSpot:
    """One desk where it sits. `id` is the database row (0 before it is stored)."""

    code: str
    office: str
    floor: str
    zone: str
    tags: frozenset[str] = frozenset()
    team_base: str | None = None
    position: int = 0
    """Seating order within the zone: desks one apart are neighbours."""
    id: int = 0

    @property
    def where(self) -> str:
        return f"{self.office}, {self.floor}, {self.zone}"


class Layout(_Strict):
    offices: tuple[OfficeSpec, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Layout:
        seen_offices: set[str] = set()
        codes: dict[str, str] = {}
        bases: dict[str, str] = {}
        for office in self.offices:
            if office.name.lower() in seen_offices:
                raise ValueError(f"office '{office.name}' appears twice")
            seen_offices.add(office.name.lower())
            for floor in office.floors:
                zones = [z.name.lower() for z in floor.zones]
                if len(zones) != len(set(zones)):
                    raise ValueError(f"{office.name}, {floor.name}: two zones have the same name")
                for zone in floor.zones:
                    where = f"{office.name}, {floor.name}, {zone.name}"
                    if zone.team_base:
                        if zone.team_base in bases:
                            raise ValueError(
                                f"team '{zone.team_base}' has two bases "
                                f"({bases[zone.team_base]} and {where}); "
                                "give each team one zone"
                            )
                        bases[zone.team_base] = where
                    for desk in zone.desks:
                        if desk.code in codes:
                            raise ValueError(f"desk code {desk.code} is used twice ({codes[desk.code]} and {where})")
                        codes[desk.code] = where
        return self

    def spots(self) -> list[DeskSpot]:
        out: list[DeskSpot] = []
        for office in self.offices:
            for floor in office.floors:
                for zone in floor.zones:
                    for i, desk in enumerate(zone.desks):
                        out.append(
                            DeskSpot(
                                code=desk.code,
                                office=office.name,
                                floor=floor.name,
                                zone=zone.name,
                                tags=frozenset(desk.tags),
                                team_base=zone.team_base,
                                position=i,
                            )
                        )
        return out

    def office_names(self) -> tuple[str, ...]:
        return tuple(o.name for o in self.offices)


class LayoutError(Exception):
    """A layout file that cannot be used; the message is for a person."""


def parse_layout(text: str, source: str = "layout") -> Layout:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise LayoutError(f"{source}: not valid TOML: {e}") from e
    try:
        return Layout.model_validate(raw)
    except ValidationError as e:
        lines = [f"{source}: {e.error_count()} problem(s)"]
        for err in e.errors():
            where = ".".join(str(p) for p in err["loc"]) or "(top level)"
            msg = str(err["msg"]).removeprefix("Value error, ")
            lines.append(f"  {where}: {msg}")
        raise LayoutError("\n".join(lines)) from e


def load_layout(path: Path) -> Layout:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as e:
        raise LayoutError(f"{path}: no such file") from e
    return parse_layout(text, str(path))


@dataclass(frozen=True)
class LayoutSummary:
    offices: int
    floors: int
    zones: int
    desks: int
    team_bases: tuple[str, ...]
    tags: dict[str, int]


def summarise_layout(layout: Layout) -> LayoutSummary:
    spots = layout.spots()
    tags: dict[str, int] = {}
    for spot in spots:
        for tag in spot.tags:
            tags[tag] = tags.get(tag, 0) + 1
    return LayoutSummary(
        offices=len(layout.offices),
        floors=sum(len(o.floors) for o in layout.offices),
        zones=sum(len(f.zones) for o in layout.offices for f in o.floors),
        desks=len(spots),
        team_bases=tuple(sorted({s.team_base for s in spots if s.team_base})),
        tags=dict(sorted(tags.items())),
    )


# --- dates ----------------------------------------------------------------------

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAY_ALIASES = {
    "mon": 0,
    "tue": 1,
    "tues": 1,
    "wed": 2,
    "weds": 2,
    "thu": 3,
    "thur": 3,
    "thurs": 3,
    "fri": 4,
    "sat": 5,
    "sun": 6,
    **{name: i for i, name in enumerate(WEEKDAYS)},
}
_DMY = re.compile(r"^(\d{1,2})/(\d{1,2})(?:/(\d{2}|\d{4}))?$")


def parse_day(word: str, today: date) -> date | None:
    """A date word relative to `today`, or None if `word` is not one.

    Weekday names mean the next such day, today included ("friday" on a
    Friday is today). Raises ValueError for something date-shaped but impossible.
    """
    w = word.lower()
    if w == "today":
        return today
    if w == "tomorrow":
        return today + timedelta(days=1)
    weekday = _WEEKDAY_ALIASES.get(w)
    if weekday is not None:
        return today + timedelta(days=(weekday - today.weekday()) % 7)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", w):
        return date.fromisoformat(w)
    m = _DMY.match(w)
    if m:
        day, month = int(m.group(1)), int(m.group(2))
        year_text = m.group(3)
        if year_text is None:
            candidate = date(today.year, month, day)
            # "3/1" typed in December means next January.
            return candidate if candidate >= today - timedelta(days=31) else date(today.year + 1, month, day)
        year = int(year_text) + (2000 if len(year_text) == 2 else 0)
        return date(year, month, day)
    return None


@dataclass(frozen=True)
class BookingWindow:
    """When bookings can be made, as of a moment: the clock is passed in."""

    today: date
    now: time
    horizon_days: int
    calendar: WorkingCalendar

    @property
    def last_day(self) -> date:
        return self.today + timedelta(days=self.horizon_days)

    def default_day(self) -> date:
        if self.calendar.is_working_day(self.today) and self.now < MORNING_ENDS:
            return self.today
        return self.calendar.next_working_day(self.today + timedelta(days=1))

    def problem(self, day: date, span: Span = "day") -> str | None:
        """Why `day` can't be booked (a sentence saying what is allowed), or None."""
        allowed = f"You can book working days from today up to {_day(self.last_day)} ({self.horizon_days} days ahead)."
        if day < self.today:
            return f"{_day(day)} has already passed. {allowed}"
        if day > self.last_day:
            return f"{_day(day)} is too far ahead. {allowed}"
        if day.weekday() >= 5:
            return f"{_day(day)} is a weekend: desks are booked for working days. {allowed}"
        if not self.calendar.is_working_day(day):
            return f"{_day(day)} is a bank holiday, so the offices are closed. {allowed}"
        if day == self.today and span == "am" and self.now >= MORNING_ENDS:
            return "This morning has gone: book `pm` for this afternoon, or another day."
        return None

    def halves_for(self, day: date, span: Span) -> tuple[Half, ...]:
        """A whole day asked for this afternoon means the afternoon."""
        if day == self.today and span == "day" and self.now >= MORNING_ENDS:
            return ("pm",)
        return halves_of(span)


def _day(d: date) -> str:
    return f"{d:%a} {d.day} {d:%b}"


def working_days(start: date, end: date, calendar: WorkingCalendar) -> list[date]:
    out: list[date] = []
    current = start
    while current <= end:
        if calendar.is_working_day(current):
            out.append(current)
        current += timedelta(days=1)
    return out


def recurring_days(weekday: int, window: BookingWindow) -> list[date]:
    """The days a weekly booking on `weekday` covers within the horizon."""
    first = window.today if window.now < MORNING_ENDS else window.today + timedelta(days=1)
    return [d for d in working_days(first, window.last_day, window.calendar) if d.weekday() == weekday]


# --- the /desk command ------------------------------------------------------------

USAGE = (
    "*How to use /desk*\n"
    "• `/desk`: open the booking form\n"
    "• `/desk tomorrow`, `/desk friday pm`, `/desk 2026-12-01 am quiet`: book a desk "
    "(`today`, `tomorrow`, a weekday or a date; `am`, `pm` or `day`; any needs; an office)\n"
    "• `/desk mine`: your upcoming bookings and waitlist places\n"
    "• `/desk cancel friday`: cancel a booking (or your waitlist place)\n"
    "• `/desk in`: check in to today's desk\n"
    "• `/desk needs adjusted_chair`: needs that apply to every booking "
    "(`/desk needs none` clears them)\n"
    "• `/desk every tuesday`: book every Tuesday ahead (`/desk every tuesday off` stops it)\n"
    "• `/desk share on|off`: let your team see when you're in (`/whosin`); off by default\n"
    f"Needs: {', '.join(DESK_TAGS)}."
)

WHOSIN_USAGE = (
    "*How to use /whosin*\n"
    "• `/whosin`: who of your team is in today, by zone\n"
    "• `/whosin tomorrow`, `/whosin Lowestoft CLA friday`: another day or team\n"
    "Only people who chose to share (`/desk share on`) are named; "
    "managers also see how full each zone is."
)


@dataclass(frozen=True)
class Book:
    day: date
    span: Span = "day"
    needs: frozenset[str] = frozenset()
    office: str | None = None
    with_standing_needs: bool = True
    """False when booking an alternative the worker chose knowing it lacks something."""


@dataclass(frozen=True)
class OpenForm:
    pass


@dataclass(frozen=True)
class Mine:
    pass


@dataclass(frozen=True)
class Cancel:
    day: date
    span: Span = "day"


@dataclass(frozen=True)
class CheckIn:
    pass


@dataclass(frozen=True)
class SetNeeds:
    needs: frozenset[str]


@dataclass(frozen=True)
class ShowNeeds:
    pass


@dataclass(frozen=True)
class Share:
    on: bool


@dataclass(frozen=True)
class Every:
    weekday: int
    span: Span = "day"
    needs: frozenset[str] = frozenset()
    office: str | None = None


@dataclass(frozen=True)
class StopEvery:
    weekday: int


@dataclass(frozen=True)
class Help:
    pass


DeskCommand = Book | OpenForm | Mine | Cancel | CheckIn | SetNeeds | ShowNeeds | Share | Every | StopEvery | Help

_SPANS: dict[str, Span] = {
    "am": "am",
    "morning": "am",
    "pm": "pm",
    "afternoon": "pm",
    "day": "day",
    "allday": "day",
    "all-day": "day",
    "all_day": "day",
}
_NEED_ALIASES = {
    "chair": "adjusted_chair",
    "adjusted": "adjusted_chair",
    "dual": "dual_screen",
    "screens": "dual_screen",
    "standing_desk": "standing",
    "wheelchair": "accessible",
}
_FILLERS = frozenset({"at", "in", "on", "a", "desk", "for", "the", "with", "need", "needs", "office"})


def need_of(word: str) -> str | None:
    w = word.lower().replace("-", "_")
    if w in DESK_TAGS:
        return w
    return _NEED_ALIASES.get(w)


@dataclass(frozen=True)
class _Options:
    day: date | None = None
    span: Span | None = None
    needs: frozenset[str] = frozenset()
    office: str | None = None


def _allowed(offices: Sequence[str]) -> str:
    return (
        f"Needs I know: {', '.join(DESK_TAGS)}. "
        f"Offices: {', '.join(offices) or 'none set up yet'}. "
        "Days: today, tomorrow, a weekday (monday..friday) or a date (2026-12-01 or 1/12)."
    )


def _options(words: Sequence[str], today: date, offices: Sequence[str], text: str, dates: bool = True) -> _Options:
    day: date | None = None
    span: Span | None = None
    needs: set[str] = set()
    office: str | None = None
    by_lower = {o.lower(): o for o in offices}
    i = 0
    while i < len(words):
        word = words[i].lower().strip(",")
        i += 1
        if not word or word in _FILLERS:
            continue
        if word in _SPANS:
            span = _SPANS[word]
            continue
        need = need_of(word)
        if need is not None:
            needs.add(need)
            continue
        # Office names may be several words ("Lowestoft Harbour").
        matched = next(
            (
                by_lower[" ".join(w.lower() for w in words[i - 1 : i - 1 + n])]
                for n in range(3, 0, -1)
                if " ".join(w.lower() for w in words[i - 1 : i - 1 + n]) in by_lower
            ),
            None,
        )
        if matched is not None:
            office = matched
            i += len(matched.split()) - 1
            continue
        if dates:
            try:
                parsed = parse_day(word, today)
            except ValueError as e:
                raise CommandError(f"`{word}` isn't a real date.", _allowed(offices)) from e
            if parsed is not None:
                day = parsed
                continue
        raise CommandError(
            f"I didn't understand `{word}` in `/desk {text.strip()}`.",
            _allowed(offices) + "\n" + USAGE,
        )
    return _Options(day, span, frozenset(needs), office)


def parse_command(text: str, today: date, offices: Sequence[str]) -> DeskCommand:
    """`/desk TEXT` as a typed command. Dates are resolved but not checked (see BookingWindow)."""
    words = text.split()
    lowered = [w.lower() for w in words]
    match lowered:
        case []:
            return OpenForm()
        case ["help"] | ["?"]:
            return Help()
        case ["mine"] | ["list"] | ["bookings"] | ["my", "bookings"]:
            return Mine()
        case ["in"] | ["checkin"] | ["check", "in"] | ["here"] | ["i'm", "in"]:
            return CheckIn()
        case ["needs"]:
            return ShowNeeds()
        case ["needs", ("none" | "off" | "clear")]:
            return SetNeeds(frozenset())
        case ["needs", *rest]:
            unknown = [w for w in rest if need_of(w) is None]
            if unknown:
                raise CommandError(f"I don't know the need `{unknown[0]}`.", _allowed(offices))
            return SetNeeds(frozenset(n for w in rest if (n := need_of(w)) is not None))
        case ["share", ("on" | "yes")]:
            return Share(True)
        case ["share", ("off" | "no")]:
            return Share(False)
        case ["share", *_]:
            raise CommandError("Say `/desk share on` or `/desk share off`.", USAGE)
        case ["cancel", *rest]:
            opts = _options(words[1:], today, offices, text)
            if opts.needs or opts.office:
                raise CommandError(
                    "To cancel, give a day and optionally `am` or `pm`: `/desk cancel friday`.",
                    USAGE,
                )
            return Cancel(opts.day or today, opts.span or "day")
        case ["every", ("off" | "stop" | "never"), w] | [
            "every",
            w,
            ("off" | "stop" | "never"),
        ] if _WEEKDAY_ALIASES.get(w) is not None:
            return StopEvery(_WEEKDAY_ALIASES[w])
        case ["every", w, *rest] if _WEEKDAY_ALIASES.get(w) is not None:
            weekday = _WEEKDAY_ALIASES[w]
            if weekday >= 5:
                raise CommandError("Desks are for working days: pick monday to friday.", USAGE)
            opts = _options(words[2:], today, offices, text, dates=False)
            return Every(weekday, opts.span or "day", opts.needs, opts.office)
        case ["every", *_]:
            raise CommandError("Say which weekday: `/desk every tuesday` (or `pm`, needs, an office).", USAGE)
        case _:
            opts = _options(words, today, offices, text)
            if opts.day is None and opts.span is None and not opts.needs and opts.office is None:
                raise CommandError(f"I didn't understand `/desk {text.strip()}`.", USAGE)
            return Book(day=opts.day or today, span=opts.span or "day", needs=opts.needs, office=opts.office)


def book_defaults(command: Book, window: BookingWindow, text: str) -> Book:
    """`/desk am` with no day means the default day (today, or the next working day)."""
    words = [w.lower() for w in text.split()]
    has_day = any(_is_day_word(w, window.today) for w in words)
    return command if has_day else Book(window.default_day(), command.span, command.needs, command.office)


def _is_day_word(word: str, today: date) -> bool:
    try:
        return parse_day(word, today) is not None
    except ValueError:
        return True


@dataclass(frozen=True)
class WhosIn:
    team_name: str | None
    day: date


def parse_whosin(text: str, today: date) -> WhosIn:
    words = text.split()
    if [w.lower() for w in words] in (["help"], ["?"]):
        raise CommandError("How to use /whosin", WHOSIN_USAGE)
    day = today
    if words:
        try:
            parsed = parse_day(words[-1], today)
        except ValueError as e:
            raise CommandError(f"`{words[-1]}` isn't a real date.", WHOSIN_USAGE) from e
        if parsed is not None:
            day = parsed
            words = words[:-1]
    return WhosIn(" ".join(words) or None, day)


# --- allocation --------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    staff_id: int
    day: date
    halves: tuple[Half, ...]
    office: str
    needs: frozenset[str] = frozenset()
    team: str | None = None


def protected_tags(
    needs: frozenset[str], waiting_needs: Iterable[frozenset[str]], scarce: Collection[str]
) -> frozenset[str]:
    """Scarce tags someone waiting needs and this requester doesn't: not theirs to take."""
    wanted: set[str] = set()
    for other in waiting_needs:
        wanted |= other
    return frozenset(t for t in wanted if t in scarce) - needs


def fits(desk: DeskSpot, request: Request) -> bool:
    return desk.office == request.office and request.needs <= desk.tags


def rank_desks(
    free: Iterable[DeskSpot],
    request: Request,
    mates: Sequence[DeskSpot] = (),
    waiting_needs: Iterable[frozenset[str]] = (),
    scarce: Collection[str] = (),
) -> list[DeskSpot]:
    """Desks this request may have, best first.

    Every stated need is required; among those desks: the team's base, then
    next to team-mates already booked that day, then the zone they sit in, then
    desks without scarce equipment the requester didn't ask for (left for those
    who need it). A scarce desk is never offered while someone who needs that
    tag is waiting. Ties are spread by the requester, so people booking at the
    same moment reach for different desks instead of all for the first.
    """
    blocked = protected_tags(request.needs, waiting_needs, scarce)
    mate_zones = {(m.office, m.floor, m.zone) for m in mates}
    mate_seats = {(m.office, m.floor, m.zone, m.position) for m in mates}

    def score(desk: DeskSpot) -> tuple[int, int, int, int, int, int]:
        key = (desk.office, desk.floor, desk.zone)
        in_base = int(request.team is not None and desk.team_base == request.team)
        neighbours = sum(1 for d in (-1, 1) if (desk.office, desk.floor, desk.zone, desk.position + d) in mate_seats)
        extra = desk.tags - request.needs
        spread = zlib.crc32(f"{request.staff_id}:{desk.code}".encode())
        return (
            -in_base,
            -neighbours,
            -int(key in mate_zones),
            len({t for t in extra if t in scarce}),
            len(extra),
            spread,
        )

    usable = [d for d in free if fits(d, request) and not (d.tags & blocked)]
    return sorted(usable, key=score)


@dataclass(frozen=True)
class Alternative:
    kind: Literal["other_half", "other_office", "fewer_needs", "other_day"]
    day: date
    span: Span
    office: str
    desk: DeskSpot
    missing: frozenset[str] = frozenset()


def alternatives(
    request: Request,
    free_by_half: dict[str, Sequence[DeskSpot]],
    waiting_needs: Iterable[frozenset[str]] = (),
    scarce: Collection[str] = (),
    later_days: Sequence[tuple[date, Sequence[DeskSpot]]] = (),
    limit: int = 4,
) -> list[Alternative]:
    """The nearest things to what was asked, when nothing fits: another half-day,
    another zone without every need, another office, another day."""
    waiting = list(waiting_needs)
    out: list[Alternative] = []

    def free_for(halves: Sequence[str]) -> list[DeskSpot]:
        ids: set[int | str] | None = None
        by_key: dict[int | str, DeskSpot] = {}
        for half in halves:
            keys: set[int | str] = set()
            for desk in free_by_half.get(half, ()):
                key: int | str = desk.id or desk.code
                keys.add(key)
                by_key[key] = desk
            ids = keys if ids is None else ids & keys
        return [by_key[k] for k in sorted(ids or set(), key=str)]

    # Another half of the same day, same office.
    other_spans: list[Span] = (
        ["pm", "am"] if request.halves == ("am", "pm") else ["pm" if request.halves == ("am",) else "am"]
    )
    for span in other_spans:
        ranked = rank_desks(free_for(halves_of(span)), _with(request, halves=halves_of(span)), (), waiting, scarce)
        if ranked:
            out.append(Alternative("other_half", request.day, span, request.office, ranked[0]))
            break
    # Another zone that has some of the needs (the person decides what they can do without).
    if request.needs:
        same_office = [d for d in free_for(request.halves) if d.office == request.office]
        blocked = protected_tags(request.needs, waiting, scarce)
        partial = [d for d in same_office if not (d.tags & blocked)]
        partial.sort(key=lambda d: (-len(d.tags & request.needs), len(d.tags - request.needs), d.code))
        if partial:
            desk = partial[0]
            out.append(
                Alternative(
                    "fewer_needs",
                    request.day,
                    span_of(request.halves),
                    request.office,
                    desk,
                    request.needs - desk.tags,
                )
            )
    # Another office, same day and needs.
    offices = sorted({d.office for d in free_for(request.halves)} - {request.office})
    for office in offices:
        ranked = rank_desks(free_for(request.halves), _with(request, office=office), (), waiting, scarce)
        if ranked:
            out.append(Alternative("other_office", request.day, span_of(request.halves), office, ranked[0]))
            break
    # The next day with room.
    for day, free in later_days:
        ranked = rank_desks(free, _with(request, day=day), (), (), scarce)
        if ranked:
            out.append(Alternative("other_day", day, span_of(request.halves), request.office, ranked[0]))
            break
    return out[:limit]


def _with(request: Request, **changes: object) -> Request:
    values = {
        "staff_id": request.staff_id,
        "day": request.day,
        "halves": request.halves,
        "office": request.office,
        "needs": request.needs,
        "team": request.team,
    }
    values.update(changes)
    return Request(**values)  # type: ignore[arg-type]


def home_office(
    team: str | None,
    team_office: str | None,
    layout_offices: Sequence[str],
    spots: Iterable[DeskSpot],
) -> str | None:
    """Where a worker books by default: their team's office, else where their base is."""
    by_lower = {o.lower(): o for o in layout_offices}
    if team_office and team_office.lower() in by_lower:
        return by_lower[team_office.lower()]
    for spot in spots:
        if team is not None and spot.team_base == team:
            return spot.office
    return layout_offices[0] if layout_offices else None


# --- who's in ---------------------------------------------------------------------


@dataclass(frozen=True)
class ZoneOccupancy:
    office: str
    floor: str
    zone: str
    team_base: str | None
    desks: int
    am: int
    pm: int


def occupancy(desks: Sequence[DeskSpot], taken: Iterable[tuple[int, str]]) -> list[ZoneOccupancy]:
    """Booked desks per zone and half, without names (a manager's view)."""
    by_zone: dict[tuple[str, str, str], list[DeskSpot]] = {}
    for desk in desks:
        by_zone.setdefault((desk.office, desk.floor, desk.zone), []).append(desk)
    zone_of = {d.id: (d.office, d.floor, d.zone) for d in desks}
    counts: dict[tuple[tuple[str, str, str], str], int] = {}
    for desk_id, half in taken:
        key = zone_of.get(desk_id)
        if key is not None:
            counts[(key, half)] = counts.get((key, half), 0) + 1
    return [
        ZoneOccupancy(
            office=k[0],
            floor=k[1],
            zone=k[2],
            team_base=members[0].team_base,
            desks=len(members),
            am=counts.get((k, "am"), 0),
            pm=counts.get((k, "pm"), 0),
        )
        for k, members in by_zone.items()
    ]


@dataclass(frozen=True)
class Seated:
    name: str
    slack_user_id: str
    desk: DeskSpot
    halves: tuple[Half, ...]
    checked_in: bool = False


@dataclass(frozen=True)
class ZonePeople:
    where: str
    people: tuple[Seated, ...] = field(default_factory=tuple)


def by_zone(seated: Iterable[Seated]) -> list[ZonePeople]:
    groups: dict[str, list[Seated]] = {}
    for s in seated:
        groups.setdefault(s.desk.where, []).append(s)
    return [ZonePeople(where, tuple(sorted(people, key=lambda s: s.name))) for where, people in sorted(groups.items())]


def describe_needs(needs: Iterable[str]) -> str:
    items = sorted(needs)
    return ", ".join(n.replace("_", " ") for n in items) if items else "none"


# --- what the storage layer answers with -------------------------------------------


@dataclass(frozen=True)
class Worker:
    staff_id: int
    slack_user_id: str
    name: str
    team_id: int
    team: str
    team_office: str | None = None
    is_manager: bool = False


@dataclass(frozen=True)
class Booked:
    desk: DeskSpot
    day: date
    halves: tuple[Half, ...]
    booking_id: int
    already_had: tuple[Half, ...] = ()
    """Halves the worker had booked before asking (only the rest was booked now)."""


@dataclass(frozen=True)
class AlreadyBooked:
    desk: DeskSpot
    day: date
    halves: tuple[Half, ...]


@dataclass(frozen=True)
class Waitlisted:
    day: date
    halves: tuple[Half, ...]
    office: str
    needs: frozenset[str]
    position: int
    alternatives: tuple[Alternative, ...] = ()


BookOutcome = Booked | AlreadyBooked | Waitlisted


@dataclass(frozen=True)
class Served:
    """A waiting worker given a desk that came free."""

    worker: Worker
    desk: DeskSpot
    day: date
    halves: tuple[Half, ...]
    booking_id: int


@dataclass(frozen=True)
class Released:
    """An unconfirmed booking let go at the release time."""

    worker: Worker
    desk: DeskSpot
    day: date
    halves: tuple[Half, ...]
    booking_id: int


@dataclass(frozen=True)
class Moved:
    """A booking on a desk the layout no longer has: moved, or back on the waitlist."""

    worker: Worker
    day: date
    halves: tuple[Half, ...]
    old_code: str
    booking_id: int
    new_desk: DeskSpot | None


@dataclass(frozen=True)
class MyBooking:
    day: date
    halves: tuple[Half, ...]
    desk: DeskSpot
    checked_in: bool = False


@dataclass(frozen=True)
class MyWait:
    day: date
    span: Span
    office: str
    position: int


@dataclass(frozen=True)
class Recurrence:
    weekday: int
    span: Span
    office: str | None
    needs: frozenset[str]


@dataclass(frozen=True)
class Prefs:
    needs: frozenset[str] = frozenset()
    share: bool = False


def weekday_name(weekday: int) -> str:
    return WEEKDAYS[weekday].capitalize()
