"""The `practice-bot` command."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from bot import logs
from bot.clock import Clock, FixedClock, SystemClock, parse_now
from bot.policy import PolicyError, load_policy
from bot.settings import Settings

log = logging.getLogger("practice_bot")

DESCRIPTION = """Practice Bot: caseloads, visits, desks and worries for children's social work teams.

With no Slack tokens, `run` starts the local workspace: a stand-in for Slack with
a web page at http://127.0.0.1:3000 where you can be any member of staff."""


def _now_arg(text: str) -> datetime:
    try:
        return parse_now(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date-time (e.g. 2026-11-23T09:00)") from e


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--now",
        type=_now_arg,
        default=argparse.SUPPRESS,
        help="pin the clock, e.g. 2026-11-23T09:00 (Europe/London)",
    )
    parser = argparse.ArgumentParser(
        prog="practice-bot",
        description=DESCRIPTION,
        parents=[common],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    run = sub.add_parser("run", parents=[common], help="start the bot (local workspace without Slack tokens)")
    run.add_argument("--no-demo", action="store_true", help="don't seed the demo authority into an empty database")
    run.add_argument("--port", type=int, help="port to serve on (default 3000)")

    say = sub.add_parser("say", parents=[common], help="send a command or DM through the real bot, print the replies")
    say.add_argument("--as", dest="user", required=True, help="a Slack user id or staff user_id")
    say.add_argument("--channel", help="channel id to type in (default: the DM with the bot)")
    say.add_argument("--json", action="store_true", help="print the raw payloads")
    say.add_argument("text", nargs="+", help="e.g. /caseload team, or plain words for a DM")

    imp = sub.add_parser("import", parents=[common], help="import staff or children from CSV")
    imp_sub = imp.add_subparsers(dest="kind", metavar="KIND")
    imp_sub.required = True
    staff = imp_sub.add_parser("staff", parents=[common], help="user_id,name,team,role,fte,qualified_on")
    staff.add_argument("file", type=Path)
    staff.add_argument("--dry-run", action="store_true", help="check and report, write nothing")
    children = imp_sub.add_parser("children", parents=[common], help="child_ref,allocated_to,status[,...]")
    children.add_argument("file", type=Path)
    children.add_argument("--dry-run", action="store_true", help="check and report, write nothing")
    children.add_argument(
        "--partial",
        action="store_true",
        help="the file is not the whole list: don't de-allocate children missing from it",
    )

    db = sub.add_parser("db", parents=[common], help="database schema")
    db_sub = db.add_subparsers(dest="action", metavar="ACTION")
    db_sub.required = True
    db_sub.add_parser("upgrade", parents=[common], help="apply migrations")
    db_sub.add_parser("status", parents=[common], help="show the schema revision")

    policy = sub.add_parser("policy", parents=[common], help="the policy file")
    policy_sub = policy.add_subparsers(dest="action", metavar="ACTION")
    policy_sub.required = True
    check = policy_sub.add_parser("check", parents=[common], help="validate a policy file")
    check.add_argument("file", type=Path)

    tick = sub.add_parser("tick", parents=[common], help="run every scheduled job due now, once")
    tick.add_argument("--job", help="only this job")

    demo = sub.add_parser("demo", parents=[common], help="seed the demo authority into an empty database")
    demo.add_argument("--workspace", default="T0LOCAL")
    return parser


def clock_from(args: argparse.Namespace) -> Clock:
    now = getattr(args, "now", None)
    return FixedClock(now) if now is not None else SystemClock()


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = Settings()
    # `run` is a service and logs JSON lines; the other commands print their answers.
    secrets = [
        s.get_secret_value()
        for s in (settings.slack_bot_token, settings.slack_signing_secret, settings.slack_app_token)
        if s is not None
    ]
    logs.configure(logging.INFO if args.command == "run" else logging.WARNING, secrets)
    clock = clock_from(args)
    handler = COMMANDS[args.command]
    try:
        return asyncio.run(handler(args, settings, clock))
    except PolicyError as e:
        print(str(e), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


# --- commands ------------------------------------------------------------------


async def cmd_policy(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    policy = load_policy(args.file)
    bands = ", ".join(f"{b.cap} from {b.months} months" for b in policy.caseload.bands)
    print(f"{args.file}: OK")
    print(f"  caseload caps: {bands}; pro rata: {policy.caseload.pro_rata}")
    print(f"  weighting: {'on' if policy.caseload.weighting.enabled else 'off'}")
    return 0


async def cmd_db(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    from storage.db import Database, schema_is_current, upgrade

    db = Database(settings.database_url)
    try:
        if args.action == "upgrade":
            await upgrade(db)
        current, revision, head = await schema_is_current(db)
        print(f"schema at {revision or 'nothing'}; code expects {head}: {'current' if current else 'BEHIND'}")
        return 0 if current else 1
    finally:
        await db.dispose()


async def _with_deps(settings: Settings, clock: Clock, work: Callable[[Any], Awaitable[int]]) -> int:
    from bot.runtime import build_deps
    from storage.db import upgrade

    deps = build_deps(settings, clock)
    try:
        await upgrade(deps.db)
        return await work(deps)
    finally:
        await deps.db.dispose()


def _progress(label: str) -> Callable[[int, int], None]:
    def show(done: int, total: int) -> None:
        if total >= 500 and (done % 250 == 0 or done == total):
            print(f"\r{label}: {done}/{total} rows", end="\n" if done == total else "", file=sys.stderr)

    return show


async def cmd_import(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    from bot.imports import ChildRow, ImportFailed, StaffRow, lines, parse
    from storage.imports import import_children, import_staff

    try:
        text = args.file.read_text(encoding="utf-8-sig")
    except (FileNotFoundError, UnicodeDecodeError) as e:
        print(f"{args.file}: cannot read: {e}", file=sys.stderr)
        return 2

    async def work(deps: Any) -> int:
        from bot.runtime import start_local
        from schedules.caseload import check_caseloads

        try:
            async with deps.db.transaction() as session:
                if args.kind == "staff":
                    parsed = parse(StaffRow, text)
                    report = await import_staff(session, deps.workspace_id, parsed.rows, _progress("staff"))
                    summary = report.summary("staff")
                else:
                    parsed_children = parse(ChildRow, text)
                    report = await import_children(
                        session,
                        deps.workspace_id,
                        parsed_children.rows,
                        clock.now().date(),
                        columns=parsed_children.columns,
                        full=not args.partial,
                        progress=_progress("children"),
                    )
                    summary = report.summary("children")
                if args.dry_run:
                    await session.rollback()
        except ImportFailed as e:
            print(f"{args.file}: nothing imported, {len(e.problems)} problem(s):", file=sys.stderr)
            print(lines(e.problems), file=sys.stderr)
            return 1
        print(("dry run, nothing written: " if args.dry_run else "") + summary)
        if not args.dry_run and args.kind == "children" and not settings.uses_slack:
            local = await start_local(deps)
            try:
                for send in await check_caseloads(deps, deps.workspace_id, clock.now()):
                    print(f"  alert: {send}")
            finally:
                await local.stop()
        return 0

    return await _with_deps(settings, clock, work)


async def cmd_demo(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    from bot.demo import is_empty, seed

    async def work(deps: Any) -> int:
        async with deps.db.transaction() as session:
            if not await is_empty(session, args.workspace):
                print("the database already has staff: the demo is only seeded into an empty one")
                return 1
            staff, children = await seed(session, args.workspace, clock.now().date())
        print(f"demo authority seeded: {staff} staff, {children} children")
        return 0

    return await _with_deps(settings, clock, work)


def _print_messages(local: Any, before: int, as_json: bool) -> None:
    from bot.blocktext import blocks_to_text, view_to_text

    ws = local.workspace
    names = ws.names()
    for message in ws.messages[before:]:
        if message.user != ws.bot_user_id:
            continue
        if as_json:
            print(json.dumps({"channel": message.channel, "ts": message.ts, "text": message.text, "blocks": message.blocks}))
            continue
        where = ws.channels[message.channel].name if message.channel in ws.channels else message.channel
        who = f" (only visible to {names.get(message.ephemeral_to, message.ephemeral_to)})" if message.ephemeral_to else ""
        print(f"--- {where}{who}")
        print(blocks_to_text(message.blocks, message.text, names))
    for user, stack in ws.modal_stacks.items():
        for view_id in stack:
            print(json.dumps(ws.views[view_id]) if as_json else f"--- modal for {names.get(user, user)}\n" + view_to_text(ws.views[view_id], names))


async def cmd_say(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    from bot.runtime import start_local
    from storage.org import staff_by_any_id

    async def work(deps: Any) -> int:
        async with deps.db.session() as session:
            staff = await staff_by_any_id(session, deps.workspace_id, args.user)
        user = staff.slack_user_id if staff else args.user
        local = await start_local(deps)
        try:
            ws = local.workspace
            if user not in ws.users:
                ws.add_user(user, user, user)
            before = len(ws.messages)
            text = " ".join(args.text)
            if text.startswith("/"):
                status, _ = await ws.command(user, text, args.channel)
            else:
                status, _ = await ws.say(user, text, args.channel)
            await ws.settle()
            if status >= 400:
                print(f"the bot answered HTTP {status}", file=sys.stderr)
            _print_messages(local, before, args.json)
            return 0 if status < 400 else 1
        finally:
            await local.stop()

    return await _with_deps(settings, clock, work)


async def cmd_tick(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    from bot.runtime import start_local
    from schedules import tick

    async def work(deps: Any) -> int:
        local = await start_local(deps)
        try:
            sends = await tick(deps, clock.now(), only=args.job)
            for send in sends:
                print(send)
            if not sends:
                print("nothing due")
            return 0
        finally:
            await local.stop()

    return await _with_deps(settings, clock, work)


async def cmd_run(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    from bot.server import serve

    return await serve(settings, clock, demo=not args.no_demo, port=args.port)


COMMANDS: dict[str, Callable[[argparse.Namespace, Settings, Clock], Awaitable[int]]] = {
    "run": cmd_run,
    "say": cmd_say,
    "import": cmd_import,
    "db": cmd_db,
    "policy": cmd_policy,
    "tick": cmd_tick,
    "demo": cmd_demo,
}

if __name__ == "__main__":
    raise SystemExit(main())
