"""The outbox worker: claims due deliveries, sends them through the SmsGateway under the rate
limit with bounded concurrency, and records what the provider said.

Claims are leases, renewed while the worker holds them: a worker that dies leaves its rows to be
claimed again when the lease runs out, so every recipient gets the message. A result is recorded
only by the worker that still holds the claim. Several workers may run at once (PostgreSQL:
FOR UPDATE SKIP LOCKED; SQLite: one atomic UPDATE); see `outbox.claim_lane_heads` for the order.

What happens after each answer (gateway.SendResult.outcome):
- sent / failed: final.
- throttled: sent again a second or two later (with jitter); it is not a failed attempt.
- retry (nothing was accepted): exponential backoff with jitter, capped at a few minutes, for as
  long as the retry budget (GROUPSMS_RETRY_BUDGET seconds, default a day) lasts since it was queued,
  so a provider outage of an hour fails nothing; then failed with the reason.
- ambiguous (the provider may have accepted it): wait for its delivery receipt; without one, send
  again once; if that is ambiguous too, wait again and end "unconfirmed" with the reason.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from sqlalchemy import bindparam, update
from sqlmodel import select

from groupsms import db
from groupsms.domain import delivery as states
from groupsms.domain.segments import is_gsm7
from groupsms.messaging import gateway as port
from groupsms.messaging import notify, outbox
from groupsms.messaging.ratelimit import LocalRateLimiter, RateLimiter
from groupsms.models import BusinessNumber, Delivery, Group, Message, utcnow
from groupsms.messaging.optout import effective_lock, numbers_not_to_text

log = logging.getLogger(__name__)

# Resends are bounded by time, not by a count: an outage of an hour must fail nothing.
RETRY_BUDGET_SECONDS = 24 * 3600.0
BACKOFF_CAP_SECONDS = 300.0
# No answer (timeout, connection dropped, 5xx): the provider may have accepted the SMS. Its delivery
# receipt carries our client-ref, so wait this long for one before sending again; a receipt that
# arrives meanwhile settles the delivery and nothing is resent.
AMBIGUOUS_WAIT_SECONDS = 30.0
# The first send and one resend; after that an unanswered delivery is "unconfirmed".
MAX_AMBIGUOUS_SENDS = 2
# Sends the rate limit allows within this long are prepared together, in one transaction.
PREPARE_AHEAD_SECONDS = 0.05
# A send waiting for its slot is prepared this long before it, so it leaves on time.
PREPARE_LEAD_SECONDS = 0.1
BATCH_MIN, BATCH_MAX = 20, 200


def batch_for(rate: float) -> int:
    """How many deliveries a worker keeps claimed: about half a second of sends at `rate`, 20 to
    200. Claiming, preparing and recording cost about the same for one row as for a batch, so a
    fast provider is fed in big batches; at Vonage's 30/s a relay waits behind at most 20 typed
    sends already claimed."""
    return max(BATCH_MIN, min(BATCH_MAX, int(rate * 0.5)))


def _seconds_from_env(name: str, default: float) -> float:
    raw = os.environ.get(name, "")
    if not raw.strip():
        return default
    try:
        seconds = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, got {raw!r}") from None
    if not seconds > 0:
        raise ValueError(f"{name} must be a positive number of seconds, got {raw!r}")
    return seconds


def retry_budget_from_env() -> float:
    """GROUPSMS_RETRY_BUDGET: how long (seconds) a delivery is retried after it was queued."""
    return _seconds_from_env("GROUPSMS_RETRY_BUDGET", RETRY_BUDGET_SECONDS)


def _wake_outbox(_change) -> None:  # noqa: ANN001
    notify.outbox_queued()


_DELIVERY = outbox.DELIVERY
# The other queued deliveries in the lanes of deliveries just queued: those ahead of them.
_QUEUED_IN_LANES = (select(_DELIVERY.c.lane, _DELIVERY.c.id)
                    .where(_DELIVERY.c.lane.in_(bindparam("lanes", expanding=True)),
                           _DELIVERY.c.status == states.QUEUED,
                           _DELIVERY.c.id.not_in(bindparam("ids", expanding=True))))


def _load(s, ids: list[int], *columns) -> list:  # noqa: ANN001
    """The deliveries (locked, in id order as every transaction of the worker locks them), with
    `columns` of their messages or numbers after the delivery's own."""
    query = select(_DELIVERY, *columns).where(_DELIVERY.c.id.in_(ids)).order_by(_DELIVERY.c.id)
    if columns:
        query = (query.join_from(_DELIVERY, Message, Message.id == _DELIVERY.c.message_id)
                 .join(BusinessNumber, BusinessNumber.id == Message.business_number_id))
    return s.execute(query.with_for_update(of=_DELIVERY)).all()


def _aware(moment: datetime) -> datetime:
    """SQLite hands datetimes back without their (UTC) zone."""
    return moment if moment.tzinfo else moment.replace(tzinfo=utcnow().tzinfo)


class _Sending:
    """What a send needs of its message: whose it is, its text and the business number it leaves from."""

    __slots__ = ("location_id", "group_id", "text", "from_e164")

    def __init__(self, location_id: int, group_id: int | None, text: str, from_e164: str) -> None:
        self.location_id, self.group_id, self.text, self.from_e164 = location_id, group_id, text, from_e164


class Worker:
    def __init__(
        self,
        gateway: port.SmsGateway,
        *,
        limiter: RateLimiter | None = None,
        rate: float = 30.0,
        concurrency: int = 4,
        batch: int | None = None,
        lease_seconds: float | None = None,
        retry_budget: float | None = None,
        backoff_base: float = 2.0,
        backoff_cap: float = BACKOFF_CAP_SECONDS,
        ambiguous_wait: float | None = None,
        name: str | None = None,
        clock: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
    ) -> None:
        self.gateway = gateway
        self.limiter = limiter or LocalRateLimiter(rate)
        self.concurrency = concurrency
        self.batch = batch or batch_for(float(getattr(self.limiter, "rate", 0) or rate))
        self.lease = timedelta(seconds=lease_seconds or float(os.environ.get("GROUPSMS_OUTBOX_LEASE", "60")))
        self.retry_budget = timedelta(seconds=retry_budget or retry_budget_from_env())
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.ambiguous_wait = ambiguous_wait if ambiguous_wait is not None else _seconds_from_env(
            "GROUPSMS_AMBIGUOUS_WAIT", AMBIGUOUS_WAIT_SECONDS)
        self.clock = clock
        self._rng = rng or random.Random()
        self.name = (name or f"worker-{os.getpid()}")[:40] + "-" + uuid.uuid4().hex[:8]
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="groupsms-send")
        # Answers waiting to be recorded, all in one transaction (run_forever's loop records them).
        self._answers: queue.SimpleQueue[tuple[int, port.SendResult]] = queue.SimpleQueue()
        # Deliveries claimed and not yet recorded: their leases are renewed while we hold them.
        self._held: set[int] = set()
        # Of those, the ones take_fresh handed over: their lanes held nothing behind them.
        self._handed: set[int] = set()
        # Of those, the ones the provider accepted or refused for good, their answers not yet recorded.
        self._answered: set[int] = set()
        self._lanes_freed = False
        self._left_behind = False  # take_fresh left deliveries of its transaction to the loop
        self._held_lock = threading.Lock()
        self._done = threading.Event()  # a send finished: room for more
        self._heartbeat: threading.Thread | None = None
        self._closing = threading.Event()

    # -- claiming and holding --------------------------------------------------------------------

    @contextlib.contextmanager
    def _transaction(self) -> Iterator:
        with db.transaction() as s:  # on SQLite this process's writers take turns (db.write_turn)
            yield s

    def claim(self, limit: int | None = None) -> list[int]:
        with self._transaction() as s:
            ids = outbox.claim_lane_heads(s, now=self.clock(), worker=self.name, lease=self.lease,
                                          limit=limit or self.batch)
        with self._held_lock:
            self._held.update(ids)
        return ids

    def _release(self, delivery_id: int) -> None:
        with self._held_lock:
            self._held.discard(delivery_id)
            self._handed.discard(delivery_id)
            self._answered.discard(delivery_id)
        self._done.set()

    def renew_leases(self) -> set[int]:
        """Extend the leases of everything this worker holds; returns the ids still held."""
        with self._held_lock:
            ids = set(self._held)
        if not ids:
            return set()
        with self._transaction() as s:
            kept = outbox.renew_claims(s, ids, now=self.clock(), worker=self.name, lease=self.lease)
        with self._held_lock:
            lost = (ids - kept) & self._held  # not those recorded (and released) meanwhile
        if lost:
            log.warning("worker %s no longer holds deliveries %s", self.name, sorted(lost))
        return kept

    def _beat(self) -> None:
        interval = max(0.05, self.lease.total_seconds() / 3)
        while not self._closing.wait(interval):
            try:
                self.renew_leases()
            except Exception:
                log.exception("worker %s: renewing leases failed", self.name)

    def _start_heartbeat(self) -> None:
        if self._heartbeat is None:
            self._heartbeat = threading.Thread(target=self._beat, name="groupsms-outbox-lease", daemon=True)
            self._heartbeat.start()

    # -- one delivery ----------------------------------------------------------------------------

    def _holds(self, d: outbox.Row | None) -> bool:
        return d is not None and d.status == states.QUEUED and d.claimed_by == self.name

    def _prepare(self, delivery_id: int) -> port.SendRequest | None:
        """The request to send, with the lease renewed for it, or None when this worker no longer
        holds the delivery or settled it here (a receipt came, DND, lock, unconfirmed)."""
        return self._prepare_many([delivery_id]).get(delivery_id)

    def _prepare_many(self, delivery_ids: list[int]) -> dict[int, port.SendRequest]:
        """`_prepare` for several deliveries in one transaction: one statement for the rows (locked)
        with their messages and numbers, one for opt-outs and DND, one lock check per group."""
        with self._transaction() as s:
            found = _load(s, delivery_ids, Message.location_id.label("m__location_id"),
                          Message.group_id.label("m__group_id"), Message.sms_text.label("m__sms_text"),
                          Message.body.label("m__body"), BusinessNumber.e164.label("m__from_e164"))
            held = []
            for mapping in (r._mapping for r in found):  # noqa: SLF001 - a Row's columns by name
                d = outbox.Row({k: v for k, v in mapping.items() if not k.startswith("m__")})
                if self._holds(d):
                    held.append((d, _Sending(mapping["m__location_id"], mapping["m__group_id"],
                                             mapping["m__sms_text"] or mapping["m__body"], mapping["m__from_e164"])))
            blocked: dict[int, set[str]] = {}
            for location_id in {m.location_id for _, m in held}:
                blocked[location_id] = numbers_not_to_text(
                    s, location_id, [d.to_e164 for d, m in held if m.location_id == location_id
                                     and not d.opt_out_confirmation])
            locks: dict[int, str | None] = {}
            settled: set[int] = set()
            requests = {}
            for d, sending in held:
                request = self._prepare_in(s, d, sending, blocked[sending.location_id], locks, settled)
                if request is not None:
                    requests[d.id] = request
            outbox.write_rows(s, [d for d, _ in held])
            for message_id in sorted(settled):
                outbox.refresh_status(s, message_id)
            return requests

    def _prepare_in(self, s, d: outbox.Row, sending: _Sending, blocked: set[str],
                    locks: dict[int, str | None], settled: set[int]) -> port.SendRequest | None:
        now = self.clock()
        parts = json.loads(d.part_statuses or "{}")
        if parts:  # a receipt for an earlier, unanswered attempt: it was accepted after all
            ids = ",".join(sorted(set(filter(None, d.provider_message_ids.split(","))) | set(parts)))
            prices = json.loads(d.part_prices or "{}")
            self._settle(s, d, states.combine_parts(parts, len(parts)), settled=settled,
                         provider_message_ids=ids[:500], parts_accepted=max(d.parts_accepted, len(parts)),
                         price=states.sum_prices(prices.values()) or d.price, error_code=None, error_text=None)
            return None
        if d.ambiguous_attempts >= MAX_AMBIGUOUS_SENDS:
            reason = d.error_text or "no answer"
            self._settle(s, d, states.UNCONFIRMED, settled=settled, error_text=(
                f"Unconfirmed: sent {d.ambiguous_attempts} times without an answer or a delivery "
                f"receipt ({reason})")[:500])
            return None
        reason = None
        if not d.opt_out_confirmation and d.to_e164 in blocked:
            reason = "Not sent: the recipient opted out (DND)"
        elif sending.group_id is not None:
            if sending.group_id not in locks:
                locks[sending.group_id] = effective_lock(s, s.get(Group, sending.group_id))
            if locks[sending.group_id]:
                reason = f"Not sent: the group is locked ({locks[sending.group_id]})"
        if reason:
            self._settle(s, d, states.FAILED, settled=settled, error_code="blocked", error_text=reason)
            return None
        # Until its answer is recorded this send may or may not reach the provider: if the
        # worker dies now, the next one waits for a receipt before it resends.
        d.ambiguous_attempts += 1
        d.next_attempt_at = now + timedelta(seconds=self.ambiguous_wait)
        d.claimed_until = now + self.lease
        return port.SendRequest(sending.from_e164, d.to_e164, sending.text, f"d{d.id}",
                                unicode=not is_gsm7(sending.text))

    # -- sends handed over as they are queued --------------------------------------------------

    def take_fresh(self, s, message: Message, rows: list[outbox.Row], *, checked: bool = False) -> int:  # noqa: ANN001
        """In the transaction that queues `rows` (outbox.queue, in this worker's process): claim and
        prepare those whose lanes hold nothing before them and for which the rate has a permit now,
        and hand them to the send threads when that transaction commits. A relay then costs one
        commit, one wake-up and its sends, not also a claim and a prepare of the loop's. Rolled back,
        nothing was claimed; a process that dies after the commit left them as a crash after a
        prepare does (a receipt is waited for before any resend). `checked`: the caller checked the
        group's lock and the recipients' opt-outs in this transaction. Returns how many it took.

        A lane is free once the provider accepted (or refused for good) every send ahead in it, even
        while that answer waits for the loop to record it: a quick second reply to a group leaves
        at once and still after the first."""
        if self._closing.is_set() or not rows:
            return 0
        behind = self._lanes_behind(s, rows)
        fresh = [d for d in rows if d.lane and d.lane not in behind]
        taken = fresh[:self._permits(len(fresh))]  # the rest wait for the loop, and their permits
        left_behind = len(taken) < len(rows)  # the loop claims them once the sends ahead are recorded
        requests = self._prepare_fresh(s, message, taken, checked=checked) if taken else {}
        if requests or left_behind:
            db.on_commit(s, lambda: self._hand_over(requests, left_behind=left_behind))
        return len(taken)

    def _lanes_behind(self, s, rows: list[outbox.Row]) -> set[str]:  # noqa: ANN001
        """Of these rows' lanes, those holding another queued delivery that the provider has not
        yet accepted or refused for good: one answered so is no longer ahead, whether or not the loop
        recorded its answer yet."""
        ahead = s.execute(_QUEUED_IN_LANES, {"lanes": sorted({d.lane for d in rows}), "ids": [d.id for d in rows]}).all()
        with self._held_lock:
            return {lane for lane, delivery_id in ahead if delivery_id not in self._answered}

    def _prepare_fresh(self, s, message: Message, taken: list[outbox.Row], *, checked: bool = False) -> dict[int, port.SendRequest]:  # noqa: ANN001
        """`_prepare_many` for deliveries queued in this transaction: they are claimed here. With
        `checked` the lock and opt-outs the caller checked in this transaction are not asked again."""
        number = s.get(BusinessNumber, message.business_number_id)
        sending = _Sending(message.location_id, message.group_id, message.sms_text or message.body, number.e164)
        if checked:
            blocked: set[str] = set()
            locks: dict[int, str | None] = {message.group_id: None} if message.group_id is not None else {}
        else:
            blocked = numbers_not_to_text(s, message.location_id,
                                          [d.to_e164 for d in taken if not d.opt_out_confirmation])
            locks = {}
        settled: set[int] = set()
        requests: dict[int, port.SendRequest] = {}
        for d in taken:
            d.claimed_by = self.name
            request = self._prepare_in(s, d, sending, blocked, locks, settled)
            if request is not None:
                requests[d.id] = request
        outbox.write_rows(s, taken)
        for message_id in sorted(settled):
            outbox.refresh_status(s, message_id)
        return requests

    def _hand_over(self, requests: dict[int, port.SendRequest], *, left_behind: bool) -> None:
        """After the commit: the sends go to the threads, and the loop learns (in the same step, so a
        claim of its in between cannot miss it) that deliveries wait behind sends in flight."""
        with self._held_lock:
            self._held.update(requests)
            self._handed.update(requests)
            self._left_behind = self._left_behind or left_behind
        for delivery_id, request in requests.items():
            try:
                self._pool.submit(self._send_for_batch, delivery_id, request)
            except RuntimeError:  # shutting down: its lease runs out and it is sent after a receipt wait
                self._release(delivery_id)

    def _settle(self, s, d: outbox.Row, status: str, *, settled: set[int], **fields) -> None:
        """Final status for `d`; the caller writes the row and then refreshes the aggregate of every
        message in `settled`."""
        for key, value in fields.items():
            setattr(d, key, value)
        d.status = status
        d.claimed_until = d.claimed_by = None
        d.updated_at = utcnow()
        settled.add(d.message_id)

    def _requeue(self, s, d: outbox.Row, wait: float, result: port.SendResult) -> None:
        d.next_attempt_at = self.clock() + timedelta(seconds=wait)
        d.error_code, d.error_text = result.error_code, (result.error_text or "")[:500] or None
        d.claimed_until = d.claimed_by = None
        d.updated_at = utcnow()

    def _record(self, delivery_id: int, result: port.SendResult) -> bool:
        """Store the answer; False (nothing stored) when this worker lost its claim meanwhile."""
        with self._transaction() as s:
            return self._record_all(s, [(delivery_id, result)])[delivery_id]

    def _record_all(self, s, answers: list[tuple[int, port.SendResult]]) -> dict[int, bool]:  # noqa: ANN001
        """Record these answers in transaction `s`: the rows locked in one SELECT, written back
        together, then one refresh of each message's aggregate."""
        rows = {r.id: outbox.Row(r._mapping) for r in _load(s, [i for i, _ in answers])}  # noqa: SLF001
        settled: set[int] = set()
        recorded = {delivery_id: self._record_in(s, delivery_id, result, rows.get(delivery_id), settled)
                    for delivery_id, result in answers}
        outbox.write_rows(s, rows.values())
        for message_id in sorted(settled):
            outbox.refresh_status(s, message_id)
        return recorded

    def _record_answers(self, answers: list[tuple[int, port.SendResult]]) -> None:
        """Store several answers in one transaction: one lock of the rows, one refresh per message.
        Should that transaction fail, each answer is stored on its own, so one bad row cannot lose the
        others' answers (a lost answer means a resend)."""
        try:
            with self._transaction() as s:
                self._record_all(s, answers)
        except Exception:
            log.exception("worker %s: recording %d answers together failed; one at a time", self.name, len(answers))
            for delivery_id, result in answers:
                try:
                    self._record(delivery_id, result)
                except Exception:  # its lease runs out and it is tried again
                    log.exception("delivery %s: recording its answer failed", delivery_id)
        finally:
            for delivery_id, _ in answers:
                self._release(delivery_id)

    def _record_in(self, s, delivery_id: int, result: port.SendResult, d: outbox.Row | None, settled: set[int]) -> bool:  # noqa: ANN001
        if not self._holds(d):
            log.warning("delivery %s: claim lost before its answer (%s) was recorded", delivery_id, result.outcome)
            return False
        if result.outcome != port.AMBIGUOUS:
            d.ambiguous_attempts = max(0, d.ambiguous_attempts - 1)  # the answer is known after all
        if result.outcome != port.THROTTLED:
            d.attempts += 1
        if result.outcome in (port.SENT, port.FAILED) and result.message_ids:
            self._record_parts(d, result)
        if result.outcome == port.SENT:
            parts = json.loads(d.part_statuses or "{}")  # receipts may have come first
            status = states.combine_parts(parts, len(result.message_ids)) if parts else states.SENT
            self._settle(s, d, status, settled=settled, error_code=None, error_text=None)
        elif result.outcome == port.THROTTLED:
            # Over the provider's rate, nothing sent: a second or two, spread so workers do not
            # come back all at once.
            self._requeue(s, d, (result.retry_after or 1.0) * self._rng.uniform(1.0, 2.0), result)
        elif result.outcome == port.AMBIGUOUS:
            self._requeue(s, d, self.ambiguous_wait, result)
        elif result.outcome == port.RETRY and self.clock() < _aware(d.created_at) + self.retry_budget:
            wait = states.backoff_seconds(d.attempts, base=self.backoff_base, cap=self.backoff_cap, rng=self._rng)
            self._requeue(s, d, max(wait, min(result.retry_after or 0.0, self.backoff_cap)), result)
        else:
            text = result.error_text or "Failed"
            if result.outcome == port.RETRY:
                hours = self.retry_budget.total_seconds() / 3600
                text = f"Gave up after {d.attempts} attempts over {hours:g} h: {text}"
            self._settle(s, d, states.FAILED, settled=settled, error_code=result.error_code,
                         error_text=text[:500])
        return True

    @staticmethod
    def _record_parts(d: outbox.Row, result: port.SendResult) -> None:
        d.provider_message_ids = ",".join(result.message_ids)[:500]
        d.parts_accepted = len(result.message_ids)
        d.parts_total = max(result.parts_total, len(result.message_ids))
        prices = json.loads(d.part_prices or "{}")
        for message_id, price in zip(result.message_ids, result.part_prices, strict=False):
            if price is not None:
                prices.setdefault(message_id, price)
        d.part_prices = json.dumps(prices, sort_keys=True)
        d.price = states.sum_prices(prices.values()) or result.price

    def _send(self, delivery_id: int) -> port.SendResult | None:
        """Take the next slot of the rate, prepare the delivery shortly before it and send at it.

        The wait comes first (a worker that dies while it waits has not marked the delivery as maybe
        sent) except for the last PREPARE_LEAD_SECONDS, in which the delivery is prepared, so the send
        leaves on its slot rather than a database turn later. Right before it leaves the limiter
        counts it (and holds it back in case sends before it left so late that the provider's
        second would hold more than the rate)."""
        reserve = getattr(self.limiter, "reserve", None)
        if reserve is None:  # a limiter that only blocks
            self.limiter.acquire()
            request = self._prepare(delivery_id)
            return None if request is None else self.gateway.send(request)
        slot = time.monotonic() + reserve()
        if (early := slot - PREPARE_LEAD_SECONDS - time.monotonic()) > 0:
            time.sleep(early)
        request = self._prepare(delivery_id)
        if request is None:
            return None
        if (wait := slot - time.monotonic()) > 0:
            time.sleep(wait)
        sending = getattr(self.limiter, "sending", None)
        if sending is not None:
            sending()
        return self.gateway.send(request)

    def _send_one(self, delivery_id: int) -> None:
        """Prepare, send and record one delivery (its answer recorded in its own transaction)."""
        try:
            result = self._send(delivery_id)
            if result is not None:
                self._record(delivery_id, result)
        except Exception:  # the lease runs out and the delivery is tried again
            log.exception("delivery %s: unexpected error", delivery_id)
        finally:
            self._release(delivery_id)

    def _send_for_batch(self, delivery_id: int, request: port.SendRequest | None = None) -> None:
        """Send one delivery (prepared already when `request` is given); its answer waits in
        `_answers` for the loop to record."""
        try:
            if request is None:
                result = self._send(delivery_id)
            else:
                if self._soon() < 2 and (sending := getattr(self.limiter, "sending", None)) is not None:
                    sending()  # a low rate: no second may hold more than the rate, as in `_send`
                result = self.gateway.send(request)
        except Exception:
            log.exception("delivery %s: unexpected error", delivery_id)
            result = None
        if result is None:
            self._release(delivery_id)
        else:
            if result.outcome in (port.SENT, port.FAILED):  # final: nothing of its lane waits for it
                with self._held_lock:
                    self._answered.add(delivery_id)
            self._answers.put((delivery_id, result))
            self._done.set()  # the loop records it, idle or not (sends handed over by take_fresh)

    def _dispatch(self, ids: list[int]) -> list:
        """Hand claimed deliveries to the send threads. Those the rate limit allows right now are
        prepared together in one transaction and go straight to the provider; the others each wait
        for their permit in a send thread and are prepared after it (a worker that dies while one
        waits has not marked it as maybe sent)."""
        # At a low rate (Vonage's 30/s) each send takes its permit right before it goes.
        ready = [] if self._soon() < 2 else ids[:self._permits(len(ids))]
        futures = []
        if ready:
            try:
                requests = self._prepare_many(ready)
            except Exception:
                log.exception("worker %s: preparing %d deliveries failed", self.name, len(ready))
                requests = {}
            for delivery_id in ready:
                if delivery_id in requests:
                    futures.append(self._pool.submit(self._send_for_batch, delivery_id, requests[delivery_id]))
                else:
                    self._release(delivery_id)
        for delivery_id in ids[len(ready):]:
            futures.append(self._pool.submit(self._send_for_batch, delivery_id))
        return futures

    def _soon(self) -> int:
        """How many permits the rate gives within PREPARE_AHEAD_SECONDS: at a high rate a whole
        batch is prepared together; below 2 (Vonage's 30/s) each send takes its own right before it
        leaves."""
        return int(float(getattr(self.limiter, "rate", 0) or 0) * PREPARE_AHEAD_SECONDS)

    def _permits(self, count: int) -> int:
        """Permits for up to `count` sends about to be prepared, without waiting longer than the
        rate's next few slots (at a low rate only one free now); returns how many were taken."""
        soon, taken = self._soon(), 0
        while taken < count:
            if soon >= 2 and taken < soon:
                self.limiter.acquire()
            elif not self._permit_now():
                break
            taken += 1
        return taken

    def _permit_now(self) -> bool:
        try_acquire = getattr(self.limiter, "try_acquire", None)
        return bool(try_acquire and try_acquire())

    def _record_waiting(self) -> int:
        """Record the answers waiting; returns how many. `_lanes_freed` says whether the loop should
        claim: an answer of a delivery the loop claimed may free its lane for the next; one of a
        handed-over delivery only when take_fresh left deliveries behind sends in flight."""
        answers = []
        with contextlib.suppress(queue.Empty):
            while len(answers) < 200:
                answers.append(self._answers.get_nowait())
        if answers:
            with self._held_lock:
                self._lanes_freed = (self._lanes_freed or self._left_behind
                                     or any(i not in self._handed for i, _ in answers))
            self._record_answers(answers)
        return len(answers)

    # -- loops -----------------------------------------------------------------------------------

    def run_once(self) -> int:
        """Claim one batch and send it; returns how many deliveries were claimed."""
        self._start_heartbeat()
        ids = self.claim()
        for future in self._dispatch(ids):
            future.result()
        while self._record_waiting():
            pass
        return len(ids)

    def _in_flight(self) -> int:
        with self._held_lock:
            return len(self._held)

    def run_forever(self, stop: threading.Event, poll_seconds: float = 1.0) -> None:
        """Keep up to `batch` deliveries claimed and sending: a slow send never holds up the rest."""
        log.info("outbox worker %s started", self.name)
        self._start_heartbeat()
        # Another process (a webhook, a page) queued deliveries: its change reaches us over the Redis
        # change bus, and we wake at once instead of at the next poll.
        unsubscribe = notify.subscribe(_wake_outbox) if os.environ.get("REFLEX_REDIS_URL") else None
        more_due, last_claim = True, 0.0
        notify.outbox_waiters.append(self._done)
        while not stop.is_set():
            try:
                recorded = self._record_waiting()
                in_flight = self._in_flight()
                room = self.batch - in_flight
                # Claim when half the batch is free (or nothing is in flight): claiming scans the
                # queue, so one claim of many beats many claims of one. A claim that found fewer than
                # it asked for emptied the queue: the next waits for something new (a commit that
                # queued deliveries, an answer that frees its lane, the poll for retries coming due)
                # instead of taking the database's write turn from the answers being recorded.
                ids = []
                may_claim = room > 0 and (not in_flight or room * 2 >= self.batch)
                if may_claim and (
                        more_due or self._lanes_freed or notify.outbox_ready.is_set()
                        or time.monotonic() - last_claim >= poll_seconds):
                    notify.outbox_ready.clear()
                    self._lanes_freed = False
                    ids, last_claim = self.claim(room), time.monotonic()
                    more_due = len(ids) >= room
                    with self._held_lock:
                        if not more_due and not self._handed:  # nothing is left behind a send
                            self._left_behind = False
                self._dispatch(ids)
                if ids or recorded:
                    continue
                # Wait for an answer to record (its lane's next may be due), deliveries queued in
                # this process (`notify.outbox_waiters`) or the poll.
                self._done.clear()
                if self._answers.empty() and not (may_claim and notify.outbox_ready.is_set()):
                    self._done.wait(min(poll_seconds, 0.25) if in_flight else poll_seconds)
            except Exception:
                log.exception("outbox worker %s: loop error", self.name)
                stop.wait(poll_seconds)
        with contextlib.suppress(ValueError):
            notify.outbox_waiters.remove(self._done)
        if unsubscribe:
            unsubscribe()
        self.close()

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        while self._record_waiting():  # what was sent before the stop is recorded, not resent
            pass
        self._closing.set()
        if self._heartbeat is not None:
            self._heartbeat.join(timeout=5)
