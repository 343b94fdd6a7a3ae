"""`groupsms api-token create`: the install owner makes an API token for a user, for scripts and a
CRM's first setup (admins also make them on "Users & access")."""

from __future__ import annotations

import argparse
import json
import sys


def create_arguments(parser: argparse.ArgumentParser) -> None:
    from groupsms.services.api_tokens import SCOPES

    parser.add_argument("--as", dest="as_email", required=True, metavar="EMAIL",
                        help="the user the token acts as (with that user's access)")
    parser.add_argument("--name", required=True, metavar="NAME", help="what the token is for, e.g. 'CRM sync'")
    parser.add_argument("--scope", action="append", default=[], choices=list(SCOPES), metavar="SCOPE",
                        help=f"limit the token to this scope; repeat for several ({', '.join(SCOPES)}); "
                        "without any the token may do whatever its user may")


def create(args: argparse.Namespace) -> int:
    from groupsms.errors import GroupsmsError
    from groupsms.services import api_tokens

    try:
        _, token = api_tokens.issue_token(args.as_email, args.name, args.scope)
    except GroupsmsError as err:
        print(json.dumps({"error": str(err)}), file=sys.stderr)
        print(f"groupsms api-token create: refused: {err}", file=sys.stderr)
        return 1
    print(json.dumps({"token": token}))
    return 0
