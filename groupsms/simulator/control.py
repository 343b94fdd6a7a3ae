"""The simulator's control API, for app processes that share one simulator (scale-out): what a
handset received and sent, and a handset replying. Basic auth with the account's API key and secret.

    GET  /_simulator/inbox?number=+15125550111   -> {"messages": [ReceivedSms fields...]}
    GET  /_simulator/sent?number=+15125550111    -> {"messages": [SentSms fields...]}
    POST /_simulator/inbound {"from": E164, "to": E164, "text": "..."} -> {"message_ids": [...]}

`RemoteSimulator` (simulator/remote.py) is the client: the Phones page uses it as it would use an
in-process `Simulator`.
"""

from __future__ import annotations

import dataclasses
import json
from urllib.parse import parse_qs

from groupsms.simulator.server import CONTROL_PREFIX as PREFIX, Reply


def _authorized(simulator, headers) -> bool:
    from groupsms.simulator.sms_api import _credentials

    _how, api_key, api_secret = _credentials(headers.get("Authorization"), {})
    with simulator._lock:
        known = simulator._accounts.get(api_key or "")
    return known is not None and known == api_secret


def handle(simulator, method: str, path: str, query: str, body: bytes, headers) -> Reply:
    if not _authorized(simulator, headers):
        return Reply(401, {"error": "Basic auth with the simulator's API key and secret required"})
    name = path[len(PREFIX):]
    if method == "GET" and name in ("inbox", "sent"):
        number = (parse_qs(query).get("number") or [""])[0]
        rows = simulator.inbox(number) if name == "inbox" else simulator.sent_from(number)
        return Reply(200, {"messages": [dataclasses.asdict(row) for row in rows]})
    if method == "POST" and name == "inbound":
        try:
            data = json.loads(body or b"{}")
            ids = simulator.post_inbound(str(data["from"]), str(data["to"]), str(data["text"]))
        except (ValueError, KeyError, TypeError) as exc:
            return Reply(400, {"error": str(exc)})
        except Exception as exc:  # the app refused the webhook (WebhookError) or could not be reached
            return Reply(502, {"error": str(exc)})
        return Reply(200, {"message_ids": ids})
    return Reply(404, {"error": f"no such control endpoint: {method} {path}"})
