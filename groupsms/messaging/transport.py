"""What an SMS provider's webhooks tell groupsms, in groupsms's words (E1, E2, E3, E6).

A transport adapter turns one provider's webhook fields into these dataclasses, and processing
(`inbound.py`, `parts.py`, `relay.py`) reads only them. Today's adapter is Vonage's SMS API
(`vonage_inbound.py`). Stored webhook events keep the provider's raw payload (replays and retries
decode it again with the same adapter), so changing this mapping never rewrites stored data.

A second transport plugs in at the adapter, with no change to processing. Vonage's Messages API
(MMS), for instance, would get a module that implements `Transport` over its JSON (`from`, `to`,
`message_uuid`, `text`, `image.url`; statuses with `message_uuid` and `status`), an `InboundText`
field for the media it carries, its own signed route beside `/webhooks/vonage/inbound`, and its
own event kinds ("mms-inbound", "mms-status") so that `inbound.py` decodes each stored event with
the adapter that recorded it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

INBOUND, STATUS = "inbound", "status"  # InboundEvent.kind: a text to a business number, a receipt


class BadEvent(ValueError):
    """The webhook body is not a usable event (answered with 400, nothing stored)."""


@dataclass(frozen=True)
class ConcatPart:
    """One part of a long text (E6): the parts of one text share the sender's reference."""

    ref: str  # the handset's reference, reused by later texts (see domain/concat.py)
    number: int  # 1-based
    total: int


@dataclass(frozen=True)
class InboundText:
    """An SMS (or one part of a long one) sent to a business number."""

    provider_message_id: str  # unique per text or part: events are stored once per id
    sender: str  # E.164 ("+15125550111"); any well-formed number, valid for phonenumbers or not
    to: str  # E.164 of the business number it was sent to
    text: str
    received_at: datetime | None = None  # when the provider got it, if it says (UTC)
    part: ConcatPart | None = None

    @property
    def event_key(self) -> str:
        return self.provider_message_id

    @property
    def concat_key(self) -> str | None:
        """Names the parts that may belong together: one sender, one number, one reference."""
        if self.part is None:
            return None
        return f"{self.sender.lstrip('+')}:{self.to.lstrip('+')}:{self.part.ref}"[:100]


@dataclass(frozen=True)
class Receipt:
    """A delivery receipt for one part of one SMS groupsms sent (E3)."""

    provider_message_id: str  # the part's id, as the send answer gave it
    status: str  # the provider's word, lower case ("delivered", "failed", "buffered", ...)
    client_ref: str | None = None  # our delivery reference, echoed back ("d12")
    error_code: str | None = None  # the carrier's code when it failed
    price: str | None = None  # decimal string, as the provider wrote it
    received_at: datetime | None = None

    @property
    def event_key(self) -> str:
        return f"{self.provider_message_id}:{self.status}"


class Transport(Protocol):
    """A provider's inbound side: parse (and so validate) its raw webhook parameters."""

    def parse(self, kind: str, params: dict[str, str]) -> InboundText | Receipt:
        """The event these parameters describe; raises BadEvent when they describe none."""
        ...
