"""Outbound webhook subscriptions over the API (admin scope, and an admin's token)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from groupsms.api import schemas as api
from groupsms.api.auth import scope
from groupsms.services import webhook_subscriptions as subs
from groupsms.services.api_tokens import TokenGrant

router = APIRouter(tags=["webhooks"])
Admin = Annotated[TokenGrant, Depends(scope("admin"))]
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _sub(v: subs.SubscriptionView, secret: str | None = None) -> api.Subscription:
    return api.Subscription(id=v.id, url=v.url, events=list(v.events), created_at=v.created_at, secret=secret)


def _delivery(d: subs.DeliveryView) -> api.WebhookDelivery:
    return api.WebhookDelivery(id=d.id, event_id=d.event_id, event_type=d.event_type, status=d.status,
                               attempts=d.attempts, last_status_code=d.last_status_code, last_error=d.last_error,
                               created_at=d.created_at, next_attempt_at=d.next_attempt_at,
                               delivered_at=d.delivered_at)


@router.post("/webhooks", status_code=201, response_model=api.Subscription,
             summary="Subscribe a URL (https, public addresses) to events; the answer holds the signing secret")
def create_subscription(grant: Admin, body: api.SubscriptionCreate):
    view, secret = subs.create_subscription(grant.actor, body.url, body.events)
    return _sub(view, secret)


@router.get("/webhooks", response_model=api.SubscriptionList, summary="The location's subscriptions")
def list_subscriptions(grant: Admin):
    return api.SubscriptionList(data=[_sub(v) for v in subs.list_subscriptions(grant.actor)], next_cursor=None)


@router.delete("/webhooks/{subscription_id}", status_code=204, summary="Unsubscribe")
def delete_subscription(grant: Admin, subscription_id: Id):
    subs.delete_subscription(grant.actor, subscription_id)
    return Response(status_code=204)


@router.get("/webhooks/{subscription_id}/deliveries", response_model=api.WebhookDeliveryList,
            summary="A subscription's recent deliveries, newest first")
def list_deliveries(grant: Admin, subscription_id: Id, limit: Annotated[int, Query(ge=1, le=200)] = 50):
    rows = subs.list_deliveries(grant.actor, subscription_id, limit)
    return api.WebhookDeliveryList(data=[_delivery(d) for d in rows], next_cursor=None)


@router.post("/webhooks/deliveries/{delivery_id}/resend", response_model=api.WebhookDelivery,
             summary="Send a delivery again now (same event id)")
def resend_delivery(grant: Admin, delivery_id: Id):
    return _delivery(subs.resend_delivery(grant.actor, delivery_id))
