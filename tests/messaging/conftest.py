"""The service tests' world (a location with users, numbers and contacts) and webhook server, and a
clock the outbox worker can be run on, so hours of retries take no time."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import select

from groupsms import db
from groupsms.domain import delivery as states
from groupsms.models import Delivery, utcnow
from tests.services.conftest import webhooks, world  # noqa: F401  (fixtures)


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=utcnow().tzinfo)


class Clock:
    """Real time plus an offset that tests move forward (never behind what the services write)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return utcnow() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)

    def to_next_due(self) -> bool:
        """Jump to when the next queued delivery can be claimed again (its retry is due and no lease
        holds it); False when nothing is queued."""
        now = self()
        with db.transaction() as s:
            rows = s.exec(select(Delivery.lane, Delivery.next_attempt_at, Delivery.claimed_until).where(
                Delivery.status == states.QUEUED).order_by(Delivery.id)).all()
        heads: dict[str, tuple] = {}
        for lane, due, until in rows:  # only a lane's oldest queued delivery can be claimed
            heads.setdefault(lane, (due, until))
        aware = [_aware(due) if until is None else max(_aware(due), _aware(until)) for due, until in heads.values()]
        if not aware:
            return False
        # One may already be due: real time moved on since the worker last looked.
        self.offset += max(min(aware) - now, timedelta()) + timedelta(milliseconds=1)
        return True
