"""Outbound webhooks: events written to an outbox in the writer's transaction, then sent, signed, at
least once to each subscription that asked for them, retried with backoff for 24 hours.

- `record` runs inside every writer's transaction (`notify.subscribe_in_transaction`): a change
  event of a location with subscriptions becomes one `WebhookDelivery` row per subscription that
  wants its type, committed or rolled back with the change itself.
- `WebhookSender` claims due rows (a lease, so several processes share the outbox without sending a
  row twice at once), POSTs the event as JSON with
  `Groupsms-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` under the
  subscription's secret, and marks it delivered on a 2xx answer. Anything else (an error status, a
  timeout, a refused connection, an address that is no longer public) is retried after 30 s, 1 min,
  2 min, ... up to an hour apart, until 24 hours after the event; then it is failed and admins can
  resend it. Receivers dedupe by the event's `id` (a resend or a retry after a lost answer repeats it).

Which locations have subscriptions is cached per process for a few seconds, so a write path of a
location without any does no extra query; a subscription made in this process counts at once, one
made in another process within `_CACHE_SECONDS`.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import os
import random
import secrets
import socket
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import or_, update
from sqlmodel import Session, select

from groupsms import db
from groupsms.domain.webhook_urls import url_problem
from groupsms.messaging import events, notify
from groupsms.models import (
    BusinessNumber,
    Contact,
    Message,
    Participant,
    WebhookDelivery,
    WebhookSubscription,
    utcnow,
)

log = logging.getLogger(__name__)

RETRY_FOR = timedelta(hours=24)
FIRST_RETRY = 30.0  # seconds; doubles each attempt
MAX_RETRY = 3600.0
TIMEOUT = 10.0
LEASE = timedelta(seconds=60)
_CACHE_SECONDS = 5.0

_ready = threading.Event()
_cache_lock = threading.Lock()
_cache: tuple[float, frozenset[int]] | None = None


# -- signing ----------------------------------------------------------------------------------------

def sign(secret: str, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, body: bytes, header: str, *, tolerance: int = 300, now: float | None = None) -> bool:
    """What a receiver does (used by the tests and shown in the README)."""
    try:
        fields = dict(part.split("=", 1) for part in header.split(","))
        timestamp = int(fields["t"])
    except (ValueError, KeyError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, fields.get("v1", ""))


# -- the outbox ------------------------------------------------------------------------------------

def forget_subscriptions() -> None:
    """Drop the cache of which locations have subscriptions (after a change, and in tests)."""
    global _cache
    with _cache_lock:
        _cache = None


def _subscribed_locations(s: Session) -> frozenset[int]:
    global _cache
    now = time.monotonic()
    with _cache_lock:
        if _cache is not None and now - _cache[0] < _CACHE_SECONDS:
            return _cache[1]
    ids = frozenset(s.exec(select(WebhookSubscription.location_id).where(
        WebhookSubscription.deleted_at.is_(None)).distinct()).all())
    with _cache_lock:
        _cache = (now, ids)
    return ids


def _message_data(s: Session, message_id: int) -> dict:
    m = s.get(Message, message_id)
    if m is None:
        return {"message_id": message_id}
    number = s.get(BusinessNumber, m.business_number_id)
    return {"message_id": m.id, "group_id": m.group_id, "direction": m.direction, "from": m.from_e164,
            "to": number.e164 if number else None, "text": m.body, "status": m.status,
            "created_at": m.created_at.isoformat()}


def _group_data(s: Session, group_id: int) -> dict:
    rows = s.exec(select(Participant, Contact.ref).join(Contact, Contact.id == Participant.contact_id)
                  .where(Participant.group_id == group_id).order_by(Participant.position)).all()
    return {"group_id": group_id, "participants": [
        {"contact": ref, "name": p.name, "number": p.e164, "which": p.which} for p, ref in rows]}


def _translate(s: Session, event: events.ChangeEvent) -> list[tuple[str, dict]]:
    """The outbound event types and data a change event makes (most make none or one)."""
    if isinstance(event, events.MessageAdded):
        if not event.inbound:
            return []
        data = _message_data(s, event.message_id)
        m = s.get(Message, event.message_id)
        out = [("message.received", data)]
        if m is not None and m.sms_text is not None:
            out.append(("message.relayed", {**data, "relayed_text": m.sms_text}))
        return out
    if isinstance(event, events.StatusChanged):
        return [("message.status", {"message_id": event.message_id, "group_id": event.group_id,
                                    "status": event.status})]
    if isinstance(event, events.OptOutChanged):
        number = s.get(BusinessNumber, event.business_number_id) if event.business_number_id else None
        return [("contact.opted_out" if event.opted_out else "contact.opted_in",
                 {"number": event.number, "business_number": number.e164 if number else None,
                  "group_ids": list(event.groups)})]
    if isinstance(event, events.GroupCreated):
        return [("group.created", _group_data(s, event.group_id))]
    if isinstance(event, events.GroupLocked):
        return [("group.locked", {"group_id": event.group_id, "reason": event.reason})]
    if isinstance(event, events.RoutingChanged) and event.state == "needs_routing":
        return [("inbound.needs_routing", _message_data(s, event.message_id))]
    return []


def record(s: Session, event: events.ChangeEvent) -> None:
    """In the writer's transaction: one outbox row per subscription that wants this event."""
    if event.location_id not in _subscribed_locations(s):
        return
    made = _translate(s, event)
    if not made:
        return
    subs = s.exec(select(WebhookSubscription).where(
        WebhookSubscription.location_id == event.location_id, WebhookSubscription.deleted_at.is_(None))).all()
    now = utcnow()
    for event_type, data in made:
        wanted = [sub for sub in subs if event_type in sub.events.split()]
        if not wanted:
            continue
        event_id = "evt_" + secrets.token_hex(12)
        body = json.dumps({"id": event_id, "type": event_type, "created_at": now.isoformat(),
                           "location_id": event.location_id, "data": data}, separators=(",", ":"), default=str)
        for sub in wanted:
            s.add(WebhookDelivery(subscription_id=sub.id, location_id=event.location_id, event_id=event_id,
                                  event_type=event_type, payload=body, next_attempt_at=now,
                                  expires_at=now + RETRY_FOR))
    wake(s)


def wake(s: Session) -> None:
    db.on_commit(s, _ready.set)


notify.subscribe_in_transaction(record)


# -- sending -----------------------------------------------------------------------------------------

class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """Connects to the address that was checked (not a second DNS answer), with SNI and certificate
    checks for the host name."""

    def __init__(self, host: str, port: int, address: str, **kw) -> None:
        super().__init__(host, port, context=ssl.create_default_context(), **kw)
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def private_allowed() -> bool:
    """The operator allows http and private addresses (GROUPSMS_WEBHOOK_ALLOW_PRIVATE=1)."""
    return os.environ.get("GROUPSMS_WEBHOOK_ALLOW_PRIVATE", "") == "1"


def _connection(url: str):
    parts = urlsplit(url)
    host, port = parts.hostname, parts.port
    if private_allowed():
        if parts.scheme == "http":
            return http.client.HTTPConnection(host, port or 80, timeout=TIMEOUT)
        return http.client.HTTPSConnection(host, port or 443, timeout=TIMEOUT, context=ssl.create_default_context())
    if parts.scheme != "https" or not host:
        raise OSError("The URL must start with https://")
    infos = socket.getaddrinfo(host, port or 443, proto=socket.IPPROTO_TCP)  # resolved once: checked and used
    problem = url_problem(url, allow_private=False, resolve=lambda *_args, **_kw: infos)
    if problem:
        raise OSError(problem)
    address = infos[0][4][0]
    return _PinnedHTTPSConnection(host, port or 443, address, timeout=TIMEOUT)


def post(url: str, secret: str, body: bytes, headers: dict[str, str]) -> int:
    """POST the signed body; the answer's status code. Redirects are not followed."""
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    conn = _connection(url)
    try:
        conn.request("POST", path, body=body, headers={
            "Content-Type": "application/json", "User-Agent": "groupsms-webhooks/1",
            "Groupsms-Signature": sign(secret, body, int(time.time())), **headers})
        response = conn.getresponse()
        response.read(4096)
        return response.status
    finally:
        conn.close()


def backoff(attempts: int) -> float:
    base = min(FIRST_RETRY * 2 ** max(attempts - 1, 0), MAX_RETRY)
    return base * random.uniform(0.9, 1.1)


class WebhookSender:
    def __init__(self, *, concurrency: int = 4, batch: int = 20) -> None:
        self.name = f"webhooks-{secrets.token_hex(4)}"
        self.batch = batch
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="groupsms-webhook")

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def claim(self, now: datetime) -> list[int]:
        with db.transaction() as s:
            due = (select(WebhookDelivery.id)
                   .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
                   .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now,
                          or_(WebhookDelivery.claimed_until.is_(None), WebhookDelivery.claimed_until < now),
                          WebhookSubscription.deleted_at.is_(None))
                   .order_by(WebhookDelivery.id).limit(self.batch))
            if s.get_bind().dialect.name == "postgresql":
                due = due.with_for_update(of=WebhookDelivery, skip_locked=True)
            rows = s.exec(update(WebhookDelivery).where(WebhookDelivery.id.in_(due.scalar_subquery()))
                          .values(claimed_until=now + LEASE).returning(WebhookDelivery.id)).all()
            return sorted(r[0] for r in rows)

    def _attempt(self, delivery_id: int, now: datetime | None = None) -> None:
        with db.transaction() as s:
            d = s.get(WebhookDelivery, delivery_id)
            sub = s.get(WebhookSubscription, d.subscription_id)
            url, secret, body = sub.url, sub.secret, d.payload.encode()
            headers = {"Groupsms-Event-Id": d.event_id, "Groupsms-Event-Type": d.event_type}
        code, error = None, None
        try:
            code = post(url, secret, body, headers)
            if not 200 <= code < 300:
                error = f"HTTP {code}"
        except (OSError, http.client.HTTPException, ValueError) as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        now = now or utcnow()
        with db.transaction() as s:
            d = s.get(WebhookDelivery, delivery_id)
            d.attempts += 1
            d.last_status_code, d.last_error, d.claimed_until = code, error, None
            if error is None:
                d.status, d.delivered_at = "delivered", now
            else:
                retry_at = now + timedelta(seconds=backoff(d.attempts))
                if retry_at > d.expires_at:
                    d.status = "failed"
                else:
                    d.next_attempt_at = retry_at
            s.add(d)

    def run_once(self, now: datetime | None = None) -> int:
        """Attempt every delivery due now (once each); how many were attempted."""
        ids = self.claim(now or utcnow())
        for future in [self._pool.submit(self._attempt, i, now) for i in ids]:
            try:
                future.result()
            except Exception:  # one broken row must not stop the others
                log.exception("webhook delivery failed unexpectedly")
        return len(ids)

    def run_forever(self, stop: threading.Event, idle: float = 2.0) -> None:
        while not stop.is_set():
            try:
                done = self.run_once()
            except Exception:  # the database away for a moment: try again shortly
                log.exception("webhook sender: claiming failed")
                done = 0
            if not done:
                _ready.wait(idle)
                _ready.clear()
        self.close()


def start(stop: threading.Event) -> threading.Thread:
    """Run a sender in a daemon thread until `stop` is set (the app's and `groupsms worker`'s)."""
    thread = threading.Thread(target=WebhookSender().run_forever, args=(stop,), name="groupsms-webhooks",
                              daemon=True)
    thread.start()
    return thread
