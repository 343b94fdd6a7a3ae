"""Outbound webhooks to a local HTTP receiver: signed, redelivered after a 500, never sent to another
location's subscription, written with the change itself, failed after 24 hours, resent by an admin;
subscription URLs must be https and public unless GROUPSMS_WEBHOOK_ALLOW_PRIVATE=1."""

from __future__ import annotations

import json
import socket
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from sqlmodel import select

from groupsms import db
from groupsms.domain.webhook_urls import url_problem
from groupsms.errors import ValidationError
from groupsms.messaging import events, inbound, notify, webhook_out
from groupsms.models import WebhookDelivery, utcnow
from groupsms.services import groups
from groupsms.services import webhook_subscriptions as subs
from tests.services.conftest import pick


class Receiver:
    """Records every POST; answers with the next status of `answers` (then 200)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, str], bytes]] = []
        self.answers: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                receiver.calls.append((self.path, dict(self.headers), body))
                self.send_response(receiver.answers.pop(0) if receiver.answers else 200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(monkeypatch, clean_db):
    monkeypatch.setenv("GROUPSMS_WEBHOOK_ALLOW_PRIVATE", "1")
    webhook_out.forget_subscriptions()
    r = Receiver()
    yield r
    r.close()
    webhook_out.forget_subscriptions()


@pytest.fixture
def sender():
    s = webhook_out.WebhookSender(concurrency=2)
    yield s
    s.close()


def _deliveries() -> list[WebhookDelivery]:
    with db.transaction() as s:
        return list(s.exec(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def test_an_event_arrives_signed_is_redelivered_after_a_500_and_skips_other_locations(world, receiver, sender):
    acme, acme_secret = subs.create_subscription(world.actors["ada"], receiver.url + "/acme", ["group.created"])
    subs.create_subscription(world.actors["zed"], receiver.url + "/birch", ["group.created"])
    gid = groups.create_group(world.actors["bo"], world.numbers["main"], pick(world, "carla", "dan"))
    [row] = _deliveries()
    assert row.subscription_id == acme.id and row.status == "pending"

    receiver.answers = [500]
    assert sender.run_once() == 1
    [row] = _deliveries()
    assert (row.status, row.attempts, row.last_status_code) == ("pending", 1, 500)
    assert row.next_attempt_at > utcnow()
    assert sender.run_once() == 0  # not due yet
    assert sender.run_once(now=row.next_attempt_at + timedelta(seconds=1)) == 1
    [row] = _deliveries()
    assert (row.status, row.attempts, row.last_status_code) == ("delivered", 2, 200)

    assert [path for path, _, _ in receiver.calls] == ["/acme", "/acme"]
    (_, headers, body), (_, headers2, body2) = receiver.calls
    assert body == body2
    assert webhook_out.verify(acme_secret, body, headers["Groupsms-Signature"])
    assert not webhook_out.verify("whsec_wrong", body, headers["Groupsms-Signature"])
    timestamp, mac = headers["Groupsms-Signature"].split(",")
    assert timestamp.startswith("t=") and mac.startswith("v1=") and len(mac) == 3 + 64
    event = json.loads(body)
    assert set(event) == {"id", "type", "created_at", "location_id", "data"}
    assert (event["type"], event["location_id"]) == ("group.created", world.locations["acme"])
    assert event["data"]["group_id"] == gid
    assert [p["contact"] for p in event["data"]["participants"]] == ["carla", "dan"]
    assert headers["Groupsms-Event-Id"] == event["id"]


def test_a_reply_makes_received_and_relayed_events_and_needs_routing_its_own(world, receiver, sender):
    subs.create_subscription(world.actors["ada"], receiver.url + "/in",
                             ["message.received", "message.relayed", "inbound.needs_routing"])
    groups.create_group(world.actors["bo"], world.numbers["main"], pick(world, "carla", "dan"))
    event_id, _ = inbound.record_event("inbound", {"msisdn": "15125550112", "to": "15125550100",
                                                   "messageId": "wh-1", "text": "Running late"})
    inbound.process_event(event_id)
    groups.create_group(world.actors["bo"], world.numbers["main"], pick(world, "dan", "erin"))
    event_id, _ = inbound.record_event("inbound", {"msisdn": "15125550112", "to": "15125550100",
                                                   "messageId": "wh-2", "text": "Which one?"})
    inbound.process_event(event_id)
    while sender.run_once():
        pass
    sent = {json.loads(body)["type"]: json.loads(body) for _, _, body in receiver.calls}  # in any order
    assert sorted(sent) == ["inbound.needs_routing", "message.received", "message.relayed"]
    assert len(receiver.calls) == 3
    received = sent["message.received"]["data"]
    assert (received["from"], received["text"]) == ("+15125550112", "Running late")


def test_the_outbox_row_rolls_back_with_the_change(world, receiver):
    subs.create_subscription(world.actors["ada"], receiver.url, ["group.locked"])
    with pytest.raises(RuntimeError), db.transaction() as s:
        notify.publish(s, events.GroupLocked(world.locations["acme"], 1, "test"))
        assert len(s.exec(select(WebhookDelivery)).all()) == 1  # written in the writer's transaction
        raise RuntimeError("the change fails")
    assert _deliveries() == []


def test_after_24_hours_of_failures_a_delivery_fails_and_an_admin_can_resend_it(world, receiver, sender):
    sub, _ = subs.create_subscription(world.actors["ada"], receiver.url, ["group.created"])
    groups.create_group(world.actors["bo"], world.numbers["main"], pick(world, "carla", "dan"))
    receiver.answers = [503] * 100
    now = utcnow()
    attempts = 0
    while (row := _deliveries()[0]).status == "pending":
        now = max(now, row.next_attempt_at) + timedelta(seconds=1)
        attempts += sender.run_once(now=now)
        assert attempts < 60
    assert row.status == "failed" and row.attempts == attempts
    assert now - row.created_at <= timedelta(hours=24, minutes=1)
    assert attempts >= 20  # backoff caps at an hour: many tries over the day
    [view] = subs.list_deliveries(world.actors["ada"], sub.id)
    assert view.status == "failed" and view.last_status_code == 503
    with pytest.raises(Exception):
        subs.resend_delivery(world.actors["zed"], view.id)
    receiver.answers = []
    assert subs.resend_delivery(world.actors["ada"], view.id).status == "pending"
    assert sender.run_once() == 1
    assert _deliveries()[0].status == "delivered"


def test_a_deleted_subscription_gets_nothing_more(world, receiver, sender):
    sub, _ = subs.create_subscription(world.actors["ada"], receiver.url, ["group.created"])
    groups.create_group(world.actors["bo"], world.numbers["main"], pick(world, "carla", "dan"))
    subs.delete_subscription(world.actors["ada"], sub.id)
    groups.create_group(world.actors["bo"], world.numbers["main"], pick(world, "carla", "erin"))
    assert len(_deliveries()) == 1
    assert sender.run_once() == 0 and receiver.calls == []


def _resolver(address: str):
    return lambda host, port, **kw: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]


@pytest.mark.parametrize("url, address, ok", [
    ("https://crm.example.com/hook", "93.184.216.34", True),
    ("http://crm.example.com/hook", "93.184.216.34", False),
    ("https://crm.example.com/hook", "127.0.0.1", False),
    ("https://crm.example.com/hook", "10.1.2.3", False),
    ("https://crm.example.com/hook", "169.254.169.254", False),
    ("https://crm.example.com/hook", "::1", False),
    ("https://crm.example.com/hook", "::ffff:192.168.0.1", False),
    ("https://user:pw@crm.example.com/hook", "93.184.216.34", False),
    ("ftp://crm.example.com/hook", "93.184.216.34", False),
])
def test_subscription_urls_must_be_https_and_public(monkeypatch, url, address, ok):
    monkeypatch.delenv("GROUPSMS_WEBHOOK_ALLOW_PRIVATE", raising=False)
    assert (url_problem(url, allow_private=False, resolve=_resolver(address)) is None) is ok


def test_a_private_url_is_refused_unless_the_operator_allows_it(world, monkeypatch):
    monkeypatch.delenv("GROUPSMS_WEBHOOK_ALLOW_PRIVATE", raising=False)
    with pytest.raises(ValidationError, match="https"):
        subs.create_subscription(world.actors["ada"], "http://127.0.0.1:8080/hook", ["group.created"])
    with pytest.raises(ValidationError, match="not public"):
        subs.create_subscription(world.actors["ada"], "https://127.0.0.1:8443/hook", ["group.created"])
    monkeypatch.setenv("GROUPSMS_WEBHOOK_ALLOW_PRIVATE", "1")
    with pytest.raises(ValidationError, match="Unknown event"):
        subs.create_subscription(world.actors["ada"], "https://127.0.0.1/hook", ["group.exploded"])
    assert subs.create_subscription(world.actors["ada"], "http://127.0.0.1:8080/hook", ["group.created"])[0].id


def test_the_sender_checks_the_address_again_before_sending(world, receiver, sender, monkeypatch):
    subs.create_subscription(world.actors["ada"], receiver.url, ["group.created"])
    groups.create_group(world.actors["bo"], world.numbers["main"], pick(world, "carla", "dan"))
    monkeypatch.delenv("GROUPSMS_WEBHOOK_ALLOW_PRIVATE")
    assert sender.run_once() == 1
    [row] = _deliveries()
    assert row.status == "pending" and "https" in row.last_error and receiver.calls == []


def test_a_host_that_later_resolves_to_a_private_address_is_not_contacted(world, sender, monkeypatch, clean_db):
    monkeypatch.delenv("GROUPSMS_WEBHOOK_ALLOW_PRIVATE", raising=False)
    webhook_out.forget_subscriptions()
    monkeypatch.setattr(socket, "getaddrinfo", _resolver("93.184.216.34"))
    subs.create_subscription(world.actors["ada"], "https://crm.example.com/hook", ["group.created"])
    groups.create_group(world.actors["bo"], world.numbers["main"], pick(world, "carla", "dan"))
    monkeypatch.setattr(socket, "getaddrinfo", _resolver("10.0.0.5"))
    connected = []
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: connected.append(a) or (_ for _ in ()).throw(OSError()))
    assert sender.run_once() == 1
    [row] = _deliveries()
    assert row.status == "pending" and "not public" in row.last_error and connected == []
    webhook_out.forget_subscriptions()
