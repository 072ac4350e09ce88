"""Teams and staff: who works where, in what role."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, Float, ForeignKey, String, UniqueConstraint, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.db import Base, WorkspaceScoped


class Team(WorkspaceScoped, Base):
    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    office: Mapped[str | None] = mapped_column(String(100))
    # "social_work" or "early_help": worries route between paired teams.
    kind: Mapped[str] = mapped_column(String(20), default="social_work")
    channel_id: Mapped[str | None] = mapped_column(String(32))

    staff: Mapped[list[Staff]] = relationship(back_populates="team", lazy="raise")


class Staff(WorkspaceScoped, Base):
    __tablename__ = "staff"
    __table_args__ = (
        UniqueConstraint("workspace_id", "user_id"),
        UniqueConstraint("workspace_id", "slack_user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The authority's own key for the worker (the staff import's user_id).
    user_id: Mapped[str] = mapped_column(String(64))
    slack_user_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200))
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    fte: Mapped[float] = mapped_column(Float, default=1.0)
    qualified_on: Mapped[date | None] = mapped_column(Date)
    joined_on: Mapped[date | None] = mapped_column(Date)

    team: Mapped[Team] = relationship(back_populates="staff", lazy="joined")

    @property
    def is_manager(self) -> bool:
        return self.role in ("manager", "admin")


async def staff_by_slack_id(session: AsyncSession, workspace_id: str, slack_user_id: str) -> Staff | None:
    return await session.scalar(
        select(Staff).where(Staff.workspace_id == workspace_id, Staff.slack_user_id == slack_user_id)
    )


async def staff_by_any_id(session: AsyncSession, workspace_id: str, ident: str) -> Staff | None:
    """A Slack user id or the authority's staff user_id (for the CLI's --as)."""
    return await session.scalar(
        select(Staff).where(
            Staff.workspace_id == workspace_id,
            (Staff.slack_user_id == ident) | (Staff.user_id == ident),
        )
    )


async def team_by_name(session: AsyncSession, workspace_id: str, name: str) -> Team | None:
    return await session.scalar(select(Team).where(Team.workspace_id == workspace_id, Team.name == name))


async def all_staff(session: AsyncSession, workspace_id: str) -> list[Staff]:
    rows = await session.scalars(select(Staff).where(Staff.workspace_id == workspace_id).order_by(Staff.name))
    return list(rows)


async def all_teams(session: AsyncSession, workspace_id: str) -> list[Team]:
    rows = await session.scalars(select(Team).where(Team.workspace_id == workspace_id).order_by(Team.name))
    return list(rows)


async def team_managers(session: AsyncSession, workspace_id: str, team_id: int) -> list[Staff]:
    rows = await session.scalars(
        select(Staff).where(Staff.workspace_id == workspace_id, Staff.team_id == team_id, Staff.role == "manager")
    )
    return list(rows)
