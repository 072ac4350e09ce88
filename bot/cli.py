"""The `practice-bot` command."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Awaitable, Callable, Coroutine, Sequence
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

    imp = sub.add_parser("import", parents=[common], help="import staff, children or visits from CSV")
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

    visits_file = imp_sub.add_parser("visits", parents=[common], help="child_ref,visited_on[,kind]: visit history")
    visits_file.add_argument("file", type=Path)
    visits_file.add_argument("--dry-run", action="store_true", help="check and report, write nothing")

    visits = sub.add_parser("visits", parents=[common], help="statutory visits and reviews")
    visits_sub = visits.add_subparsers(dest="action", metavar="ACTION")
    visits_sub.required = True
    explain = visits_sub.add_parser(
        "explain", parents=[common], help="each obligation for one child: due date, state and rule"
    )
    explain.add_argument("child_ref")
    explain.add_argument("--workspace", default="T0LOCAL")

    annex = imp_sub.add_parser("annex-a", parents=[common], help="Ofsted Annex A workbook (.xlsx): Lists 6, 7, 8")
    annex.add_argument("file", type=Path)
    annex.add_argument("--dry-run", action="store_true", help="report what would change, write nothing")
    annex.add_argument(
        "--partial",
        action="store_true",
        help="the workbook is not the whole list: don't de-allocate children missing from it",
    )
    ssda = imp_sub.add_parser("ssda903", parents=[common], help="DfE SSDA903 return: a folder of CSVs")
    ssda.add_argument("folder", type=Path)
    ssda.add_argument("--dry-run", action="store_true", help="report what would change, write nothing")
    census = imp_sub.add_parser("census", parents=[common], help="children's social work workforce census (CSV)")
    census.add_argument("file", type=Path)
    census.add_argument(
        "--key", choices=("user_id", "email", "name"), default="user_id", help="how rows join to the staff list"
    )
    census.add_argument("--dry-run", action="store_true", help="report what would change, write nothing")
    mapw = imp_sub.add_parser("map-workers", parents=[common], help="match the workers a file names to the staff list")
    mapw.add_argument("source", type=Path, help="an Annex A .xlsx or a census .csv")
    mapw.add_argument("--key", choices=("user_id", "email", "name"), help="census only: match by this alone")
    mapw.add_argument("--apply", action="store_true", help="remember the matches for later imports")
    mapw.add_argument(
        "--set",
        dest="aliases",
        action="append",
        default=[],
        metavar="LABEL=USER_ID",
        help='resolve one by hand, e.g. --set "Smith, J=jsmith" (repeatable)',
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
    demo.add_argument(
        "--size",
        choices=("small", "large"),
        default="small",
        help="small: 27 staff in 2 offices; large (benchmarks): 2,000 staff, 40,000 children, "
        "400,000 visits, 1,500 desks",
    )

    desks = sub.add_parser("desks", parents=[common], help="the office layout for desk booking")
    desks_sub = desks.add_subparsers(dest="action", metavar="ACTION")
    desks_sub.required = True
    desks_check = desks_sub.add_parser("check", parents=[common], help="validate an office layout file (TOML)")
    desks_check.add_argument("file", type=Path)
    desks_load = desks_sub.add_parser(
        "load",
        parents=[common],
        help="load a layout: bookings on removed desks are moved or waitlisted, with a DM",
    )
    desks_load.add_argument("file", type=Path)

    audit_cmd = sub.add_parser("audit", parents=[common], help="who saw or changed a record")
    audit_sub = audit_cmd.add_subparsers(dest="kind", metavar="KIND")
    audit_sub.required = True
    audit_worry = audit_sub.add_parser(
        "worry", parents=[common], help="every reading of a worry, and who raised, took and closed it"
    )
    audit_worry.add_argument("id", type=int, help="the worry's number, e.g. 12 for worry #12")
    audit_worry.add_argument("--workspace", help="the Slack workspace id (default: the configured one)")
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
    v = policy.visits
    print(
        f"  visits: CP every {v.cp_visit_working_days} and CIN every {v.cin_visit_working_days} "
        f"working days; reminders {v.reminder_time}; digest {v.digest_day} {v.digest_time}; "
        f"managers told after {v.manager_lapse_working_days} working days overdue"
    )
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
    if args.kind in ("annex-a", "ssda903", "census"):
        return await cmd_import_source(args, settings, clock)
    if args.kind == "map-workers":
        return await cmd_map_workers(args, settings, clock)
    from bot.imports import ChildRow, ImportFailed, StaffRow, lines, parse
    from storage.imports import import_children, import_staff

    try:
        text = args.file.read_text(encoding="utf-8-sig")
    except (FileNotFoundError, UnicodeDecodeError) as e:
        print(f"{args.file}: cannot read: {e}", file=sys.stderr)
        return 2
    if args.kind == "visits":
        return await _import_visits(args, settings, clock, text)

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


async def _import_visits(args: argparse.Namespace, settings: Settings, clock: Clock, text: str) -> int:
    from bot.imports import ImportFailed, VisitRow, lines, parse
    from storage.visits import import_visits

    async def work(deps: Any) -> int:
        try:
            async with deps.db.transaction() as session:
                parsed = parse(VisitRow, text)
                report = await import_visits(session, deps.workspace_id, parsed.rows, clock.now().date(), clock.now())
                if args.dry_run:
                    await session.rollback()
        except ImportFailed as e:
            print(f"{args.file}: nothing imported, {len(e.problems)} problem(s):", file=sys.stderr)
            print(lines(e.problems), file=sys.stderr)
            return 1
        summary = f"visits: {report.created} new, {report.unchanged} already recorded"
        print(("dry run, nothing written: " if args.dry_run else "") + summary)
        return 0

    return await _with_deps(settings, clock, work)


async def cmd_visits(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    from bot.visits import explain
    from storage.visits import child_facts

    async def work(deps: Any) -> int:
        async with deps.db.session() as session:
            found = await child_facts(session, args.workspace, args.child_ref)
        if found is None:
            print(f"no child with case reference {args.child_ref}", file=sys.stderr)
            return 1
        child, facts = found
        on = clock.now().date()
        print(f"{facts.child_ref}: {facts.status}, as of {on.isoformat()}")
        known = [
            ("status since", facts.status_since),
            ("placement start", facts.placement_start),
            ("placement type", facts.placement_type),
            ("last visit", facts.last_visit_on),
            ("last review", facts.last_review_on),
        ]
        print("  facts: " + "; ".join(f"{k} {v if v is not None else '-'}" for k, v in known))
        for line in explain(facts, on, deps.policy.visits.rules(), deps.calendar):
            print(f"  - {line}")
        return 0

    return await _with_deps(settings, clock, work)


def _bar(label: str) -> Callable[[int, int], None]:
    """A progress bar on stderr for files over 500 rows; quiet for small ones."""
    shown = {"at": -1}

    def show(done: int, total: int) -> None:
        if total <= 500:
            return
        step = done * 40 // total
        if step == shown["at"] and done != total:
            return
        shown["at"] = step
        bar = "#" * step + "." * (40 - step)
        print(f"\r{label} [{bar}] {done}/{total}", end="\n" if done >= total else "", file=sys.stderr, flush=True)

    return show


def _parse_source(args: argparse.Namespace, today: Any) -> Any:
    """The parsed file for `import annex-a | ssda903 | census`, or a message if unreadable."""
    from bot.annex_a import parse_workbook
    from bot.census import parse_census
    from bot.ssda903 import parse_folder

    if args.kind == "annex-a":
        return parse_workbook(args.file, today, _bar("reading"))
    if args.kind == "ssda903":
        if not args.folder.is_dir():
            raise FileNotFoundError(f"{args.folder} is not a folder of SSDA903 CSVs")
        return parse_folder(args.folder, today, _bar("reading"))
    return parse_census(args.file, args.key, today, _bar("reading"))


def _print_report(report: Any, noun: str, dry_run: bool) -> None:
    from bot.imports import lines

    print(("dry run, nothing written: " if dry_run else "") + report.summary(noun))
    if report.rejected:
        print("rejected (fix these, then import again):")
        print(_indent(lines(report.rejected)))
    if report.warnings:
        print("notes:")
        print(_indent(lines(report.warnings)))


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.splitlines())


async def cmd_import_source(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    from bot.imports import ImportFailed, lines
    from storage.imports import import_annex_a, import_census, import_ssda903

    today = clock.now().date()
    path = args.folder if args.kind == "ssda903" else args.file
    try:
        parsed = _parse_source(args, today)
    except (FileNotFoundError, IsADirectoryError, PermissionError) as e:
        print(f"{path}: cannot read: {e}", file=sys.stderr)
        return 2

    async def work(deps: Any) -> int:
        from bot.runtime import start_local
        from schedules.caseload import check_caseloads

        strict = not args.dry_run
        try:
            async with deps.db.transaction() as session:
                if args.kind == "annex-a":
                    report = await import_annex_a(
                        session,
                        deps.workspace_id,
                        parsed,
                        today,
                        full=not args.partial,
                        strict=strict,
                        progress=_bar("writing"),
                    )
                elif args.kind == "ssda903":
                    report = await import_ssda903(
                        session, deps.workspace_id, parsed, today, strict=strict, progress=_bar("writing")
                    )
                else:
                    report = await import_census(
                        session, deps.workspace_id, parsed, strict=strict, progress=_bar("writing")
                    )
                if args.dry_run:
                    await session.rollback()
        except ImportFailed as e:
            print(f"{path}: nothing imported, {len(e.problems)} problem(s):", file=sys.stderr)
            print(lines(e.problems), file=sys.stderr)
            return 1
        _print_report(report, "staff" if args.kind == "census" else "children", args.dry_run)
        if not args.dry_run and args.kind == "annex-a" and not settings.uses_slack:
            local = await start_local(deps)
            try:
                for send in await check_caseloads(deps, deps.workspace_id, clock.now()):
                    print(f"  alert: {send}")
            finally:
                await local.stop()
        return 0

    return await _with_deps(settings, clock, work)


async def cmd_map_workers(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    from bot.annex_a import parse_workbook
    from bot.census import parse_census
    from bot.workers import HOW, METHODS
    from storage.mapping import resolve_workers, save_aliases, set_alias

    today = clock.now().date()
    manual: list[tuple[str, str]] = []
    for pair in args.aliases:
        label, sep, user_id = pair.rpartition("=")
        if not sep or not label.strip() or not user_id.strip():
            print(f"--set '{pair}': use LABEL=USER_ID, e.g. --set \"Smith, J=jsmith\"", file=sys.stderr)
            return 2
        manual.append((label.strip(), user_id.strip()))
    try:
        if args.source.suffix.lower() == ".xlsx":
            where = parse_workbook(args.source, today).workers()
            methods: tuple[str, ...] = METHODS
        elif args.source.suffix.lower() == ".csv":
            census = parse_census(args.source, args.key or "name", today)
            where = {r.key: [("census", r.row)] for r in census.rows}
            methods = (args.key,) if args.key else METHODS
        else:
            print(
                f"{args.source}: give an Annex A .xlsx or a census .csv "
                "(an SSDA903 return names no workers, so there is nothing to map)",
                file=sys.stderr,
            )
            return 2
    except (FileNotFoundError, IsADirectoryError, PermissionError) as e:
        print(f"{args.source}: cannot read: {e}", file=sys.stderr)
        return 2

    async def work(deps: Any) -> int:
        async with deps.db.transaction() as session:
            for label, user_id in manual:
                try:
                    await set_alias(session, deps.workspace_id, label, user_id)
                except LookupError as e:
                    print(f"--set '{label}={user_id}': {e}", file=sys.stderr)
                    return 2
            matching = await resolve_workers(session, deps.workspace_id, where, methods)
            matched = sorted(matching.matched.values(), key=lambda m: m.label.casefold())
            print(f"matched {len(matched)} worker(s):")
            for m in matched:
                print(f"  '{m.label}' -> {m.user_id} (by {HOW[m.how]})")
            if matching.unmatched:
                print(
                    f"not matched {len(matching.unmatched)} worker(s): children allocated to them can't be imported yet"
                )
                for u in sorted(matching.unmatched, key=lambda u: u.label.casefold()):
                    rows = ", ".join(f"{sheet} row {row}" for sheet, row in where[u.label][:3])
                    more = f" and {len(where[u.label]) - 3} more" if len(where[u.label]) > 3 else ""
                    print(f"  '{u.label}' ({rows}{more}): {u.reason}")
                print(f'resolve each with: practice-bot import map-workers {args.source} --set "LABEL=USER_ID"')
            if args.apply:
                saved = await save_aliases(session, deps.workspace_id, matched)
                print(f"saved {saved} new or changed mapping(s) for later imports")
        return 1 if matching.unmatched else 0

    return await _with_deps(settings, clock, work)


async def cmd_demo(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    from bot.demo import is_empty, seed

    async def work(deps: Any) -> int:
        async with deps.db.transaction() as session:
            if not await is_empty(session, args.workspace):
                print("the database already has staff: the demo is only seeded into an empty one")
                return 1
            if args.size == "large":
                from bot.demo_large import seed_large

                big = await seed_large(session, args.workspace, clock.now().date())
                staff, children = big.staff, big.children
                extra = f", {big.visits} visits, {big.desks} desks, {big.bookings} desk bookings"
            else:
                staff, children = await seed(session, args.workspace, clock.now().date())
                extra = ""
        print(f"demo authority seeded: {staff} staff, {children} children{extra}")
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
            print(
                json.dumps(
                    {"channel": message.channel, "ts": message.ts, "text": message.text, "blocks": message.blocks}
                )
            )
            continue
        where = ws.channels[message.channel].name if message.channel in ws.channels else message.channel
        who = (
            f" (only visible to {names.get(message.ephemeral_to, message.ephemeral_to)})"
            if message.ephemeral_to
            else ""
        )
        print(f"--- {where}{who}")
        print(blocks_to_text(message.blocks, message.text, names))
    for user, stack in ws.modal_stacks.items():
        for view_id in stack:
            print(
                json.dumps(ws.views[view_id])
                if as_json
                else f"--- modal for {names.get(user, user)}\n" + view_to_text(ws.views[view_id], names)
            )


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


AUDIT_WORDS = {
    "worry.raise": "raised it",
    "worry.view": "read the worry",
    "worry.take": "took it",
    "worry.outcome": "recorded the outcome",
}


async def cmd_audit(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    from sqlalchemy import select

    from storage.audit import trail
    from storage.org import Staff
    from storage.worries import get_worry

    async def work(deps: Any) -> int:
        workspace_id = args.workspace or deps.workspace_id
        async with deps.db.session() as session:
            worry = await get_worry(session, workspace_id, args.id)
            if worry is None:
                print(f"there is no worry #{args.id}", file=sys.stderr)
                return 1
            entries = await trail(session, workspace_id, f"worry:{args.id}")
            names = {
                s.user_id: s.name
                for s in await session.scalars(select(Staff).where(Staff.workspace_id == workspace_id))
            }
        # References and names only: the worry's own words never leave the bot.
        about = worry.child_ref or "a family not yet known"
        print(f"worry #{worry.id} about {about}: {worry.state}" + (f" ({worry.outcome})" if worry.outcome else ""))
        zone = clock.now().tzinfo
        for entry in entries:
            who = f"{names.get(entry.actor, entry.actor)} ({entry.actor})"
            what = AUDIT_WORDS.get(entry.action, entry.action)
            print(f"  {entry.at.astimezone(zone):%Y-%m-%d %H:%M}  {who:<32}  {what}")
        views = sum(1 for e in entries if e.action == "worry.view")
        print(f"{len(entries)} entries, {views} reading(s) of the worry")
        return 0

    return await _with_deps(settings, clock, work)


async def cmd_desks(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    from bot.desks import LayoutError, load_layout, summarise_layout

    try:
        layout = load_layout(args.file)
    except LayoutError as e:
        print(str(e), file=sys.stderr)
        return 1
    summary = summarise_layout(layout)
    if args.action == "check":
        kit = ", ".join(f"{n} {tag}" for tag, n in summary.tags.items()) or "no equipment tags"
        print(f"{args.file}: OK")
        print(
            f"  {summary.offices} office(s), {summary.floors} floor(s), {summary.zones} zone(s), {summary.desks} desks"
        )
        print(f"  team bases: {', '.join(summary.team_bases) or 'none'}")
        print(f"  equipment: {kit}")
        return 0

    async def work(deps: Any) -> int:
        from bot.app import web_client
        from bot.runtime import start_local
        from handlers.desks import sync_layout_and_tell
        from storage.org import all_teams

        local = None
        if settings.uses_slack and settings.slack_bot_token is not None:
            deps.client = web_client(settings.slack_bot_token.get_secret_value())
        else:
            local = await start_local(deps)
        try:
            report = await sync_layout_and_tell(deps, deps.workspace_id, layout)
            async with deps.db.session() as session:
                teams = {t.name for t in await all_teams(session, deps.workspace_id)}
        finally:
            if local is not None:
                await local.stop()
        print(f"{args.file}: loaded: {report.summary()}")
        for moved in report.moved:
            where = moved.new_desk.code if moved.new_desk else "the waitlist"
            print(f"  {moved.worker.name}, {moved.day}: {moved.old_code} -> {where} (told by DM)")
        unknown = [b for b in summary.team_bases if teams and b not in teams]
        if unknown:
            print(f"  note: no team called {', '.join(unknown)} (check the team_base spelling)")
        return 0

    return await _with_deps(settings, clock, work)


COMMANDS: dict[str, Callable[[argparse.Namespace, Settings, Clock], Coroutine[Any, Any, int]]] = {
    "desks": cmd_desks,
    "run": cmd_run,
    "say": cmd_say,
    "import": cmd_import,
    "db": cmd_db,
    "policy": cmd_policy,
    "tick": cmd_tick,
    "visits": cmd_visits,
    "demo": cmd_demo,
    "audit": cmd_audit,
}

if __name__ == "__main__":
    raise SystemExit(main())
