"""Outbound webhook subscriptions: admins subscribe their CRM's URLs to events of their location, see
each subscription's recent deliveries and resend one.

A URL must be https and every address its host resolves to must be public (no requests into the
install's own network: loopback, private, link-local, cloud metadata...; `domain.webhook_urls`),
unless the operator sets GROUPSMS_WEBHOOK_ALLOW_PRIVATE=1 (local development and tests, where http is
allowed too). The sender checks the addresses again before every attempt (`messaging.webhook_out`).
"""

from __future__ import annotations

import secrets
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import select

from groupsms import db
from groupsms.access.fetch import clean_id
from groupsms.domain.webhook_urls import url_problem
from groupsms.errors import NotFound, ValidationError
from groupsms.messaging import webhook_out
from groupsms.models import WebhookDelivery, WebhookSubscription, utcnow
from groupsms.services._base import Actor, acting_user, audit, require

__all__ = [
    "EVENT_TYPES", "RETRY_FOR", "SubscriptionView", "DeliveryView", "list_subscriptions", "create_subscription",
    "subscription_secret", "delete_subscription", "list_deliveries", "resend_delivery",
]

EVENT_TYPES: dict[str, str] = {
    "message.received": "A participant's reply was stored in a group",
    "message.relayed": "A participant's reply was relayed to the other participants",
    "message.status": "A message's delivery status changed",
    "contact.opted_out": "A phone number texted STOP",
    "contact.opted_in": "A phone number that had opted out texted START",
    "group.created": "A group was created",
    "group.locked": "A group was locked (DND, an opt-out, a deleted contact)",
    "inbound.needs_routing": "A reply waits for a person to pick its group",
}
RETRY_FOR = timedelta(hours=24)
MAX_SUBSCRIPTIONS = 20


@dataclass(frozen=True)
class SubscriptionView:
    id: int
    url: str
    events: tuple[str, ...]
    created_at: datetime


@dataclass(frozen=True)
class DeliveryView:
    id: int
    subscription_id: int
    event_id: str
    event_type: str
    status: str  # pending | delivered | failed
    attempts: int
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime | None
    delivered_at: datetime | None


def _check_url(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("URL is required", "url")
    url = value.strip()
    if len(url) > 2000:
        raise ValidationError("URL must be at most 2000 characters", "url")
    problem = url_problem(url, allow_private=webhook_out.private_allowed(), resolve=socket.getaddrinfo)
    if problem:
        raise ValidationError(problem, "url")
    return url


def _clean_events(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = value.split()
    if not isinstance(value, (list, tuple)) or not value or not all(isinstance(v, str) for v in value):
        raise ValidationError("Events must be a non-empty list of event types", "events")
    unknown = sorted({v for v in value if v not in EVENT_TYPES})
    if unknown:
        raise ValidationError(f"Unknown event type {unknown[0]!r}", "events")
    return tuple(e for e in EVENT_TYPES if e in value)


def _view(sub: WebhookSubscription) -> SubscriptionView:
    return SubscriptionView(sub.id, sub.url, tuple(sub.events.split()), sub.created_at)


def _subscription(s, admin, subscription_id: Any) -> WebhookSubscription:
    sub = s.get(WebhookSubscription, clean_id(subscription_id, "Subscription"))
    if sub is None or sub.location_id != admin.location_id or sub.deleted_at is not None:
        raise NotFound("Subscription")
    return sub


def list_subscriptions(actor: Actor | None) -> list[SubscriptionView]:
    with db.read() as s:
        admin = acting_user(s, actor)
        require(s, admin, "user", "manage")
        rows = s.exec(select(WebhookSubscription).where(
            WebhookSubscription.location_id == admin.location_id, WebhookSubscription.deleted_at.is_(None))
            .order_by(WebhookSubscription.id))
        return [_view(sub) for sub in rows]


def create_subscription(actor: Actor | None, url: Any, events: Any) -> tuple[SubscriptionView, str]:
    """A new subscription; returns it and its signing secret (also shown later to admins)."""
    with db.transaction() as s:
        admin = acting_user(s, actor)
        require(s, admin, "user", "manage")
        url, events = _check_url(url), _clean_events(events)
        count = len(s.exec(select(WebhookSubscription.id).where(
            WebhookSubscription.location_id == admin.location_id, WebhookSubscription.deleted_at.is_(None))).all())
        if count >= MAX_SUBSCRIPTIONS:
            raise ValidationError(f"A location can have at most {MAX_SUBSCRIPTIONS} subscriptions", "url")
        secret = "whsec_" + secrets.token_urlsafe(32)
        sub = WebhookSubscription(location_id=admin.location_id, url=url, events=" ".join(events), secret=secret,
                                  created_by_id=admin.id)
        s.add(sub)
        s.flush()
        db.on_commit(s, webhook_out.forget_subscriptions)
        audit(s, admin, "webhook.subscribed", "webhook_subscription", sub.id, url=url, events=list(events))
        return _view(sub), secret


def subscription_secret(actor: Actor | None, subscription_id: Any) -> str:
    with db.read() as s:
        admin = acting_user(s, actor)
        require(s, admin, "user", "manage")
        return _subscription(s, admin, subscription_id).secret


def delete_subscription(actor: Actor | None, subscription_id: Any) -> None:
    """Stop sending to this URL; pending deliveries of it are not attempted any more."""
    with db.transaction() as s:
        admin = acting_user(s, actor)
        require(s, admin, "user", "manage")
        sub = _subscription(s, admin, subscription_id)
        sub.deleted_at = utcnow()
        s.add(sub)
        db.on_commit(s, webhook_out.forget_subscriptions)
        audit(s, admin, "webhook.unsubscribed", "webhook_subscription", sub.id, url=sub.url)


def _delivery_view(d: WebhookDelivery) -> DeliveryView:
    return DeliveryView(d.id, d.subscription_id, d.event_id, d.event_type, d.status, d.attempts,
                        d.last_status_code, d.last_error, d.created_at,
                        d.next_attempt_at if d.status == "pending" else None, d.delivered_at)


def list_deliveries(actor: Actor | None, subscription_id: Any, limit: int = 50) -> list[DeliveryView]:
    """A subscription's most recent deliveries, newest first."""
    with db.read() as s:
        admin = acting_user(s, actor)
        require(s, admin, "user", "manage")
        sub = _subscription(s, admin, subscription_id)
        rows = s.exec(select(WebhookDelivery).where(WebhookDelivery.subscription_id == sub.id)
                      .order_by(WebhookDelivery.id.desc()).limit(max(1, min(int(limit), 200))))
        return [_delivery_view(d) for d in rows]


def resend_delivery(actor: Actor | None, delivery_id: Any) -> DeliveryView:
    """Send this event again now (same event id, so a receiver that stored it ignores it), with a
    new 24-hour retry budget."""
    with db.transaction() as s:
        admin = acting_user(s, actor)
        require(s, admin, "user", "manage")
        delivery = s.get(WebhookDelivery, clean_id(delivery_id, "Delivery"))
        if delivery is None or delivery.location_id != admin.location_id:
            raise NotFound("Delivery")
        _subscription(s, admin, delivery.subscription_id)
        now = utcnow()
        delivery.status, delivery.next_attempt_at, delivery.expires_at = "pending", now, now + RETRY_FOR
        delivery.claimed_until = None
        s.add(delivery)
        audit(s, admin, "webhook.resent", "webhook_delivery", delivery.id, event=delivery.event_id)
        webhook_out.wake(s)
        return _delivery_view(delivery)
