"""POST /sms/json as the simulator answers it: parameters, credentials, faults, throttling, parts.

`SmsApi` is a mixin over `Simulator`'s state (its lock, accounts, inboxes, counters, dispatcher); it
holds the API's rules so that core.py can hold the simulator's lifecycle and handsets.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import time
from urllib.parse import parse_qs

from groupsms.messaging.gateway import MAX_CLIENT_REF
from groupsms.messaging.signatures import verify_params
from groupsms.simulator import texts
from groupsms.simulator.records import ReceivedSms, SmsRequestRecord
from groupsms.simulator.server import Reply
from groupsms.simulator.webhooks import STATUS

PRE_READ_FAULTS = ("drop_before_read",)
POST_READ_FAULTS = ("timeout", "throttle", "drop_after_read")
HTTP_FAULT = re.compile(r"http([1-5]\d\d)")
MAX_TEXT = 3200  # longer text is refused with status 12 (Message Too Long)
THROTTLED_TEXT = "Throughput Rate Exceeded - please wait [ 1000 ] and retry"


class SmsApi:
    """POST /sms/json: what the real API checks, in its order, and what it answers."""

    def handle_send(self, query: str, body: bytes, headers, client_address: tuple | None = None) -> Reply:
        content_type = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
        params, parse_error = _parse_params(query, body, content_type)
        auth, api_key, api_secret = _credentials(headers.get("Authorization"), params)
        fault = self._take_post_read_fault()
        with self._changed:
            record = SmsRequestRecord(
                seq=len(self._records) + 1, at=time.time(), auth=auth, api_key=api_key, api_secret=api_secret,
                params={k: v for k, v in params.items() if k != "api_secret"}, content_type=content_type,
                client_address=client_address, fault=fault[0] if fault else None,
            )
            self._records.append(record)
            self._stats["requests"] += 1
            self._changed.notify_all()

        if fault:
            kind, hold = fault
            http = HTTP_FAULT.fullmatch(kind)
            if http:
                status = int(http.group(1))
                headers_out = {"Retry-After": "1"} if status == 429 else {}
                body = {"type": "simulated", "title": f"HTTP {status}"}
                return self._finish(record, Reply(status, body, headers_out))
            if kind == "throttle":
                return self._finish(record, self._error("1", THROTTLED_TEXT))
            if kind == "timeout":
                self._stop.wait(self.fault_hold if hold is None else hold)

        if self.latency:  # a provider that takes this long to answer (benchmarks)
            time.sleep(self.latency)
        reply = self._process(params, parse_error, auth, api_key, api_secret)
        if fault and fault[0] == "drop_after_read":
            reply.drop = True
        return self._finish(record, reply)

    def _finish(self, record: SmsRequestRecord, reply: Reply) -> Reply:
        with self._lock:
            record.http_status = None if reply.drop else reply.status
            messages = (reply.body or {}).get("messages") or []
            record.statuses = tuple(m.get("status", "") for m in messages)
        return reply

    def _error(self, status: str, text: str) -> Reply:
        with self._lock:
            self._stats["throttled" if status == "1" else "rejected"] += 1
        return Reply(200, {"message-count": "1", "messages": [{"status": status, "error-text": text}]})

    def _process(self, params, parse_error, auth, api_key, api_secret) -> Reply:
        if parse_error:
            return self._error("3", parse_error)
        # Credentials first, as Vonage does.
        if not api_key:
            return self._error("2", "Missing api_key")
        with self._lock:
            known_secret = self._accounts.get(api_key)
        if auth == "signature":
            if api_secret:
                return self._error("32", "Signature and API secret disallowed")
            if known_secret is None or not self.signature_secret:
                return self._error("4", "Bad Credentials")
            problem = verify_params(params, self.signature_secret, self.signature_method, now=time.time())
            if problem:
                return self._error("14", f"Invalid Signature ({problem})")
        elif not api_secret:
            return self._error("2", "Missing api_secret")
        elif known_secret is None or not secrets.compare_digest(known_secret.encode(), api_secret.encode()):
            return self._error("4", "Bad Credentials")
        if self._throttled(api_key):
            return self._error("1", THROTTLED_TEXT)

        for name in ("from", "to", "text"):
            if not params.get(name):
                return self._error("2", f"Missing {name} param")
        sms_type = params.get("type") or "text"
        if sms_type not in ("text", "unicode"):
            return self._error("3", f"Invalid type param: the simulator handles text and unicode, not {sms_type}")
        to = params["to"]
        if not texts.is_vonage_number(to):
            return self._error("3", f"Invalid to param: {to!r} (E.164 digits without '+')")
        client_ref = params.get("client-ref")
        if client_ref is not None and len(client_ref) > MAX_CLIENT_REF:
            return self._error("3", f"Invalid client-ref param: longer than {MAX_CLIENT_REF} characters")
        text = params["text"]
        if len(text) > MAX_TEXT:
            return self._error("12", "Message Too Long")
        return self._accept(api_key, params, sms_type, client_ref)

    def _throttled(self, api_key: str) -> bool:
        now = self._clock()
        with self._lock:
            window = self._windows[api_key]
            while window and now - window[0] >= 1.0:
                window.popleft()
            if len(window) >= self.rate_limit:
                return True
            window.append(now)
            return False

    def _accept(self, api_key: str, params: dict[str, str], sms_type: str, client_ref: str | None) -> Reply:
        unicode = sms_type == "unicode"
        shown = params["text"] if unicode else texts.as_gsm7(params["text"])  # type=text mangles the rest
        parts = texts.split_parts(shown, unicode)
        sender, to = params["from"], params["to"]
        messages = []
        with self._changed:
            for _part in parts:
                self._balance -= self.price_per_part
                message = {
                    "to": to,
                    "message-id": self._new_id(),
                    "status": "0",
                    "remaining-balance": str(self._balance),
                    "message-price": str(self.price_per_part),
                    "network": self.network,
                }
                if client_ref is not None:
                    message["client-ref"] = client_ref
                if params.get("account-ref"):
                    message["account-ref"] = params["account-ref"]
                messages.append(message)
            ids = tuple(m["message-id"] for m in messages)
            sms = ReceivedSms(
                from_e164=texts.e164(sender) if texts.is_vonage_number(sender) else sender,
                to_e164=texts.e164(to), text=shown, message_ids=ids, client_ref=client_ref,
                type=sms_type, api_key=api_key, received_at=time.time(),
            )
            self._inboxes[sms.to_e164].append(sms)
            self._stats["accepted"] += 1
            self._stats["parts"] += len(parts)
            self._changed.notify_all()
        if self._app_webhook_base and params.get("status-report-req", "true").lower() not in ("false", "0"):
            self._queue_receipts(api_key, params, messages)
        return Reply(200, {"message-count": str(len(messages)), "messages": messages})

    def _queue_receipts(self, api_key: str, params: dict[str, str], messages: list[dict]) -> None:
        now = time.gmtime()
        url = f"{self._app_webhook_base}/webhooks/vonage/status"
        for message in messages:
            receipt = {
                "msisdn": message["to"],
                "to": params["from"],
                "network-code": self.network,
                "messageId": message["message-id"],
                "price": message["message-price"],
                "status": "delivered",
                "scts": time.strftime("%y%m%d%H%M", now),
                "err-code": "0",
                "api-key": api_key,
                "message-timestamp": time.strftime("%Y-%m-%d %H:%M:%S", now),
            }
            if "client-ref" in message:
                receipt["client-ref"] = message["client-ref"]
            self._dispatcher.submit(STATUS, url, receipt, self.dlr_delay)


def _parse_params(query: str, body: bytes, content_type: str) -> tuple[dict[str, str], str | None]:
    """The request's parameters (query string, then the body on top) or why they cannot be read."""
    params: dict[str, str] = {}
    try:
        params.update({k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()})
        text = body.decode("utf-8")
        if content_type == "application/json":
            data = json.loads(text) if text.strip() else {}
            if not isinstance(data, dict):
                return params, "the JSON body must be an object"
            params.update({str(k): _json_value(v) for k, v in data.items() if v is not None})
        else:
            params.update({k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()})
    except (UnicodeDecodeError, ValueError) as exc:
        return params, f"unreadable request body: {exc}"
    return params, None


def _json_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


def _credentials(authorization: str | None, params: dict[str, str]) -> tuple[str | None, str | None, str | None]:
    """(how, api_key, api_secret): Basic auth header, or api_key with api_secret or sig in the params."""
    if authorization and authorization.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return "basic", None, None
        key, _, secret = decoded.partition(":")
        return "basic", key or None, secret or None
    if params.get("sig"):
        return "signature", params.get("api_key"), params.get("api_secret")
    if params.get("api_key") or params.get("api_secret"):
        return "body", params.get("api_key"), params.get("api_secret")
    return None, None, None
