"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from storage.db import Database, schema_is_current
from storage.models import Base


async def test_the_migrated_schema_matches_the_models(db: Database) -> None:
    def diff(connection: Any) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async with db.engine.connect() as conn:
        differences = await conn.run_sync(diff)

    assert differences == []


async def test_the_schema_is_at_the_latest_migration(db: Database) -> None:
    current, revision, head = await schema_is_current(db)
    assert current, (revision, head)


def test_every_table_carries_the_workspace() -> None:
    # Slack's own OAuth tables call the workspace id `team_id`; its state table holds
    # only short-lived nonces for an install in progress, before any workspace is known.
    unscoped = [
        t.name
        for t in Base.metadata.sorted_tables
        if "workspace_id" not in t.columns
        and not (t.name.startswith("slack_") and "team_id" in t.columns)
        and t.name != "slack_oauth_states"
    ]
    assert unscoped == []
