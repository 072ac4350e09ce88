"""worries: consultations with co-located early help colleagues

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "worries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_key", sa.String(length=64), nullable=False),
        sa.Column("raiser_id", sa.Integer(), nullable=False),
        sa.Column("raiser_team_id", sa.Integer(), nullable=False),
        sa.Column("to_team_id", sa.Integer(), nullable=True),
        sa.Column("child_ref", sa.String(length=64), nullable=True),
        sa.Column("worried", sa.Text(), nullable=False),
        sa.Column("working_well", sa.Text(), nullable=False),
        sa.Column("needs_to_happen", sa.Text(), nullable=False),
        sa.Column("scale", sa.Integer(), nullable=False),
        sa.Column("urgency", sa.String(length=8), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("outcome_note", sa.Text(), nullable=True),
        sa.Column("outcome_worker_id", sa.Integer(), nullable=True),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duty_channel", sa.String(length=32), nullable=True),
        sa.Column("thread_channel", sa.String(length=32), nullable=True),
        sa.Column("thread_ts", sa.String(length=32), nullable=True),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["raiser_id"], ["staff.id"], name=op.f("fk_worries_raiser_id_staff")),
        sa.ForeignKeyConstraint(["raiser_team_id"], ["teams.id"], name=op.f("fk_worries_raiser_team_id_teams")),
        sa.ForeignKeyConstraint(["to_team_id"], ["teams.id"], name=op.f("fk_worries_to_team_id_teams")),
        sa.ForeignKeyConstraint(["owner_id"], ["staff.id"], name=op.f("fk_worries_owner_id_staff")),
        sa.ForeignKeyConstraint(["outcome_worker_id"], ["staff.id"], name=op.f("fk_worries_outcome_worker_id_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_worries")),
        sa.UniqueConstraint("workspace_id", "source_key", name=op.f("uq_worries_workspace_id_source_key")),
    )
    with op.batch_alter_table("worries", schema=None) as batch_op:
        batch_op.create_index("ix_worries_workspace_state", ["workspace_id", "state"], unique=False)
        batch_op.create_index(batch_op.f("ix_worries_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_worries_raiser_id"), ["raiser_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_worries_to_team_id"), ["to_team_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_worries_workspace_id"), ["workspace_id"], unique=False)

    op.create_table(
        "worry_recipients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("worry_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("ts", sa.String(length=32), nullable=True),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_worry_recipients_staff_id_staff")),
        sa.ForeignKeyConstraint(["worry_id"], ["worries.id"], name=op.f("fk_worry_recipients_worry_id_worries")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_worry_recipients")),
        sa.UniqueConstraint(
            "workspace_id",
            "channel",
            "ts",
            name=op.f("uq_worry_recipients_workspace_id_channel_ts"),
        ),
    )
    with op.batch_alter_table("worry_recipients", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_worry_recipients_staff_id"), ["staff_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_worry_recipients_workspace_id"), ["workspace_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_worry_recipients_worry_id"), ["worry_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("worry_recipients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_worry_recipients_worry_id"))
        batch_op.drop_index(batch_op.f("ix_worry_recipients_workspace_id"))
        batch_op.drop_index(batch_op.f("ix_worry_recipients_staff_id"))

    op.drop_table("worry_recipients")
    with op.batch_alter_table("worries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_worries_workspace_id"))
        batch_op.drop_index(batch_op.f("ix_worries_to_team_id"))
        batch_op.drop_index(batch_op.f("ix_worries_raiser_id"))
        batch_op.drop_index(batch_op.f("ix_worries_owner_id"))
        batch_op.drop_index("ix_worries_workspace_state")

    op.drop_table("worries")
