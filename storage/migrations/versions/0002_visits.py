"""visits: recorded visits (statutory visits, reviews, other) per child

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "visits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("visited_on", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["child_id"], ["children.id"], name=op.f("fk_visits_child_id_children")),
        sa.ForeignKeyConstraint(["recorded_by"], ["staff.id"], name=op.f("fk_visits_recorded_by_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visits")),
        sa.UniqueConstraint(
            "workspace_id",
            "child_id",
            "visited_on",
            "kind",
            name=op.f("uq_visits_workspace_id_child_id_visited_on_kind"),
        ),
    )
    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_visits_child_id"), ["child_id"], unique=False)
        batch_op.create_index("ix_visits_workspace_id_visited_on", ["workspace_id", "visited_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_visits_workspace_id"), ["workspace_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_visits_workspace_id"))
        batch_op.drop_index("ix_visits_workspace_id_visited_on")
        batch_op.drop_index(batch_op.f("ix_visits_child_id"))

    op.drop_table("visits")
