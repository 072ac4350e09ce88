"""Worker aliases: how a council's files name a worker, mapped to someone on the staff list.

Annex A and similar files name workers as people type them ("Smith, Jane",
"J Smith", a local ID). `practice-bot import map-workers` matches them and,
with --apply or --set, remembers the answer here so later imports resolve the
same label the same way, even after a name change on the staff list.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import ForeignKey, String, UniqueConstraint, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bot.workers import METHODS, Match, Matching, StaffIdentity, match_workers, normalise_label
from storage.db import Base, WorkspaceScoped
from storage.org import Staff


class WorkerAlias(WorkspaceScoped, Base):
    __tablename__ = "worker_aliases"
    __table_args__ = (UniqueConstraint("workspace_id", "source_label"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored normalised (casefolded, single spaces): "SMITH,  Jane" and "Smith, Jane" are one alias.
    source_label: Mapped[str] = mapped_column(String(200))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))


async def staff_identities(session: AsyncSession, workspace_id: str) -> list[StaffIdentity]:
    rows = await session.scalars(select(Staff).where(Staff.workspace_id == workspace_id))
    return [StaffIdentity(user_id=s.user_id, name=s.name, email=s.email) for s in rows]


async def aliases(session: AsyncSession, workspace_id: str) -> dict[str, str]:
    """Normalised label -> the staff member's user_id."""
    rows = await session.execute(
        select(WorkerAlias.source_label, Staff.user_id)
        .join(Staff, Staff.id == WorkerAlias.staff_id)
        .where(WorkerAlias.workspace_id == workspace_id, Staff.workspace_id == workspace_id)
    )
    return {label: user_id for label, user_id in rows}


async def resolve_workers(
    session: AsyncSession,
    workspace_id: str,
    labels: Iterable[str],
    methods: Sequence[str] = METHODS,
) -> Matching:
    staff = await staff_identities(session, workspace_id)
    known = await aliases(session, workspace_id)
    return match_workers(labels, staff, known, methods)


async def save_aliases(session: AsyncSession, workspace_id: str, matches: Iterable[Match]) -> int:
    """Remember each match (new or changed); returns how many were written."""
    ids = {s.user_id: s.id for s in await session.scalars(select(Staff).where(Staff.workspace_id == workspace_id))}
    existing = {
        a.source_label: a
        for a in await session.scalars(select(WorkerAlias).where(WorkerAlias.workspace_id == workspace_id))
    }
    written = 0
    for match in matches:
        label = normalise_label(match.label)
        staff_id = ids[match.user_id]
        alias = existing.get(label)
        if alias is None:
            alias = WorkerAlias(workspace_id=workspace_id, source_label=label, staff_id=staff_id)
            session.add(alias)
            existing[label] = alias
            written += 1
        elif alias.staff_id != staff_id:
            alias.staff_id = staff_id
            written += 1
    await session.flush()
    return written


async def set_alias(session: AsyncSession, workspace_id: str, label: str, user_id: str) -> None:
    """A person's answer for a label the matcher could not resolve; LookupError if no such staff."""
    staff = await session.scalar(select(Staff).where(Staff.workspace_id == workspace_id, Staff.user_id == user_id))
    if staff is None:
        raise LookupError(f"no one on the staff list has user_id '{user_id}'")
    await save_aliases(session, workspace_id, [Match(label=label, user_id=user_id, how="alias")])
