"""A throwaway PostgreSQL server for the test session (initdb/pg_ctl in a temp dir)."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


def _bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PostgresServer:
    datadir: Path
    port: int
    as_user: list[str]
    pg_ctl: str

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/practice_bot"

    def _run(self, *args: str) -> None:
        subprocess.run([*self.as_user, *args], check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        log = self.datadir.parent / "pg.log"
        self._run(
            self.pg_ctl,
            "-D",
            str(self.datadir),
            "-l",
            str(log),
            "-w",
            "-t",
            "60",
            "-o",
            f"-p {self.port} -k {self.datadir.parent} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
            "start",
        )

    def stop(self) -> None:
        subprocess.run(
            [*self.as_user, self.pg_ctl, "-D", str(self.datadir), "-m", "fast", "-w", "stop"],
            capture_output=True,
            timeout=60,
            check=False,
        )


def start_postgres() -> PostgresServer:
    initdb, pg_ctl, psql = _bin("initdb"), _bin("pg_ctl"), _bin("psql")
    if not (initdb and pg_ctl and psql):
        raise RuntimeError(
            "PostgreSQL is not installed (initdb/pg_ctl not found). `.ci/run` installs it; "
            "locally: apt-get install postgresql. Set PRACTICE_BOT_TEST_DATABASES=sqlite to skip it."
        )
    root = Path(tempfile.mkdtemp(prefix="practice-bot-pg-"))
    datadir = root / "data"
    as_user: list[str] = []
    if os.geteuid() == 0:
        # initdb refuses to run as root: run the server as nobody.
        shutil.chown(root, "nobody")
        as_user = ["runuser", "-u", "nobody", "--"]
    os.chmod(root, 0o777)
    subprocess.run(
        [*as_user, initdb, "-D", str(datadir), "--auth=trust", "-U", "postgres", "-E", "UTF8"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    server = PostgresServer(datadir, _free_port(), as_user, pg_ctl)
    server.start()
    subprocess.run(
        [psql, "-h", "127.0.0.1", "-p", str(server.port), "-U", "postgres", "-c", "CREATE DATABASE practice_bot"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return server
