"""`practice-bot run` as a real process, for tests that need the whole server.

The bot runs exactly as a person starts it (the installed command, settings from
the environment), on a free port, and is always stopped, even when a test fails.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STARTUP_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def command() -> list[str]:
    """The installed `practice-bot` beside this Python, else the module."""
    script = Path(sys.executable).with_name("practice-bot")
    if script.exists():
        return [str(script)]
    found = shutil.which("practice-bot")
    return [found] if found else [sys.executable, "-m", "bot.cli"]


def bot_env(database_url: str, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "PRACTICE_BOT_DATABASE_URL": database_url,
        "PYTHONUNBUFFERED": "1",
        **extra,
    }
    # Tokens in the developer's shell would make `run` try to reach the real Slack.
    for key in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"):
        env.pop(key, None)
        env.pop("PRACTICE_BOT_" + key, None)
    return env


def cli(database_url: str, *args: str, cwd: Path, now: str) -> subprocess.CompletedProcess[str]:
    """Run a one-shot `practice-bot` command (db upgrade, demo, ...) and return its result."""
    return subprocess.run(
        [*command(), "--now", now, *args],
        capture_output=True,
        text=True,
        env=bot_env(database_url),
        cwd=cwd,
        timeout=120,
    )


@dataclass
class Served:
    """A running `practice-bot run`: its address, its process and its log."""

    name: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def alive(self) -> bool:
        return self.process.poll() is None

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        req = urllib.request.Request(self.url + path, data=body, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=15) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def get(self, path: str) -> Any:
        status, body = self.request("GET", path)
        assert status == 200, f"{self.name}: GET {path} answered {status}: {body[:300]!r}"
        return json.loads(body)

    def wait_healthy(self, timeout: float = STARTUP_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise AssertionError(f"{self.name} exited with {self.process.returncode}:\n{self.output()}")
            try:
                if self.request("GET", "/healthz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"{self.name} was not healthy within {timeout:.0f}s:\n{self.output()}")

    def stop(self) -> None:
        if self.alive():
            # SIGTERM is how a container runtime stops it: the bot shuts down cleanly.
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)


def start(database_url: str, *, cwd: Path, now: str, name: str = "bot", args: Sequence[str] = ()) -> Served:
    """Start `practice-bot --now NOW run` on a free port (not yet waited for)."""
    port = free_port()
    log = cwd / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*command(), "--now", now, "run", "--port", str(port), *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=bot_env(database_url, PRACTICE_BOT_HOST="127.0.0.1"),
            cwd=cwd,
        )
    return Served(name, f"http://127.0.0.1:{port}", process, log)


@contextmanager
def running(
    database_url: str,
    *,
    cwd: Path,
    now: str,
    names: Sequence[str] = ("bot",),
    args: Sequence[str] = (),
) -> Iterator[list[Served]]:
    """Start one `practice-bot run` per name, all at once; wait until each is healthy; stop all."""
    bots: list[Served] = []
    try:
        for name in names:
            bots.append(start(database_url, cwd=cwd, now=now, name=name, args=args))
        for bot in bots:
            bot.wait_healthy()
        yield bots
    finally:
        for bot in bots:
            bot.stop()
