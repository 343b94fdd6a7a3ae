"""Vonage's SMS API webhooks as groupsms events: the one place that knows their field names.

Inbound SMS: `msisdn` (the sender, digits without "+"), `to` (our number), `messageId`, `text`,
`message-timestamp`, and for a part of a long text `concat=true` with `concat-ref`, `concat-part`,
`concat-total`. Delivery receipts: `messageId` (of the part), `status`, `err-code`, `price`,
`client-ref` (ours, echoed back), `message-timestamp`. Everything else (`type`, `keyword`,
`network-code`, `scts`, the signature fields) is kept in the stored payload and not read.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import lru_cache

from groupsms.domain.phones import PhoneError, normalize
from groupsms.messaging.transport import INBOUND, STATUS, BadEvent, ConcatPart, InboundText, Receipt

# A receipt's `to` is the sender id we sent from (may be a name), so only inbound numbers are checked.
REQUIRED = {INBOUND: ("msisdn", "to", "messageId"), STATUS: ("messageId", "status")}
MAX_PARTS = 20

_DIGITS = re.compile(r"\+?[0-9]{5,15}")


def e164(raw: str, field: str) -> str:
    """Vonage's number without "+". Any well-formed number is kept, valid by phonenumbers' metadata
    or not: an inbound SMS is never refused for its sender's number (it would be lost)."""
    if not _DIGITS.fullmatch(raw or ""):
        raise BadEvent(f"{field} must be a phone number in international format, got {raw[:20]!r}")
    return _international(raw.lstrip("+"))


@lru_cache(maxsize=4096)
def _international(digits: str) -> str:
    # The same digits always give the same number: the business numbers and the senders seen last
    # are kept instead of being parsed by phonenumbers on every webhook.
    try:
        return normalize("+" + digits)
    except PhoneError:
        return "+" + digits


def _timestamp(raw: str | None) -> datetime | None:
    """`message-timestamp` ("2020-01-01 12:00:00", UTC); informative only, never a reason to refuse."""
    try:
        return datetime.strptime(raw or "", "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None


def _required(kind: str, params: dict[str, str]) -> None:
    missing = [f for f in REQUIRED[kind] if not params.get(f)]
    if missing:
        raise BadEvent(f"missing {', '.join(missing)}")
    if len(params["messageId"]) > 60:
        raise BadEvent("messageId is too long")


def parse_inbound(params: dict[str, str]) -> InboundText:
    _required(INBOUND, params)
    sender, to = e164(params["msisdn"], "msisdn"), e164(params["to"], "to")
    part = None
    if params.get("concat") == "true":
        try:
            number, total = int(params["concat-part"]), int(params["concat-total"])
        except (KeyError, ValueError) as exc:
            raise BadEvent("concat-part and concat-total must be numbers") from exc
        if not params.get("concat-ref") or not 1 <= number <= total <= MAX_PARTS:
            raise BadEvent("concat-ref, concat-part and concat-total are inconsistent")
        part = ConcatPart(params["concat-ref"], number, total)
    return InboundText(params["messageId"], sender, to, params.get("text", ""),
                       _timestamp(params.get("message-timestamp")), part)


def parse_receipt(params: dict[str, str]) -> Receipt:
    _required(STATUS, params)
    if len(params["status"]) > 40:
        raise BadEvent("status is too long")
    return Receipt(params["messageId"], params["status"].lower(), params.get("client-ref") or None,
                   params.get("err-code") or None, params.get("price") or None,
                   _timestamp(params.get("message-timestamp")))


class SmsApi:
    """The `Transport` of Vonage's SMS API (`/webhooks/vonage/inbound` and `/webhooks/vonage/status`)."""

    def parse(self, kind: str, params: dict[str, str]) -> InboundText | Receipt:
        if kind == INBOUND:
            return parse_inbound(params)
        if kind == STATUS:
            return parse_receipt(params)
        raise BadEvent(f"unknown event kind {kind!r}")


SMS_API = SmsApi()
