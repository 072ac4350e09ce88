"""Children (by case reference only: never names) and their allocation history.

Allocation history lets the caseload feature count what a worker held on any
past day (for "rises fast") and list which children were added.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Index, String, UniqueConstraint, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.db import Base, WorkspaceScoped


class Child(WorkspaceScoped, Base):
    __tablename__ = "children"
    __table_args__ = (UniqueConstraint("workspace_id", "child_ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    child_ref: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20))
    # Null when de-allocated (e.g. no longer in a full import): kept, not deleted.
    allocated_to: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    status_since: Mapped[date | None] = mapped_column(Date)
    placement_start: Mapped[date | None] = mapped_column(Date)
    placement_type: Mapped[str | None] = mapped_column(String(40))
    last_visit_on: Mapped[date | None] = mapped_column(Date)
    last_review_on: Mapped[date | None] = mapped_column(Date)


class Allocation(WorkspaceScoped, Base):
    """A child held by a worker from `start_on` until `end_on` (exclusive; null: still held)."""

    __tablename__ = "allocations"
    __table_args__ = (Index("ix_allocations_staff_period", "staff_id", "start_on", "end_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    start_on: Mapped[date] = mapped_column(Date)
    end_on: Mapped[date | None] = mapped_column(Date)


async def child_by_ref(session: AsyncSession, workspace_id: str, child_ref: str) -> Child | None:
    return await session.scalar(select(Child).where(Child.workspace_id == workspace_id, Child.child_ref == child_ref))


async def reallocate(session: AsyncSession, child: Child, staff_id: int | None, on: date) -> bool:
    """Move `child` to `staff_id` (None: de-allocate) from `on`; True if it changed."""
    if child.allocated_to == staff_id:
        return False
    if child.allocated_to is not None:
        current = await session.scalar(
            select(Allocation).where(
                Allocation.child_id == child.id,
                Allocation.end_on.is_(None),
            )
        )
        if current is not None:
            current.end_on = on
    child.allocated_to = staff_id
    if staff_id is not None:
        session.add(Allocation(workspace_id=child.workspace_id, child_id=child.id, staff_id=staff_id, start_on=on))
    return True
