"""Who saw or changed what: an append-only trail for children's records."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.db import Base, UTCDateTime, WorkspaceScoped


class AuditEntry(WorkspaceScoped, Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(128), index=True)


def record(session: AsyncSession, workspace_id: str, at: datetime, actor: str, action: str, subject: str) -> None:
    session.add(AuditEntry(workspace_id=workspace_id, at=at, actor=actor, action=action, subject=subject))


async def trail(session: AsyncSession, workspace_id: str, subject: str) -> list[AuditEntry]:
    rows = await session.scalars(
        select(AuditEntry)
        .where(AuditEntry.workspace_id == workspace_id, AuditEntry.subject == subject)
        .order_by(AuditEntry.at, AuditEntry.id)
    )
    return list(rows)
