"""One simulator shared by several app processes (scale-out): its control API and the client the
Phones page uses in every process (`runtime.simulator()` with GROUPSMS_SIMULATOR=external)."""

from __future__ import annotations

import pytest

from groupsms.messaging import runtime
from groupsms.messaging.gateway import SENT, SendRequest
from groupsms.messaging.vonage_gateway import VonageGateway
from groupsms.simulator import Simulator
from groupsms.simulator.remote import RemoteSimulator
from groupsms.simulator.testing import WebhookReceiver

HANDSET, BUSINESS = "+15125550111", "+15125550100"


@pytest.fixture
def shared():
    with WebhookReceiver() as app, Simulator("shared-key", "shared-secret", "shared-sig",
                                             app_webhook_base=app.base_url) as sim:
        yield sim, app


def test_a_remote_client_reads_handsets_and_replies_through_the_shared_simulator(shared, monkeypatch):
    sim, app = shared
    gateway = VonageGateway(sim.api_key, sim.api_secret, rest_host=sim.rest_host, ca_bundle=sim.ca_bundle_path)
    assert gateway.send(SendRequest(BUSINESS, HANDSET, "Keys at the office", "d1", unicode=False)).outcome == SENT

    for name, value in sim.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("GROUPSMS_SIMULATOR", "external")
    monkeypatch.setattr(runtime, "_SIMULATOR", None)
    remote = runtime.simulator()
    assert isinstance(remote, RemoteSimulator)

    [received] = remote.inbox(HANDSET)
    assert (received.from_e164, received.text, received.client_ref) == (BUSINESS, "Keys at the office", "d1")
    ids = remote.post_inbound(HANDSET, BUSINESS, "On my way")
    [webhook] = app.wait_for(1, "/webhooks/vonage/inbound")
    assert webhook.params["text"] == "On my way" and webhook.params["messageId"] == ids[0]
    assert webhook.params["sig"]  # signed with the simulator's secret, like every other webhook it posts
    assert [m.text for m in remote.sent_from(HANDSET)] == ["On my way"]


def test_the_control_api_wants_the_accounts_credentials(shared):
    sim, _ = shared
    stranger = RemoteSimulator(sim.rest_host, sim.api_key, "wrong-secret", sim.ca_bundle_path)
    with pytest.raises(RuntimeError, match="401"):
        stranger.inbox(HANDSET)
    with pytest.raises(RuntimeError, match="401"):
        stranger.post_inbound(HANDSET, BUSINESS, "forged")
    assert sim.sent_from(HANDSET) == []
