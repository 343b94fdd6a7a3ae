"""The SmsGateway port: what the messaging worker needs from an SMS provider, and nothing more.

One `send` is one SMS to one recipient. The answer is a `SendResult` whose `outcome` tells the worker
what to do next:

- "sent": the provider accepted the message. Never send it again (that would be a duplicate SMS).
- "retry": nothing was accepted (a transient error); sending again later is safe.
- "throttled": over the provider's rate; nothing was accepted. Sending again a little later is safe,
  and it does not count as a failed attempt.
- "ambiguous": we cannot know whether the provider accepted it (timeout, dropped connection, 5xx, an
  answer that does not parse). Its delivery receipt, if any, says so; resending may duplicate it.
- "failed": permanent; sending again would fail the same way.

Adapters never raise for provider or network errors: every such error is a SendResult.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

SENT = "sent"
RETRY = "retry"
THROTTLED = "throttled"
AMBIGUOUS = "ambiguous"
FAILED = "failed"
OUTCOMES = (SENT, RETRY, THROTTLED, AMBIGUOUS, FAILED)

# Vonage echoes client-ref in delivery receipts; its docs allow "up to 40 characters".
MAX_CLIENT_REF = 40
_E164 = re.compile(r"\+[1-9]\d{6,14}")


@dataclass(frozen=True)
class SendRequest:
    from_e164: str  # the business number, "+15125550100"
    to_e164: str  # the participant's number
    text: str
    client_ref: str  # our delivery reference (<= 40 chars), echoed in delivery receipts
    unicode: bool  # True when the text needs UCS-2 (Vonage `type=unicode`)


@dataclass(frozen=True)
class SendResult:
    outcome: str  # SENT | RETRY | FAILED
    message_ids: tuple[str, ...] = ()  # one per part of a long message
    price: str | None = None  # total over the parts, as the provider's decimal string
    part_prices: tuple[str | None, ...] = ()  # per accepted part, in the order of message_ids
    parts_total: int = 0  # how many parts the provider made of the text (accepted or not); 0: unknown
    error_code: str | None = None  # provider status ("1", "4", ...), "http-503", "timeout", ...
    error_text: str | None = None
    retry_after: float | None = None  # seconds, when the provider said how long to wait


class SmsGateway(Protocol):
    def send(self, request: SendRequest) -> SendResult: ...


def check_send_request(request: SendRequest) -> str | None:
    """Why this request can never be sent (a bug in the caller), or None when it is well formed."""
    if not _E164.fullmatch(request.from_e164 or ""):
        return f"from_e164 is not an E.164 number: {request.from_e164!r}"
    if not _E164.fullmatch(request.to_e164 or ""):
        return f"to_e164 is not an E.164 number: {request.to_e164!r}"
    if not request.text:
        return "text is empty"
    if not request.client_ref or len(request.client_ref) > MAX_CLIENT_REF:
        return f"client_ref must be 1 to {MAX_CLIENT_REF} characters, got {len(request.client_ref or '')}"
    return None


def invalid_request(reason: str) -> SendResult:
    return SendResult(FAILED, error_code="invalid-request", error_text=reason)


# Every status code of the SMS API send response (vonage-openapi/sms.yml: "0" and x-errors), with
# its name and what the worker does about it. Anything not accepted and not listed as retry is
# permanent: sending the same request again would be refused again.
STATUS_NAMES: dict[str, str] = {
    "0": "Success",
    "1": "Throttled",
    "2": "Missing Parameters",
    "3": "Invalid Parameters",
    "4": "Invalid Credentials",
    "5": "Internal Error",
    "6": "Invalid Message",
    "7": "Number Barred",
    "8": "Partner Account Barred",
    "9": "Partner Quota Violation",
    "10": "Too Many Existing Binds",
    "11": "Account Not Enabled For HTTP",
    "12": "Message Too Long",
    "14": "Invalid Signature",
    "15": "Invalid Sender Address",
    "22": "Invalid Network Code",
    "23": "Invalid Callback Url",
    "29": "Non-Whitelisted Destination",
    "32": "Signature And API Secret Disallowed",
    "33": "Number De-activated",
}

STATUS_OUTCOMES: dict[str, str] = {
    "0": SENT,
    "1": THROTTLED,  # over the account's rate; nothing was sent, wait a second and resend
    "2": FAILED,
    "3": FAILED,
    "4": FAILED,
    "5": RETRY,  # internal error on Vonage's side: transient, nothing was sent
    "6": FAILED,
    "7": FAILED,
    "8": FAILED,
    "9": RETRY,  # out of credit: "top-up and retry"; the outbox's backoff and retry budget bound it
    "10": RETRY,  # too many simultaneous connections: "back-off and retry"
    "11": FAILED,
    "12": FAILED,
    "14": FAILED,
    "15": FAILED,
    "22": FAILED,
    "23": FAILED,
    "29": FAILED,
    "32": FAILED,
    "33": FAILED,
}


def outcome_for_status(status: str) -> str:
    """SENT / RETRY / FAILED for an SMS API status code; an unknown code is a permanent failure.

    The caller keeps the code itself in `SendResult.error_code`, so an unknown one stays visible.
    """
    return STATUS_OUTCOMES.get(str(status).strip(), FAILED)
