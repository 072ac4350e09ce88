"""Slack's own OAuth tables (installations, bots, states), in our migrations.

slack-sdk's SQLAlchemy stores define these tables; we put the same definitions
in our metadata so Alembic creates them and one database serves every
workspace. Their `team_id` is the workspace id under Slack's name.
"""

from __future__ import annotations

from slack_sdk.oauth.installation_store.sqlalchemy import (
    AsyncSQLAlchemyInstallationStore,
    SQLAlchemyInstallationStore,
)
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import Base

INSTALLATIONS = SQLAlchemyInstallationStore.build_installations_table(Base.metadata, "slack_installations")
BOTS = SQLAlchemyInstallationStore.build_bots_table(Base.metadata, "slack_bots")
STATES = AsyncSQLAlchemyOAuthStateStore.build_oauth_states_table(Base.metadata, "slack_oauth_states")


def installation_store(client_id: str, engine: AsyncEngine) -> AsyncSQLAlchemyInstallationStore:
    return AsyncSQLAlchemyInstallationStore(client_id=client_id, engine=engine)


def state_store(engine: AsyncEngine, expiration_seconds: int = 600) -> AsyncSQLAlchemyOAuthStateStore:
    return AsyncSQLAlchemyOAuthStateStore(expiration_seconds=expiration_seconds, engine=engine)
