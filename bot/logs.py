"""Structured JSON logs, one line per event, with secrets scrubbed.

Nothing here may carry a token, a signing secret or the free text of a worry:
the request line records where a request went and how it ended, never what
people typed.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

# Slack tokens (bot, user, app-level, refresh, config) and anything that looks like one.
_SECRET = re.compile(r"\b(xox[abposr]|xapp|xoxe(?:\.xox[bp])?)-[A-Za-z0-9-]+")
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


class Redactor(logging.Filter):
    """Scrub secrets that reach a log record, however they got there."""

    def __init__(self, secrets: list[str] | None = None) -> None:
        super().__init__()
        self.secrets = [s for s in (secrets or []) if len(s) >= 8]

    def scrub(self, text: str) -> str:
        text = _SECRET.sub(lambda m: m.group(1) + "-[redacted]", text)
        for secret in self.secrets:
            text = text.replace(secret, "[redacted]")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.scrub(record.getMessage())
        record.args = None
        for key, value in list(record.__dict__.items()):
            if key not in _STANDARD and isinstance(value, str):
                setattr(record, key, self.scrub(value))
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info).splitlines()[-1]
        return json.dumps(line, default=str)


def configure(level: int = logging.INFO, secrets: list[str] | None = None, stream: Any = None) -> None:
    """JSON lines on stderr for every logger, secrets scrubbed."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(Redactor(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Third-party chatter that would otherwise log request bodies at DEBUG/INFO.
    for noisy in ("slack_bolt", "slack_sdk", "aiohttp.access", "alembic", "apscheduler"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


def route_of(body: dict[str, Any]) -> str:
    """Where a Slack request went, in words safe to log (no user text)."""
    if "command" in body:
        return f"command {body['command']}"
    kind = body.get("type")
    if kind == "event_callback":
        return f"event {(body.get('event') or {}).get('type', '?')}"
    if kind == "block_actions":
        actions = body.get("actions") or [{}]
        return f"action {actions[0].get('action_id', '?')}"
    if kind in ("view_submission", "view_closed"):
        return f"{kind} {(body.get('view') or {}).get('callback_id', '?')}"
    return str(kind or "unknown")


def user_of(body: dict[str, Any]) -> str | None:
    if "user_id" in body:
        return str(body["user_id"])
    user = body.get("user")
    if isinstance(user, dict):
        return str(user.get("id"))
    event = body.get("event") or {}
    return str(event["user"]) if isinstance(event, dict) and "user" in event else None
