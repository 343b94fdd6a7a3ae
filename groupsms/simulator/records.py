"""What the simulator remembers: SMS received by handsets, SMS they sent, requests it read."""

from __future__ import annotations

from dataclasses import dataclass

from groupsms.simulator.webhooks import WebhookRecord


@dataclass(frozen=True)
class ReceivedSms:
    """One SMS as a handset shows it: the parts joined."""

    from_e164: str
    to_e164: str
    text: str
    message_ids: tuple[str, ...]
    client_ref: str | None
    type: str  # "text" | "unicode"
    api_key: str
    received_at: float


@dataclass(frozen=True)
class SentSms:
    """One SMS a handset sent to a business number (posted to the app's inbound webhook)."""

    from_e164: str
    to_e164: str
    text: str
    message_ids: tuple[str, ...]
    sent_at: float


@dataclass
class SmsRequestRecord:
    """One POST /sms/json the simulator read (what arrived, and what it answered)."""

    seq: int
    at: float
    auth: str | None  # "basic" | "body" | "signature" | None
    api_key: str | None
    api_secret: str | None
    params: dict[str, str]
    content_type: str
    client_address: tuple | None = None  # the connection it came on (one per SDK client thread)
    fault: str | None = None
    http_status: int | None = None  # None: no answer was sent (dropped)
    statuses: tuple[str, ...] = ()  # SMS API status of each message in the answer


class WebhookError(RuntimeError):
    def __init__(self, records: list[WebhookRecord]):
        self.records = records
        failed = [r for r in records if not r.ok]
        super().__init__(f"the app refused {len(failed)} of {len(records)} webhook posts: "
                         + "; ".join(f"{r.url} -> {r.http_status or r.error}" for r in failed))
