"""desks: office layout, desk bookings, waitlist, desk preferences, recurring bookings

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "desks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("office", sa.String(length=100), nullable=False),
        sa.Column("floor", sa.String(length=60), nullable=False),
        sa.Column("zone", sa.String(length=60), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("tags", sa.String(length=200), nullable=False),
        sa.Column("team_base", sa.String(length=100), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_desks")),
        sa.UniqueConstraint("workspace_id", "code", name=op.f("uq_desks_workspace_id_code")),
    )
    with op.batch_alter_table("desks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_desks_workspace_id"), ["workspace_id"], unique=False)

    # One live booking per desk per half-day and one per worker per half-day.
    # `live` is 1 while a booking holds its desk and NULL afterwards; NULLs are
    # distinct in a UNIQUE constraint on both SQLite and PostgreSQL, so history
    # rows never block a new booking.
    op.create_table(
        "desk_bookings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("desk_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("half", sa.String(length=2), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("live", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checked_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["desk_id"], ["desks.id"], name=op.f("fk_desk_bookings_desk_id_desks")),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_desk_bookings_staff_id_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_desk_bookings")),
        sa.UniqueConstraint(
            "workspace_id",
            "desk_id",
            "day",
            "half",
            "live",
            name=op.f("uq_desk_bookings_workspace_id_desk_id_day_half_live"),
        ),
        sa.UniqueConstraint(
            "workspace_id",
            "staff_id",
            "day",
            "half",
            "live",
            name=op.f("uq_desk_bookings_workspace_id_staff_id_day_half_live"),
        ),
    )
    with op.batch_alter_table("desk_bookings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_desk_bookings_desk_id"), ["desk_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_desk_bookings_staff_id"), ["staff_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_desk_bookings_workspace_id"), ["workspace_id"], unique=False)
        batch_op.create_index("ix_desk_bookings_workspace_day", ["workspace_id", "day"], unique=False)

    op.create_table(
        "desk_prefs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("needs", sa.String(length=200), nullable=False),
        sa.Column("share", sa.Boolean(), nullable=False),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_desk_prefs_staff_id_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_desk_prefs")),
        sa.UniqueConstraint("workspace_id", "staff_id", name=op.f("uq_desk_prefs_workspace_id_staff_id")),
    )
    with op.batch_alter_table("desk_prefs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_desk_prefs_workspace_id"), ["workspace_id"], unique=False)

    op.create_table(
        "desk_recurrences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("span", sa.String(length=3), nullable=False),
        sa.Column("office", sa.String(length=100), nullable=True),
        sa.Column("needs", sa.String(length=200), nullable=False),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_desk_recurrences_staff_id_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_desk_recurrences")),
        sa.UniqueConstraint(
            "workspace_id",
            "staff_id",
            "weekday",
            name=op.f("uq_desk_recurrences_workspace_id_staff_id_weekday"),
        ),
    )
    with op.batch_alter_table("desk_recurrences", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_desk_recurrences_workspace_id"), ["workspace_id"], unique=False)

    op.create_table(
        "desk_waitlist",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("span", sa.String(length=3), nullable=False),
        sa.Column("office", sa.String(length=100), nullable=False),
        sa.Column("needs", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_desk_waitlist_staff_id_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_desk_waitlist")),
        sa.UniqueConstraint(
            "workspace_id",
            "staff_id",
            "day",
            name=op.f("uq_desk_waitlist_workspace_id_staff_id_day"),
        ),
    )
    with op.batch_alter_table("desk_waitlist", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_desk_waitlist_staff_id"), ["staff_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_desk_waitlist_workspace_id"), ["workspace_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("desk_waitlist", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_desk_waitlist_workspace_id"))
        batch_op.drop_index(batch_op.f("ix_desk_waitlist_staff_id"))
    op.drop_table("desk_waitlist")
    with op.batch_alter_table("desk_recurrences", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_desk_recurrences_workspace_id"))
    op.drop_table("desk_recurrences")
    with op.batch_alter_table("desk_prefs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_desk_prefs_workspace_id"))
    op.drop_table("desk_prefs")
    with op.batch_alter_table("desk_bookings", schema=None) as batch_op:
        batch_op.drop_index("ix_desk_bookings_workspace_day")
        batch_op.drop_index(batch_op.f("ix_desk_bookings_workspace_id"))
        batch_op.drop_index(batch_op.f("ix_desk_bookings_staff_id"))
        batch_op.drop_index(batch_op.f("ix_desk_bookings_desk_id"))
    op.drop_table("desk_bookings")
    with op.batch_alter_table("desks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_desks_workspace_id"))
    op.drop_table("desks")
