"""`groupsms numbers sync|list|assign|unassign` and the load file's business numbers (R1, R14).

Numbers come from the provider account: with Vonage configured, only numbers it owns (stored by
`groupsms numbers sync`) can be given to a location, by command or load file; in simulator mode the
simulated account acquires the ones a load file or the owner names, so the demo works out of the box.
"""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from groupsms import cli, db
from groupsms.loadfile import LoadError, load_data
from groupsms.models import BusinessNumber, Location, ProviderNumber
from groupsms.simulator import Simulator
from groupsms.simulator.numbers_api import STANDARD_NUMBERS
from groupsms.simulator.numbers_api import inventory as simulator_inventory


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _provider_numbers() -> dict[str, str]:
    with db.transaction() as s:
        return {p.e164: p.source for p in s.exec(select(ProviderNumber))}


def _business_numbers() -> dict[str, str]:
    with db.transaction() as s:
        rows = s.exec(select(BusinessNumber.e164, Location.ref).join(Location, Location.id == BusinessNumber.location_id))
        return dict(rows.all())


@pytest.fixture
def vonage_mode(monkeypatch):
    """A Vonage account is configured (the sends themselves are not exercised here)."""
    monkeypatch.setenv("VONAGE_API_KEY", "owner-key")
    monkeypatch.setenv("VONAGE_API_SECRET", "owner-secret")
    monkeypatch.setenv("VONAGE_SIGNATURE_SECRET", "owner-signature-secret")


@pytest.fixture
def simulator_mode(monkeypatch):
    for name in ("VONAGE_API_KEY", "VONAGE_API_SECRET", "VONAGE_REST_HOST", "VONAGE_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)


def test_numbers_sync_stores_provider_numbers_from_the_simulator_over_https(cli_env, capsys, monkeypatch):
    with Simulator("owner-key", "owner-secret", "owner-signature-secret") as sim:
        simulator_inventory(sim).add("+15125550160")
        for name, value in sim.env().items():
            monkeypatch.setenv(name, value)
        code, out, err = _run(capsys, "numbers", "sync")
        assert code == 0, err
        assert f"{len(STANDARD_NUMBERS) + 1} added" in out and sim.rest_host in out
        assert _provider_numbers() == {e164: "vonage" for e164 in (*STANDARD_NUMBERS, "+15125550160")}

        monkeypatch.setenv("VONAGE_API_SECRET", "wrong-secret")
        code, _, err = _run(capsys, "numbers", "sync")
    assert code == 1
    assert "groupsms numbers sync: refused:" in err and "HTTP 401" in err and "VONAGE_API_SECRET" in err


def test_numbers_sync_in_simulator_mode_stores_the_simulators_numbers(cli_env, simulator_mode, capsys):
    code, out, _ = _run(capsys, "numbers", "sync")
    assert code == 0 and "built-in simulator" in out
    assert _provider_numbers() == dict.fromkeys(STANDARD_NUMBERS, "simulator")


def test_owner_assigns_number_to_location_with_the_cli(cli_env, good_doc, vonage_mode, capsys):
    with db.transaction() as s:
        for e164 in ("+15125550100", "+15125550101", "+15125550102"):
            s.add(ProviderNumber(e164=e164, source="vonage", country="US"))
    load_data(good_doc, "acme.json")
    load_data({"locations": [{"ref": "birch", "name": "Birch Homes"}]}, "birch.json")

    code, out, err = _run(capsys, "numbers", "assign", "(512) 555-0102", "--location", "acme", "--label", "Spare")
    assert code == 0, err
    assert json.loads(out)["location"] == "acme"
    assert _business_numbers()["+15125550102"] == "acme"

    code, out, _ = _run(capsys, "numbers", "list")
    line = next(line for line in out.splitlines() if line.startswith("+15125550102"))
    assert "acme" in line and "Spare" in line

    refusals = [
        (("+15125550177", "--location", "acme"), "not a number of the provider account"),
        (("+15125550102", "--location", "birch"), 'already given to location "acme"'),
        (("+15125550102", "--location", "nowhere"), 'No location "nowhere"'),
        (("+442071234567", "--location", "acme"), "US or Canada"),
    ]
    for args, words in refusals:
        code, _, err = _run(capsys, "numbers", "assign", *args)
        assert code == 1 and words in err, (args, err)

    code, out, err = _run(capsys, "numbers", "unassign", "+15125550102")
    assert code == 0, err
    assert "+15125550102" not in _business_numbers()
    assert "+15125550102" in _provider_numbers()
    code, _, err = _run(capsys, "numbers", "unassign", "+15125550102")
    assert code == 1 and "not given to any location" in err


def test_loadfile_number_must_be_provisioned(cli_env, good_doc, write_json, vonage_mode, dump, capsys):
    before = dump()
    code, _, err = _run(capsys, "load", write_json(good_doc))
    assert code == 1
    for ref, e164 in (("main", "+15125550100"), ("bo-line", "+15125550101")):
        assert f'acme.json: locations[0].numbers[{0 if ref == "main" else 1}] (ref "{ref}"): e164: {e164} is not ' \
               "a number of the provider account" in err
    assert "groupsms numbers sync" in err
    assert dump() == before  # nothing written

    with db.transaction() as s:  # after a sync that found them (one cannot text)
        s.add(ProviderNumber(e164="+15125550100", source="vonage", country="US"))
        s.add(ProviderNumber(e164="+15125550101", source="vonage", country="US", sms_capable=False))
    code, _, err = _run(capsys, "load", write_json(good_doc))
    assert code == 1
    assert 'numbers[1] (ref "bo-line"): e164: +15125550101 cannot send SMS' in err
    assert "numbers[0]" not in err

    good_doc["locations"][0]["numbers"].pop()
    code, _, err = _run(capsys, "load", write_json(good_doc))
    assert code == 0, err
    assert _business_numbers() == {"+15125550100": "acme"}


def test_loadfile_number_is_acquired_by_the_simulator(cli_env, good_doc, simulator_mode):
    good_doc["locations"][0]["numbers"][1]["e164"] = "+15125550190"  # not a standard simulator number
    load_data(good_doc, "acme.json")
    assert _provider_numbers() == {"+15125550100": "simulator", "+15125550190": "simulator"}
    assert _business_numbers() == {"+15125550100": "acme", "+15125550190": "acme"}
    with pytest.raises(LoadError):  # the explicit switch wins over the mode
        load_data({"locations": [{"ref": "birch", "name": "Birch", "numbers": [
            {"ref": "main", "e164": "+15125550191"}]}]}, "birch.json", provision=False)
