"""Settings from the environment and an optional `.env` (pydantic-settings).

Secrets come only from here (environment or `.env`), never from the policy file.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_POLICY = Path(__file__).with_name("policy.toml")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PRACTICE_BOT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = "sqlite+aiosqlite:///./practice-bot.db"
    db_pool_size: int = Field(default=5, ge=1, le=100)
    policy_file: Path = DEFAULT_POLICY
    timezone: str = "Europe/London"

    slack_bot_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_BOT_TOKEN", "PRACTICE_BOT_SLACK_BOT_TOKEN")
    )
    slack_signing_secret: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("SLACK_SIGNING_SECRET", "PRACTICE_BOT_SLACK_SIGNING_SECRET"),
    )
    slack_app_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_APP_TOKEN", "PRACTICE_BOT_SLACK_APP_TOKEN")
    )

    # OAuth for installing into many workspaces (instead of one SLACK_BOT_TOKEN).
    slack_client_id: str | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_CLIENT_ID", "PRACTICE_BOT_SLACK_CLIENT_ID")
    )
    slack_client_secret: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("SLACK_CLIENT_SECRET", "PRACTICE_BOT_SLACK_CLIENT_SECRET"),
    )
    # The workspace the CLI acts on (imports, demo) when the bot serves several.
    workspace_id: str = "T0LOCAL"

    host: str = "127.0.0.1"
    port: int = 3000
    # Catch up on scheduled sends missed while the bot was down, this far back.
    catch_up_hours: int = Field(default=72, ge=0)
    # chat.postMessage calls a second to Slack, per workspace (bot/pacing.py). Slack allows
    # about 1 a second per channel and a workspace-wide rate it does not publish; set this
    # to what yours allows. 0: no pacing (the local workspace has no limits unless told).
    slack_post_rate: float = Field(default=20.0, ge=0)

    # The local workspace only (debugging and tests): a JSON-lines record of every Web API call
    # and every message the bot posts, kept outside the process; and a slow chat.postMessage.
    local_log: Path | None = None
    local_post_delay_ms: int = Field(default=0, ge=0)
    # The local workspace keeps the latest messages in memory (all channels, and any one
    # channel), dropping the oldest; the local log keeps every one. 0: keep everything.
    local_keep_messages: int = Field(default=2_000, ge=0)
    local_keep_per_channel: int = Field(default=200, ge=0)

    @property
    def uses_oauth(self) -> bool:
        return self.slack_client_id is not None and self.slack_client_secret is not None

    @property
    def uses_slack(self) -> bool:
        return self.slack_bot_token is not None or self.uses_oauth
