"""`groupsms numbers ...`: the install owner's commands for the provider account's numbers.

    groupsms numbers sync                      store the numbers the provider account owns
    groupsms numbers list                      every number, and the location it is given to
    groupsms numbers assign E164 --location REF [--label TEXT] [--default]
    groupsms numbers unassign E164             take it back (refused while a group uses it)

Whoever can run these against the database is the install owner; location admins only label,
default and assign to users the numbers their location was given (the Numbers page).
"""

from __future__ import annotations

import argparse
import json
import sys

from groupsms import config, db


def _refused(command: str, err: Exception) -> int:
    print(f"groupsms numbers {command}: refused: {err}", file=sys.stderr)
    return 1


def sync(_args: argparse.Namespace) -> int:
    from groupsms.messaging.numbers import ProviderError, from_settings
    from groupsms.services import inventory

    settings = config.load()
    with db.transaction() as s:
        provisioned = inventory.simulator_provisioned(s) if settings.simulator_mode else []
    try:
        provider = from_settings(settings, provisioned)
        report = inventory.sync(provider)
    except (ProviderError, ValueError) as err:
        return _refused("sync", err)
    where = "the built-in simulator (no VONAGE_API_KEY)" if settings.simulator_mode else settings.vonage_rest_host
    print(f"{report.summary()} from {where}")
    for e164, location_ref in report.still_given:
        print(f"  warning: the account no longer owns {e164}, but location {location_ref!r} still has it; "
              f"`groupsms numbers unassign {e164}` once its groups are done", file=sys.stderr)
    return 0


def list_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="one JSON object per line")


def list_numbers(args: argparse.Namespace) -> int:
    from groupsms.services import inventory

    rows = inventory.list_inventory()
    if args.json:
        for row in rows:
            print(json.dumps({"e164": row.e164, "source": row.source, "country": row.country,
                              "sms_capable": row.sms_capable, "location": row.location_ref, "label": row.label}))
        return 0
    if not rows:
        print("No provider numbers yet: run `groupsms numbers sync`.")
        return 0
    table = [["Number", "Source", "SMS", "Location", "Label"]]
    table += [[r.e164, r.source, "yes" if r.sms_capable else "no", r.location_ref or "-", r.label or ""]
              for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for row in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return 0


def assign_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("e164", metavar="E164", help="a number of the provider account, in any format")
    parser.add_argument("--location", required=True, metavar="REF", help="the location's ref")
    parser.add_argument("--label", default=None, help="shown in the number pickers (default: the number)")
    parser.add_argument("--default", action="store_true", help="make it the location's default number")


def assign(args: argparse.Namespace) -> int:
    from groupsms.errors import GroupsmsError
    from groupsms.services import inventory

    try:
        number_id = inventory.give_to_location(args.e164, args.location, label=args.label,
                                               default=args.default, provision=config.load().simulator_mode)
    except GroupsmsError as err:
        return _refused("assign", err)
    print(json.dumps({"number_id": number_id, "location": args.location}))
    return 0


def unassign_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("e164", metavar="E164", help="the number to take back from its location")


def unassign(args: argparse.Namespace) -> int:
    from groupsms.errors import GroupsmsError
    from groupsms.services import inventory

    try:
        location_ref = inventory.take_from_location(args.e164)
    except GroupsmsError as err:
        return _refused("unassign", err)
    print(f"Took {args.e164} back from location {location_ref!r}; it stays in the inventory.")
    return 0
