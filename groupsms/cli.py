"""The `groupsms` console script (DESIGN §4).

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

from groupsms import config, db


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
    parser.add_argument("file", metavar="FILE.json", help="a load file (see DESIGN §4 / README)")


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
    from groupsms.demo import APP_URL, demo_logins, load_demo
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
    print(f"Open {APP_URL} and sign in with one of them.")
    return 0


COMMANDS: dict[tuple[str, ...], Command] = {
    ("db", "upgrade"): Command("migrate the database to the latest schema", _db_upgrade),
    ("load",): Command("create or update locations, users, numbers and contacts from a JSON file",
                       _load, _load_arguments),
    ("demo",): Command("load the demo locations and print the demo logins", _demo),
}
# Help for the first word of multi-word commands.
COMMAND_GROUPS = {"db": "database schema"}


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
