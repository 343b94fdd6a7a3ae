"""Joining the parts of long inbound SMS in the database (E6); which parts go together is
`domain/concat.py`.

A part that completes its message joins it at once. A message whose parts never all arrive is
stored with what came once its first part is older than the timeout (GROUPSMS_CONCAT_TIMEOUT
seconds, 10 minutes by default), marked incomplete: a text is never lost for a missing part.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, select

from groupsms.domain import concat
from groupsms.messaging.transport import INBOUND, InboundText
from groupsms.models import InboundEvent, utcnow

# Reads a stored part back as the text it is (the inbound processing's adapter lookup).
Decode = Callable[[InboundEvent], InboundText]

DEFAULT_TIMEOUT = 600.0
WAITING = "Waiting for the other parts"  # the note on a part stored until its message is whole


def timeout_seconds() -> float:
    raw = os.environ.get("GROUPSMS_CONCAT_TIMEOUT", "")
    try:
        value = float(raw) if raw else DEFAULT_TIMEOUT
    except ValueError as exc:
        raise ValueError(f"GROUPSMS_CONCAT_TIMEOUT must be a number of seconds, got {raw!r}") from exc
    if value < 0:
        raise ValueError(f"GROUPSMS_CONCAT_TIMEOUT must not be negative, got {raw!r}")
    return value


@dataclass(frozen=True)
class Joined:
    text: str
    provider_ref: str
    event_ids: tuple[int, ...]
    incomplete: bool
    notice: str | None


def _part(event: InboundEvent, decode: Decode) -> concat.Part | None:
    sms = decode(event)
    if sms.part is None:
        return None
    return concat.Part(event.id, sms.part.number, sms.part.total, event.received_at, sms.text)


def _sets(s: Session, concat_key: str, decode: Decode) -> list[concat.PartSet]:
    events = s.exec(select(InboundEvent).where(
        InboundEvent.kind == INBOUND, InboundEvent.concat_key == concat_key,
        InboundEvent.consumed_by_message_id.is_(None),
    )).all()
    return concat.partition(p for p in (_part(e, decode) for e in events) if p is not None)


def _expired(part_set: concat.PartSet, now: datetime, timeout: float) -> bool:
    return _aware(part_set.first.received_at) <= now - timedelta(seconds=timeout)


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; every stored time is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=utcnow().tzinfo)


def joined(s: Session, event: InboundEvent, decode: Decode, *, flush: bool = False) -> Joined | None:
    """The message this part completes, or (flush) the parts that came once the wait ran out;
    None while the message waits for more parts."""
    part_set = concat.set_of(_sets(s, event.concat_key, decode), event.id)
    if part_set is None:
        return None
    done = part_set.complete()
    if not done and not (flush and _expired(part_set, utcnow(), timeout_seconds())):
        return None
    ref = f"concat:{event.concat_key}:{part_set.first.event_id}"[:120]
    return Joined(part_set.text(), ref, tuple(p.event_id for p in part_set.parts), not done, part_set.notice())


def consume(s: Session, parts: Joined, message_id: int) -> None:
    """Mark the parts as joined into the message: a reused reference later starts afresh."""
    for event_id in parts.event_ids:
        event = s.get(InboundEvent, event_id)
        event.consumed_by_message_id = message_id
        if event.processed_at is not None:
            event.error = None
        s.add(event)


def expired(s: Session, decode: Decode, *, now: datetime | None = None, timeout: float | None = None) -> list[int]:
    """One part of each message that has waited out the timeout without all its parts."""
    now = now or utcnow()
    timeout = timeout_seconds() if timeout is None else timeout
    cutoff = now - timedelta(seconds=timeout)
    keys = s.exec(select(InboundEvent.concat_key).where(
        InboundEvent.kind == INBOUND, InboundEvent.concat_key.is_not(None),
        InboundEvent.consumed_by_message_id.is_(None), InboundEvent.processed_at.is_not(None),
        InboundEvent.error == WAITING, InboundEvent.received_at <= cutoff,
    ).distinct()).all()
    out = []
    for key in keys:
        out += [ps.first.event_id for ps in _sets(s, key, decode) if _expired(ps, now, timeout)]
    return sorted(out)
