"""Deliveries from Slack already handled: Slack retries events, people double-click."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, delete
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.db import Base, UTCDateTime
from storage.upsert import insert_ignore


class SeenRequest(Base):
    __tablename__ = "seen_requests"

    workspace_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime())


async def first_sighting(session: AsyncSession, workspace_id: str, key: str, at: datetime) -> bool:
    """Record `key`; True only for the first caller, whichever replica it is on."""
    return await insert_ignore(
        session, SeenRequest, {"workspace_id": workspace_id, "key": key, "seen_at": at}, ["workspace_id", "key"]
    )


async def forget(session: AsyncSession, workspace_id: str, key: str) -> None:
    """Let `key` be handled again (a delivery that was answered without doing anything)."""
    await session.execute(delete(SeenRequest).where(SeenRequest.workspace_id == workspace_id, SeenRequest.key == key))
