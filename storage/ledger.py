"""The delivery ledger: one row per scheduled send, unique on (job, target, due key).

A replica or a restart that runs the same job again finds the row and sends
nothing; a send that failed, or whose sender crashed after claiming, is
claimed again on a later run.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.db import Base, UTCDateTime, WorkspaceScoped


class Delivery(WorkspaceScoped, Base):
    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("workspace_id", "job", "target", "due_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(64))
    due_key: Mapped[str] = mapped_column(String(64))
    # claimed -> sent | failed; failed and stale claims are claimed again.
    status: Mapped[str] = mapped_column(String(12))
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    last_error: Mapped[str | None] = mapped_column(Text)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
