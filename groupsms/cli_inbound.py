"""`groupsms inbound failed`: webhook events whose processing gave up after its retries."""

from __future__ import annotations

import argparse
import json


def failed_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument("--limit", type=int, default=100, help="how many, newest first (default 100)")


def failed(args: argparse.Namespace) -> int:
    from groupsms.messaging.inbound_failures import failed_events

    if args.limit < 1:
        print("groupsms inbound failed: --limit must be at least 1")
        return 2
    rows = failed_events(args.limit)
    if args.json:
        for e in rows:
            print(json.dumps({"id": e.id, "kind": e.kind, "received_at": e.received_at.isoformat(),
                              "gave_up_at": e.gave_up_at.isoformat(), "attempts": e.attempts,
                              "summary": e.summary, "location_id": e.location_id, "error": e.error}))
        return 0
    if not rows:
        print("No failed webhook events.")
        return 0
    for e in rows:
        print(f"#{e.id} {e.kind} received {e.received_at:%Y-%m-%d %H:%M} UTC, gave up after {e.attempts} "
              f"attempts: {e.summary}\n    {e.error}")
    return 0
