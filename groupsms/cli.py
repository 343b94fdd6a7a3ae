"""The `groupsms` console script.

Subcommands live in one registry, `COMMANDS`, keyed by their words: `("db", "upgrade")` is
`groupsms db upgrade`. A command is a function taking the parsed arguments and returning the exit
code; adding one (`worker`, `simulator`, `group create`, `send`) is one entry and one function.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from groupsms import cli_api, cli_inbound, cli_numbers, config, db


@dataclass(frozen=True)
class Command:
    help: str
    run: Callable[[argparse.Namespace], int]
    arguments: Callable[[argparse.ArgumentParser], None] | None = None
    uses_database: bool = True


def _safe_url(url: str) -> str:
    """The database URL as it may be printed: never with its password."""
    return make_url(url).render_as_string(hide_password=True)


def _print_table(rows: list[list[str]], *, indent: str = "  ") -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print(indent + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


# ---------------------------------------------------------------------------------------------
# Commands.


def _db_upgrade(_args: argparse.Namespace) -> int:
    from groupsms import migrations

    url = config.load().database_url
    migrations.upgrade(url)
    print(f"Database is at the latest schema ({_safe_url(url)})")
    return 0


def _load_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE.json", help="a load file (its format: README, From scripts)")


def _load(args: argparse.Namespace) -> int:
    from groupsms.loadfile import LoadError, load_file

    try:
        report = load_file(args.file)
    except LoadError as err:
        count = len(err.errors)
        print(f"groupsms load: {args.file} was not loaded, nothing was changed "
              f"({count} error{'s' if count != 1 else ''}):", file=sys.stderr)
        for line in err.errors:
            print(f"  {line}", file=sys.stderr)
        return 1
    print(report.summary())
    return 0


def _demo(_args: argparse.Namespace) -> int:
    from groupsms.demo import app_url, demo_logins, load_demo
    from groupsms.loadfile import LoadError

    try:
        report = load_demo()
    except LoadError as err:  # e.g. a demo email already used by another location
        print("groupsms demo: the demo was not loaded, nothing was changed:", file=sys.stderr)
        for line in err.errors:
            print(f"  {line}", file=sys.stderr)
        return 1
    print(report.summary() if report.changed else "The demo is loaded (it was already up to date).")
    print()
    print("Demo logins (a local demo: these passwords are public):")
    access = {"all": "all data", "assigned": "assigned only"}
    rows = [["Location", "Email", "Password", "Role", "Data access"]]
    rows += [[d["location"], d["email"], d["password"], d["role"], access[d["data_access"]]]
             for d in demo_logins()]
    _print_table(rows)
    print()
    print(f"Open {app_url()} and sign in with one of them.")
    return 0


def _worker_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--concurrency", type=int, default=None,
                        help="sends in flight at once (default GROUPSMS_WORKER_CONCURRENCY, else 8)")


def _worker(args: argparse.Namespace) -> int:
    """Drain the outbox until interrupted; several workers may run at once (scale-out)."""
    import signal
    import threading

    from groupsms.messaging import runtime
    from groupsms.messaging.vonage_gateway import from_settings
    from groupsms.messaging.worker import Worker

    settings = config.load()
    if settings.simulator_mode:
        print("groupsms worker: VONAGE_API_KEY is not set. Start `groupsms simulator` and export the "
              "variables it prints, or set your Vonage account's.", file=sys.stderr)
        return 2
    args.concurrency = args.concurrency or settings.worker_concurrency
    if args.concurrency < 1:
        print("groupsms worker: --concurrency must be at least 1", file=sys.stderr)
        return 2
    worker = Worker(from_settings(settings), limiter=runtime.limiter_for(settings), concurrency=args.concurrency)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    print(f"groupsms worker {worker.name}: sending through {settings.vonage_rest_host} "
          f"at most {settings.sms_rate:g}/s", flush=True)
    from groupsms.messaging.inbound_loop import InboundLoop

    inbound_thread = InboundLoop().start(stop)  # webhook retries never wait behind sends
    from groupsms.messaging import webhook_out

    webhook_out.start(stop)  # outbound webhooks to CRMs
    worker.run_forever(stop)
    inbound_thread.join(timeout=15)
    return 0


def _simulator(args: argparse.Namespace) -> int:
    from groupsms.simulator import main as simulator_main

    forwarded = args.simulator_args
    return simulator_main(forwarded[1:] if forwarded[:1] == ["--"] else forwarded)  # `simulator -- --port 9000`


def _simulator_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("simulator_args", nargs=argparse.REMAINDER, help="see `groupsms simulator -- --help`")


def _acting(email: str):
    """The user a script acts as: the same services and access checks as the pages apply to them."""
    from sqlmodel import func, select

    from groupsms.models import User
    from groupsms.services import Actor

    with db.transaction() as s:
        user = s.exec(select(User).where(func.lower(User.email) == email.strip().lower())).first()
        if user is None or not user.is_active:
            raise LookupError(f"no active user with the email {email}")
        return Actor.of(user)


def _group_create_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--as", dest="as_email", required=True, metavar="EMAIL", help="act as this user")
    parser.add_argument("--from", dest="from_number", required=True, metavar="E164", help="business number")
    parser.add_argument("--participant", action="append", default=[], metavar="CONTACT_REF[:primary|secondary]",
                        help="a contact's number; repeat for each participant (2 to 9)")
    parser.add_argument("--allow-duplicate", action="store_true",
                        help="create even if an active group has exactly these numbers (E11)")


def _refused(command: str, err: Exception) -> int:
    import json

    print(json.dumps({"error": str(err)}), file=sys.stderr)
    print(f"groupsms {command}: refused: {err}", file=sys.stderr)
    return 1


def _group_create(args: argparse.Namespace) -> int:
    import json

    from sqlmodel import select

    from groupsms.domain.phones import PhoneError, normalize
    from groupsms.errors import DuplicateGroup, GroupsmsError
    from groupsms.models import BusinessNumber, Contact
    from groupsms.services import groups

    try:
        actor = _acting(args.as_email)
        e164 = normalize(args.from_number)
        with db.transaction() as s:  # refs and numbers name rows of the actor's location only
            number_id = s.exec(select(BusinessNumber.id).where(
                BusinessNumber.location_id == actor.location_id, BusinessNumber.e164 == e164)).first()
            participants = []
            for item in args.participant:
                ref, _, which = item.partition(":")
                contact_id = s.exec(select(Contact.id).where(
                    Contact.location_id == actor.location_id, Contact.ref == ref)).first()
                if contact_id is None:
                    raise LookupError(f"contact {ref!r} not found")
                participants.append((contact_id, which or "primary"))
        if number_id is None:
            raise LookupError(f"business number {args.from_number} not found")
        group_id = groups.create_group(actor, number_id, participants, allow_duplicate=args.allow_duplicate)
    except DuplicateGroup as err:
        return _refused("group create", f"{err} (group {err.group_id}); pass --allow-duplicate to create anyway")
    except (GroupsmsError, LookupError, PhoneError) as err:
        return _refused("group create", err)
    print(json.dumps({"group_id": group_id}))
    return 0


def _send_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--as", dest="as_email", required=True, metavar="EMAIL", help="act as this user")
    parser.add_argument("--group", required=True, metavar="ID", help="the group's id")
    parser.add_argument("--key", metavar="KEY", default=None,
                        help="a single-use key (16-64 of A-Z a-z 0-9 - _): a rerun with the same key sends nothing new")
    parser.add_argument("text", metavar="TEXT", help="the message")


def _send(args: argparse.Namespace) -> int:
    import json

    from groupsms.errors import GroupsmsError
    from groupsms.services import messages

    try:
        message_id = messages.send_message(_acting(args.as_email), args.group, args.text, args.key)
    except (GroupsmsError, LookupError) as err:
        return _refused("send", err)
    print(json.dumps({"message_id": message_id}))
    return 0


COMMANDS: dict[tuple[str, ...], Command] = {
    ("db", "upgrade"): Command("migrate the database to the latest schema", _db_upgrade),
    ("load",): Command("create or update locations, users, numbers and contacts from a JSON file",
                       _load, _load_arguments),
    ("demo",): Command("load the demo locations and print the demo logins", _demo),
    ("worker",): Command("send queued SMS (run several for scale-out)", _worker, _worker_arguments),
    ("simulator",): Command("run a Vonage SMS API simulator with simulated handsets", _simulator,
                            _simulator_arguments, uses_database=False),
    ("group", "create"): Command("create a group as a user (prints {\"group_id\": ...})", _group_create,
                                 _group_create_arguments),
    ("send",): Command("send a message in a group as a user (prints {\"message_id\": ...})", _send,
                       _send_arguments),
    ("numbers", "sync"): Command("store the numbers the provider account owns (Vonage, or the simulator)",
                                 cli_numbers.sync),
    ("numbers", "list"): Command("list the provider numbers and the location each is given to",
                                 cli_numbers.list_numbers, cli_numbers.list_arguments),
    ("numbers", "assign"): Command("give a provider number to a location", cli_numbers.assign,
                                   cli_numbers.assign_arguments),
    ("numbers", "unassign"): Command("take a number back from its location (not while a group uses it)",
                                     cli_numbers.unassign, cli_numbers.unassign_arguments),
    ("inbound", "failed"): Command("list webhook events that could not be processed after their retries",
                                   cli_inbound.failed, cli_inbound.failed_arguments),
    ("api-token", "create"): Command("make an API token acting as a user (prints {\"token\": ...})", cli_api.create,
                                     cli_api.create_arguments),
}
# Help for the first word of multi-word commands.
COMMAND_GROUPS = {"db": "database schema", "group": "group conversations",
                  "numbers": "the provider account's numbers and the locations they are given to",
                  "inbound": "webhook events (SMS and receipts) received", "api-token": "tokens of the REST API"}


# ---------------------------------------------------------------------------------------------
# Parsing and dispatch.


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="groupsms",
        description="Group SMS chat for CRMs. The database is GROUPSMS_DATABASE_URL "
        f"(default {config.DEFAULT_DATABASE_URL}).",
    )
    root = parser.add_subparsers(metavar="COMMAND", required=True)
    branches: dict[tuple[str, ...], argparse._SubParsersAction] = {(): root}
    for words, command in COMMANDS.items():
        for depth in range(1, len(words)):  # intermediate words: `db` in `db upgrade`
            prefix = words[:depth]
            if prefix not in branches:
                group = branches[prefix[:-1]].add_parser(prefix[-1], help=COMMAND_GROUPS.get(prefix[-1]))
                branches[prefix] = group.add_subparsers(metavar="COMMAND", required=True)
        sub = branches[words[:-1]].add_parser(words[-1], help=command.help, description=command.help)
        if command.arguments:
            command.arguments(sub)
        sub.set_defaults(command=command)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error argparse has already printed
        return exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 2
    command: Command = args.command
    url = config.load().database_url
    if command.uses_database:
        db.init(url)
    try:
        return command.run(args)
    except DBAPIError as err:
        reason = " ".join(str(getattr(err, "orig", err)).split())[:300]
        print(f"groupsms: database error ({_safe_url(url)}): {reason}", file=sys.stderr)
        print("  Is the database reachable, and has `groupsms db upgrade` been run?", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
