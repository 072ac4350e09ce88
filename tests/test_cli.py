"""The `practice-bot` command, run as a person runs it, on a SQLite file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

NOW = "2026-11-23T09:00"


@pytest.fixture
def run(tmp_path: Path):  # type: ignore[no-untyped-def]
    env = {
        **os.environ,
        "PRACTICE_BOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/cli.db",
    }
    for key in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"):
        env.pop(key, None)

    def _run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot.cli", "--now", NOW, *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=120,
        )

    return _run


def test_policy_check_accepts_the_shipped_policy(run) -> None:  # type: ignore[no-untyped-def]
    shipped = Path(__file__).parents[1] / "bot" / "policy.toml"
    result = run("policy", "check", str(shipped))
    assert result.returncode == 0, result.stderr
    assert "caseload caps: 15 from 0 months, 20 from 6 months, 25 from 12 months" in result.stdout


def test_policy_check_explains_what_is_wrong(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.toml"
    bad.write_text("[caseload]\nbands = [{ months = 6, cap = 20 }]\nfast_rise_dayz = 3\n")
    result = run("policy", "check", str(bad))
    assert result.returncode == 2
    assert "caseload.fast_rise_dayz: Extra inputs are not permitted" in result.stderr
    bad.write_text("[caseload]\nbands = [{ months = 6, cap = 20 }]\n")
    result = run("policy", "check", str(bad))
    assert "the first band must start at months = 0" in result.stderr


def test_import_then_say_then_tick_from_the_command_line(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "staff.csv").write_text(
        "user_id,name,team,role,fte,qualified_on\n"
        "mgr,Grace Okafor,Ipswich CIN 2,manager,1.0,2016-09-01\n"
        "priya,Priya Shah,Ipswich CIN 2,social_worker,1.0,2025-10-01\n"
    )
    rows = "".join(f"C{i:03d},priya,cin\n" for i in range(26))
    (tmp_path / "children.csv").write_text("child_ref,allocated_to,status\n" + rows)

    staff = run("import", "staff", "staff.csv")
    dry = run("import", "children", "children.csv", "--dry-run")
    children = run("import", "children", "children.csv")
    again = run("import", "children", "children.csv")
    said = run("say", "--as", "priya", "/caseload")

    assert "staff: 2 new, 0 updated, 0 unchanged, 1 new team(s)" in staff.stdout, staff.stderr
    assert dry.stdout.startswith("dry run, nothing written: children: 26 new")
    assert "children: 26 new" in children.stdout
    assert "alert: caseload.alerts -> mgr" in children.stdout and ": sent" in children.stdout
    assert "26 unchanged" in again.stdout
    assert ": sent" not in again.stdout  # the same breach is not alerted twice
    assert "1 over your cap of 25" in said.stdout


def test_a_bad_import_prints_every_problem_and_fails(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "staff.csv").write_text(
        "user_id,name,team,role,fte,qualified_on\ntom,Tom,T,wizard,1,2020-01-01\nann,Ann,T,social_worker,2,\n"
    )
    result = run("import", "staff", "staff.csv")
    assert result.returncode == 1
    assert "nothing imported, 2 problem(s)" in result.stderr
    assert "line 2: role 'wizard'" in result.stderr and "line 3: fte" in result.stderr


def test_say_with_the_demo_authority(run) -> None:  # type: ignore[no-untyped-def]
    assert run("demo").returncode == 0
    result = run("say", "--as", "thughes", "/caseload")
    assert "You hold 14 children against your cap of 15: room for 1 more." in result.stdout


def test_db_upgrade_reports_the_schema_is_current(run) -> None:  # type: ignore[no-untyped-def]
    result = run("db", "upgrade")
    assert result.returncode == 0
    assert "current" in result.stdout


def test_a_bad_now_is_explained(run) -> None:  # type: ignore[no-untyped-def]
    result = subprocess.run([sys.executable, "-m", "bot.cli", "--now", "soon", "tick"], capture_output=True, text=True)
    assert result.returncode == 2
    assert "'soon' is not a date-time" in result.stderr
