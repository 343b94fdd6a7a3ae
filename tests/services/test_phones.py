"""Simulated handsets (E10): only with the simulator, scoped to visible contacts (R11, R14), and a
reply arrives through the real signed inbound webhook as a message of the group."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from groupsms.errors import NotAuthenticated, NotFound, ValidationError
from groupsms.messaging import runtime
from groupsms.services import groups, messages, phones
from groupsms.simulator import Simulator
from groupsms.simulator.records import ReceivedSms, SentSms
from groupsms.simulator.testing import wait_until
from tests.services.conftest import WEBHOOK_SECRET, pick

MAIN, DANA_LINE = "+15125550100", "+15125550101"
CARLA, CARLA_2, DAN, GUS = "+15125550111", "+15125550121", "+15125550112", "+15125550115"
BIRCH_MAIN = "+17375550100"


class FakeSimulator:
    """Stands in for the simulator where only the reading side and the posted replies matter."""

    def __init__(self) -> None:
        self.received: dict[str, list[ReceivedSms]] = {}
        self.posted: list[tuple[str, str, str]] = []

    def deliver(self, business: str, handset: str, text: str, at: float) -> None:
        sms = ReceivedSms(business, handset, text, ("id",), None, "text", "key", at)
        self.received.setdefault(handset, []).append(sms)

    def inbox(self, e164: str) -> list[ReceivedSms]:
        return list(self.received.get(e164, ()))

    def sent_from(self, e164: str) -> list[SentSms]:
        return [SentSms(f, t, text, ("id",), 0.0) for f, t, text in self.posted if f == e164]

    def handsets(self) -> list[str]:
        return sorted(self.received)

    def post_inbound(self, from_e164: str, to_e164: str, text: str) -> list[str]:
        self.posted.append((from_e164, to_e164, text))
        return ["id"]


@contextlib.contextmanager
def simulator_in_place(sim: Any) -> Iterator[Any]:
    previous = runtime._SIMULATOR
    runtime._SIMULATOR = sim
    try:
        yield sim
    finally:
        runtime._SIMULATOR = previous


def with_fake_simulator(call: Callable[..., Any], *args: Any) -> Any:
    """For the authorization matrix: call a phones service with a fake simulator in place."""
    with simulator_in_place(FakeSimulator()):
        return call(*args)


@pytest.fixture
def fake_sim():
    with simulator_in_place(FakeSimulator()) as sim:
        yield sim


def test_e10_phones_are_refused_without_the_simulator(world):
    assert runtime.simulator() is None
    ada = world.actors["ada"]
    for call in (
        lambda: phones.list_handsets(ada),
        lambda: phones.handset_inbox(ada, CARLA),
        lambda: phones.reply(ada, CARLA, MAIN, "hi"),
    ):
        with pytest.raises(phones.SimulatorUnavailable, match="only available with the built-in simulator"):
            call()
    with pytest.raises(NotAuthenticated):
        phones.list_handsets(None)


def test_e10_r11_handsets_are_those_of_visible_contacts(world, fake_sim):
    fake_sim.deliver(MAIN, CARLA, "Closing moved", 10.0)
    fake_sim.deliver(BIRCH_MAIN, CARLA, "from another location", 20.0)  # never shown to acme
    fake_sim.deliver(MAIN, GUS, "Inspection at 9", 5.0)

    bo = {h.e164: h for h in phones.list_handsets(world.actors["bo"])}
    assert CARLA in bo and CARLA_2 in bo and DAN in bo
    assert GUS not in bo  # Dana's contact (R11)
    carla = bo[CARLA]
    assert (carla.contact_name, carla.which, carla.received, carla.last_text) == ("Carla Client", "primary", 1,
                                                                                  "Closing moved")
    assert bo[CARLA_2].which == "secondary"
    # The busiest handset first.
    assert list(bo)[0] == CARLA

    ada = [h.e164 for h in phones.list_handsets(world.actors["ada"])]
    assert ada[:2] == [CARLA, GUS]
    zed = {h.e164 for h in phones.list_handsets(world.actors["zed"])}
    assert zed == {"+17375550111", "+17375550112"}

    assert [m.text for m in phones.handset_inbox(world.actors["bo"], "(512) 555-0111")] == ["Closing moved"]
    with pytest.raises(NotFound):
        phones.handset_inbox(world.actors["bo"], GUS)
    with pytest.raises(NotFound):
        phones.handset_inbox(world.actors["zed"], CARLA)
    with pytest.raises(ValidationError):
        phones.handset_inbox(world.actors["bo"], "not a number")


def test_e10_reply_is_validated(world, fake_sim):
    bo = world.actors["bo"]
    phones.reply(bo, "512-555-0111", "(512) 555-0100", "  On my way\nsee you  ")
    assert fake_sim.posted == [(CARLA, MAIN, "On my way\nsee you")]
    with pytest.raises(NotFound):
        phones.reply(bo, GUS, MAIN, "not my contact")
    with pytest.raises(NotFound):
        phones.reply(bo, CARLA, BIRCH_MAIN, "another location's number")
    with pytest.raises(ValidationError, match="Type a reply"):
        phones.reply(bo, CARLA, MAIN, "   ")
    with pytest.raises(ValidationError, match="at most"):
        phones.reply(bo, CARLA, MAIN, "x" * (phones.MAX_REPLY_LENGTH + 1))
    with pytest.raises(ValidationError):
        phones.reply(bo, CARLA, MAIN, 42)
    assert len(fake_sim.posted) == 1
    # The sent reply shows in the handset's thread.
    assert [(m.direction, m.text) for m in phones.handset_inbox(bo, CARLA)] == [("sent", "On my way\nsee you")]


def test_e10_reply_arrives_in_the_group_through_the_signed_webhook(world, webhooks):
    bo = world.actors["bo"]
    gid = groups.create_group(bo, world.numbers["main"], pick(world, "carla", "dan"))
    with Simulator("phones-key", "phones-secret", WEBHOOK_SECRET, app_webhook_base=webhooks) as sim:
        with simulator_in_place(sim):
            phones.reply(bo, CARLA, MAIN, "see you at 5")
            wait_until(lambda: any(m.body == "see you at 5" for m in messages.list_messages(bo, gid)),
                       what="the reply stored in the group")
            [handset] = [h for h in phones.list_handsets(bo) if h.e164 == CARLA]
            assert (handset.sent, handset.last_text) == (1, "see you at 5")
            assert [w.kind for w in sim.webhooks()] == ["inbound"]
            assert all(w.ok for w in sim.webhooks())
