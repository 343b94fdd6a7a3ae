"""The simulator's Numbers API (GET /account/numbers) read through the official SDK over HTTPS."""

from __future__ import annotations

import pytest
import requests

from groupsms.demo import demo_data
from groupsms.messaging.numbers import ProviderError, VonageNumbers
from groupsms.simulator import Simulator
from groupsms.simulator.numbers_api import STANDARD_NUMBERS, inventory


@pytest.fixture
def sim():
    with Simulator("numbers-key", "numbers-secret", None) as running:
        yield running


def test_owned_numbers_are_read_page_by_page(sim):
    extra = [f"+1512555{2000 + i}" for i in range(150)]
    for e164 in extra:
        inventory(sim).add(e164)
    inventory(sim).add("+15125550199", ("VOICE",))
    owned = VonageNumbers(sim.api_key, sim.api_secret, sim.rest_host, sim.ca_bundle_path).owned_numbers()
    assert [n.e164 for n in owned] == sorted({*STANDARD_NUMBERS, *extra, "+15125550199"})
    assert {n.e164: n.sms_capable for n in owned}["+15125550199"] is False
    assert {n.e164: n.country for n in owned}["+14165550100"] == "CA"


def test_owned_numbers_filters_as_the_numbers_api(sim):
    def get(**params):
        response = requests.get(f"https://{sim.rest_host}/account/numbers", params=params,
                                auth=(sim.api_key, sim.api_secret), verify=sim.ca_bundle_path, timeout=10)
        return response.status_code, response.json()

    status, body = get(country="CA")
    assert status == 200 and [n["msisdn"] for n in body["numbers"]] == ["14165550100", "14165550101"]
    status, body = get(pattern="0101", search_pattern="2", size="1", index="2")
    assert status == 200 and body["count"] == 3 and [n["msisdn"] for n in body["numbers"]] == ["14165550101"]
    assert get(size="101")[0] == 400
    assert "numbers" not in get(pattern="999999", search_pattern="1")[1]  # an empty page, as Vonage


def test_wrong_credentials_are_refused(sim):
    with pytest.raises(ProviderError, match="HTTP 401"):
        VonageNumbers(sim.api_key, "wrong", sim.rest_host, sim.ca_bundle_path).owned_numbers()
    response = requests.get(f"https://{sim.rest_host}/account/numbers", verify=sim.ca_bundle_path, timeout=10)
    assert response.status_code == 401


def test_unreachable_numbers_api_is_a_provider_error(sim):
    host = sim.rest_host
    sim.stop()
    with pytest.raises(ProviderError, match="cannot reach"):
        VonageNumbers("k", "s", host, None, timeout=2).owned_numbers()


def test_demo_numbers_are_the_simulators_own():
    demo = {n["e164"] for loc in demo_data()["locations"] for n in loc["numbers"]}
    assert demo <= set(STANDARD_NUMBERS)
