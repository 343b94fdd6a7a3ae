"""The service tests' world (a location with users, numbers and contacts) and webhook server, and a
clock the outbox worker can be run on, so hours of retries take no time."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import select

from groupsms import db
from groupsms.domain import delivery as states
from groupsms.models import Delivery, utcnow
from tests.services.conftest import webhooks, world  # noqa: F401  (fixtures)


class Clock:
    """Real time plus an offset that tests move forward (never behind what the services write)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return utcnow() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)

    def to_next_due(self) -> bool:
        """Jump to when the next queued delivery waiting for a retry is due; False when none waits."""
        with db.transaction() as s:
            due = s.exec(select(func.min(Delivery.next_attempt_at)).where(
                Delivery.status == states.QUEUED, Delivery.next_attempt_at > self())).one()
        if due is None:
            return False
        due = due if due.tzinfo else due.replace(tzinfo=utcnow().tzinfo)
        self.offset += max(due - self(), timedelta()) + timedelta(milliseconds=1)
        return True
