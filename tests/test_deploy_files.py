"""The Dockerfile and compose.yml say what the README promises (Docker itself can't run here)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.settings import Settings

ROOT = Path(__file__).parents[1]


def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "compose.yml").read_text())


def filled(value: str) -> str:
    """compose's ${VAR:?message} with a stand-in value, as `docker compose` would substitute."""
    return re.sub(r"\$\{(\w+)[^}]*\}", lambda m: f"<{m.group(1).lower()}>", value)


def test_the_image_is_python_3_11_slim_runs_the_bot_as_a_non_root_user_and_checks_its_health() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    lines = [line.strip() for line in dockerfile.splitlines()]

    assert "FROM python:3.11-slim" in lines
    assert "pip install ." in dockerfile
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
    assert "EXPOSE 3000" in lines
    assert "HEALTHCHECK" in dockerfile and "/healthz" in dockerfile
    assert lines[-1] == 'CMD ["practice-bot", "run"]'


def test_compose_runs_postgres_16_with_a_volume_migrations_once_and_two_replicas() -> None:
    services = compose()["services"]

    postgres = services["postgres"]
    assert postgres["image"] == "postgres:16"
    volume = postgres["volumes"][0].split(":")[0]
    assert volume in compose()["volumes"]

    assert services["migrate"]["command"] == ["practice-bot", "db", "upgrade"]
    replicas = [s for s in services.values() if s.get("command") == ["practice-bot", "run"]]
    assert len(replicas) == 2
    for replica in replicas:
        assert replica["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert replica["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_the_replicas_environment_makes_them_listen_on_every_interface_use_slack_and_postgresql(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    replica = compose()["services"]["bot-a"]
    for key, value in replica["environment"].items():
        monkeypatch.setenv(key, filled(str(value)))

    settings = Settings(_env_file=None)  # type: ignore[call-arg]

    assert settings.host == "0.0.0.0"
    assert settings.port == 3000
    assert settings.database_url.startswith("postgresql+asyncpg://practice_bot:<postgres_password>@postgres:5432/")
    assert settings.uses_slack
