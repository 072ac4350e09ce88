"""Matching the workers named in a council's files to people on the staff list.

Annex A and the workforce census name workers as the case management system
or a person wrote them: an email, a local ID, "Jane Smith" or "SMITH, Jane".
A label is matched, in this order, by a remembered alias (from
`import map-workers`), by email, by local ID (the staff list's user_id), or by
exact name ignoring case and spacing ("Surname, Forename" counts as the same
name). Anything else is unmatched, with the reason, for a person to resolve:
we never guess between two people.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

METHODS = ("email", "user_id", "name")
HOW = {"alias": "a saved mapping", "email": "email", "user_id": "local ID", "name": "name"}


@dataclass(frozen=True)
class StaffIdentity:
    user_id: str
    name: str
    email: str | None = None


@dataclass(frozen=True)
class Match:
    label: str
    user_id: str
    how: str  # "alias", "email", "user_id" or "name"


@dataclass(frozen=True)
class Unmatched:
    label: str
    reason: str


@dataclass(frozen=True)
class Matching:
    matched: dict[str, Match] = field(default_factory=dict)  # by label as written
    unmatched: list[Unmatched] = field(default_factory=list)

    def user_id_of(self, label: str) -> str | None:
        match = self.matched.get(label)
        return match.user_id if match else None

    def reason_for(self, label: str) -> str:
        return next((u.reason for u in self.unmatched if u.label == label), "not matched")


def normalise_label(text: str) -> str:
    """Casefolded, NFKC (so non-breaking spaces are spaces), single-spaced."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _name_forms(text: str) -> set[str]:
    """'Jane Smith' and 'Smith, Jane' are the same person's name."""
    plain = normalise_label(text)
    forms = {plain.replace(",", " ").replace("  ", " ").strip()}
    if plain.count(",") == 1:
        surname, forenames = (p.strip() for p in plain.split(","))
        if surname and forenames:
            forms.add(f"{forenames} {surname}")
    return {" ".join(f.split()) for f in forms}


def match_workers(
    labels: Iterable[str],
    staff: Sequence[StaffIdentity],
    aliases: Mapping[str, str],
    methods: Sequence[str] = METHODS,
) -> Matching:
    """Match each distinct label; `aliases` maps normalised labels to user_ids."""
    known_ids = {s.user_id for s in staff}
    by_email: dict[str, list[str]] = defaultdict(list)
    by_id: dict[str, list[str]] = defaultdict(list)
    by_name: dict[str, list[str]] = defaultdict(list)
    for person in staff:
        if person.email:
            by_email[normalise_label(person.email)].append(person.user_id)
        by_id[normalise_label(person.user_id)].append(person.user_id)
        for form in _name_forms(person.name):
            by_name[form].append(person.user_id)
    tables = {"email": by_email, "user_id": by_id, "name": by_name}

    result = Matching()
    for label in dict.fromkeys(labels):
        key = normalise_label(label)
        if not key:
            continue
        alias = aliases.get(key)
        if alias is not None and alias in known_ids:
            result.matched[label] = Match(label, alias, "alias")
            continue
        found: Match | None = None
        reason = f"no one on the staff list has this {_described(methods)}"
        for method in methods:
            keys = _name_forms(label) if method == "name" else {key}
            candidates = sorted({uid for k in keys for uid in tables[method].get(k, [])})
            if len(candidates) == 1:
                found = Match(label, candidates[0], method)
                break
            if len(candidates) > 1:
                reason = f"{len(candidates)} people on the staff list share this {HOW[method]}: " + ", ".join(
                    candidates
                )
                break
        if found is not None:
            result.matched[label] = found
        else:
            result.unmatched.append(Unmatched(label, reason))
    return result


def _described(methods: Sequence[str]) -> str:
    words = [HOW[m] for m in methods]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]
