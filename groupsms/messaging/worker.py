"""The outbox worker: claims due deliveries, sends them through the SmsGateway under the rate
limit with bounded concurrency, and records what the provider said.

Claims are leases: a worker that dies leaves its rows to be claimed again when the lease runs out,
so every recipient gets the message; at most the sends that were in flight can repeat. Several
workers may run at once (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: one atomic UPDATE).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import or_, update
from sqlmodel import select

from groupsms import db
from groupsms.domain import delivery as states
from groupsms.domain.segments import is_gsm7
from groupsms.messaging import gateway as port
from groupsms.messaging import notify, outbox
from groupsms.messaging.ratelimit import LocalRateLimiter, RateLimiter
from groupsms.models import BusinessNumber, Delivery, Group, Message, utcnow
from groupsms.services._dnd import effective_lock, number_opted_out

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
# No answer (timeout, connection dropped): the provider may have accepted the SMS. Its delivery
# receipt carries our client-ref, so wait this long for one before sending again; a receipt that
# arrives meanwhile settles the delivery and nothing is resent.
AMBIGUOUS_ERRORS = {"timeout", "connection"}
AMBIGUOUS_WAIT_SECONDS = 30.0


class Worker:
    def __init__(
        self,
        gateway: port.SmsGateway,
        *,
        limiter: RateLimiter | None = None,
        rate: float = 30.0,
        concurrency: int = 4,
        batch: int = 20,
        lease_seconds: float | None = None,
        max_attempts: int = MAX_ATTEMPTS,
        backoff_base: float = 2.0,
        ambiguous_wait: float = AMBIGUOUS_WAIT_SECONDS,
        name: str | None = None,
    ) -> None:
        self.gateway = gateway
        self.limiter = limiter or LocalRateLimiter(rate)
        self.concurrency = concurrency
        self.batch = batch
        self.lease = timedelta(seconds=lease_seconds or float(os.environ.get("GROUPSMS_OUTBOX_LEASE", "60")))
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.ambiguous_wait = ambiguous_wait
        self.name = (name or f"worker-{os.getpid()}")[:40] + "-" + uuid.uuid4().hex[:8]
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="groupsms-send")

    # -- claiming --------------------------------------------------------------------------------

    def claim(self) -> list[int]:
        now = utcnow()
        with db.transaction() as s:
            due = (
                select(Delivery.id)
                .where(
                    Delivery.status == states.QUEUED,
                    Delivery.next_attempt_at <= now,
                    or_(Delivery.claimed_until.is_(None), Delivery.claimed_until < now),
                )
                .order_by(Delivery.next_attempt_at, Delivery.id)
                .limit(self.batch)
            )
            if s.get_bind().dialect.name == "postgresql":
                due = due.with_for_update(skip_locked=True)
            claimed = s.exec(
                update(Delivery)
                .where(Delivery.id.in_(due.scalar_subquery()))
                .values(claimed_until=now + self.lease, claimed_by=self.name)
                .returning(Delivery.id)
            ).all()
            return sorted(row[0] for row in claimed)

    # -- one delivery ----------------------------------------------------------------------------

    def _prepare(self, delivery_id: int) -> port.SendRequest | None:
        """The request to send, or None when the delivery was settled here (DND, lock)."""
        with db.transaction() as s:
            d = s.get(Delivery, delivery_id)
            if d is None or d.status != states.QUEUED or d.claimed_by != self.name:
                return None
            message = s.get(Message, d.message_id)
            parts = json.loads(d.part_statuses or "{}")
            if parts:  # a receipt for an earlier, unanswered attempt: it was accepted after all
                ids = ",".join(sorted(set(filter(None, d.provider_message_ids.split(","))) | set(parts)))
                self._settle(s, d, states.combine_parts(parts, len(parts)), provider_message_ids=ids[:500],
                             error_code=None, error_text=None)
                return None
            reason = None
            if not d.opt_out_confirmation and number_opted_out(s, message.location_id, d.to_e164):
                reason = "Not sent: the recipient opted out (DND)"
            elif message.group_id is not None:
                lock = effective_lock(s, s.get(Group, message.group_id))
                if lock:
                    reason = f"Not sent: the group is locked ({lock})"
            if reason:
                self._settle(s, d, states.FAILED, error_code="blocked", error_text=reason)
                return None
            text = message.sms_text or message.body
            number = s.get(BusinessNumber, message.business_number_id)
            return port.SendRequest(number.e164, d.to_e164, text, f"d{d.id}", unicode=not is_gsm7(text))

    def _settle(self, s, d: Delivery, status: str, **fields) -> None:
        for key, value in fields.items():
            setattr(d, key, value)
        d.status = status
        d.claimed_until = d.claimed_by = None
        d.updated_at = utcnow()
        s.add(d)
        s.flush()
        outbox.refresh_status(s, d.message_id)

    def _record(self, delivery_id: int, result: port.SendResult) -> None:
        with db.transaction() as s:
            d = s.exec(select(Delivery).where(Delivery.id == delivery_id).with_for_update()).one()
            if d.status != states.QUEUED:
                return  # settled meanwhile (another worker after our lease ran out)
            d.attempts += 1
            if result.outcome == port.SENT:
                ids = ",".join(result.message_ids)[:500]
                parts = json.loads(d.part_statuses or "{}")  # receipts may have come first
                status = states.combine_parts(parts, len(result.message_ids)) if parts else states.SENT
                self._settle(s, d, status, provider_message_ids=ids, price=result.price,
                             error_code=None, error_text=None)
            elif result.outcome == port.RETRY and d.attempts < self.max_attempts:
                wait = result.retry_after or states.backoff_seconds(d.attempts, base=self.backoff_base)
                if result.error_code in AMBIGUOUS_ERRORS:
                    wait = max(wait, self.ambiguous_wait)
                d.next_attempt_at = utcnow() + timedelta(seconds=wait)
                d.error_code, d.error_text = result.error_code, result.error_text
                d.claimed_until = d.claimed_by = None
                d.updated_at = utcnow()
                s.add(d)
            else:
                text = result.error_text or "Failed"
                if result.outcome == port.RETRY:
                    text = f"Gave up after {d.attempts} attempts: {text}"
                self._settle(s, d, states.FAILED, error_code=result.error_code, error_text=text[:500])

    def _send_one(self, delivery_id: int) -> None:
        try:
            request = self._prepare(delivery_id)
            if request is None:
                return
            self.limiter.acquire()
            result = self.gateway.send(request)
            self._record(delivery_id, result)
        except Exception:  # the lease runs out and the delivery is tried again
            log.exception("delivery %s: unexpected error", delivery_id)

    # -- loops -----------------------------------------------------------------------------------

    def run_once(self) -> int:
        """Claim one batch and send it; returns how many deliveries were claimed."""
        ids = self.claim()
        list(self._pool.map(self._send_one, ids))
        return len(ids)

    def run_forever(self, stop: threading.Event, poll_seconds: float = 1.0) -> None:
        from groupsms.messaging import inbound

        log.info("outbox worker %s started", self.name)
        while not stop.is_set():
            try:
                if self.run_once():
                    continue
                inbound.process_pending()
            except Exception:
                log.exception("outbox worker %s: loop error", self.name)
            notify.outbox_ready.wait(poll_seconds)
            notify.outbox_ready.clear()
        self._pool.shutdown(wait=True)

    def close(self) -> None:
        self._pool.shutdown(wait=True)
