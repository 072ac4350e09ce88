"""imports: worker aliases mapping names/IDs in council data files to staff

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "worker_aliases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_label", sa.String(length=200), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_worker_aliases_staff_id_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_worker_aliases")),
        sa.UniqueConstraint(
            "workspace_id",
            "source_label",
            name=op.f("uq_worker_aliases_workspace_id_source_label"),
        ),
    )
    with op.batch_alter_table("worker_aliases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_worker_aliases_workspace_id"), ["workspace_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("worker_aliases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_worker_aliases_workspace_id"))
    op.drop_table("worker_aliases")
