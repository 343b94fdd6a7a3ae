"""`groupsms load FILE.json`: upsert by ref, all errors at once, nothing half-written (README: Using it)."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from groupsms import cli, db, loadfile
from groupsms.models import (
    AuditEvent,
    BusinessNumber,
    Contact,
    Location,
    NumberAssignment,
    User,
)
from groupsms.security import verify_password


def _load(path: str, capsys) -> tuple[int, str, str]:
    code = cli.main(["load", path])
    out, err = capsys.readouterr()
    return code, out, err


def _rows(model, *where):
    with db.transaction() as s:
        return s.exec(select(model).where(*where)).all()


def _one(model, *where):
    (row,) = _rows(model, *where)
    return row


def test_load_good_file_creates_rows(cli_env, good_doc, write_json, capsys):
    code, out, err = _load(write_json(good_doc), capsys)

    assert (code, err) == (0, "")
    assert "created 1 location, 2 users, 2 numbers, 4 contacts" in out
    location = _one(Location)
    assert (location.ref, location.name) == ("acme", "Acme Realty")
    ada, bo = (_one(User, User.ref == ref) for ref in ("ada", "bo"))
    assert (ada.email, ada.role, ada.data_access) == ("ada@acme.test", "admin", "all")
    assert (bo.role, bo.data_access) == ("user", "assigned")
    assert verify_password(bo.password_hash, "bo-password-1")
    assert "bo-password-1" not in bo.password_hash
    main, line = (_one(BusinessNumber, BusinessNumber.ref == ref) for ref in ("main", "bo-line"))
    assert (main.e164, main.is_default) == ("+15125550100", True)
    assert (line.e164, line.is_default) == ("+15125550101", False)
    assert [(a.number_id, a.user_id) for a in _rows(NumberAssignment)] == [(line.id, bo.id)]
    carla, dave, erin, femi = (_one(Contact, Contact.ref == r) for r in ("carla", "dave", "erin", "femi"))
    assert (carla.primary_phone, carla.secondary_phone) == ("+15125550111", "+17375550111")
    assert carla.assigned_user_id == bo.id
    assert (dave.dnd_sms, carla.dnd_sms) == (True, False)
    assert erin.deleted_at is not None and carla.deleted_at is None and erin.assigned_user_id is None
    assert femi.primary_phone == "+447400123456"  # non-US/CA contacts are allowed
    assert all(c.location_id == location.id for c in (carla, dave, erin, femi))

    events = _rows(AuditEvent)
    assert len(events) == 1 + 2 + 2 + 4
    assert {e.action for e in events} == {f"load.{k}.created" for k in ("location", "user", "number", "contact")}
    assert all(e.actor_user_id is None and json.loads(e.detail)["source"].endswith("acme.json") for e in events)
    details = " ".join(e.detail for e in events)
    assert "bo-password-1" not in details and bo.password_hash not in details


def test_load_same_file_again_changes_nothing(cli_env, good_doc, write_json, dump, capsys):
    path = write_json(good_doc)
    assert _load(path, capsys)[0] == 0
    before = dump()

    code, out, _ = _load(path, capsys)

    assert code == 0
    assert "created nothing; updated nothing; 9 rows already up to date" in out
    assert dump() == before  # same counts, same updated_at, same password hashes, no audit event


def test_load_changed_file_updates_rows(cli_env, good_doc, write_json, capsys):
    assert _load(write_json(good_doc), capsys)[0] == 0
    carla_before, dave_before = (_one(Contact, Contact.ref == r) for r in ("carla", "dave"))
    events_before = len(_rows(AuditEvent))

    acme = good_doc["locations"][0]
    acme["name"] = "Acme Realty Group"
    acme["users"][1]["data_access"] = "all"
    acme["numbers"][0]["default"] = False
    acme["numbers"][1].update(label="Bo's cell", default=True, assigned_to=["ada"])
    acme["contacts"][0].update(name="Carla Mendes", secondary_phone=None, dnd=True, assigned_to=None)
    acme["contacts"][2]["deleted"] = False
    del acme["contacts"][3]  # rows not in the file are left as they are
    code, out, err = _load(write_json(good_doc), capsys)

    assert (code, err) == (0, "")
    assert "updated 1 location, 1 user, 2 numbers, 2 contacts" in out
    assert _one(Location).name == "Acme Realty Group"
    assert _one(User, User.ref == "bo").data_access == "all"
    main, line = (_one(BusinessNumber, BusinessNumber.ref == ref) for ref in ("main", "bo-line"))
    ada = _one(User, User.ref == "ada")
    assert (main.is_default, line.is_default, line.label) == (False, True, "Bo's cell")
    assert [(a.number_id, a.user_id) for a in _rows(NumberAssignment)] == [(line.id, ada.id)]
    carla, dave = (_one(Contact, Contact.ref == r) for r in ("carla", "dave"))
    assert (carla.name, carla.secondary_phone) == ("Carla Mendes", None)
    assert (carla.dnd_sms, carla.assigned_user_id) == (True, None)
    assert carla.updated_at > carla_before.updated_at
    assert dave.updated_at == dave_before.updated_at  # nothing changed for Dave
    assert _one(Contact, Contact.ref == "erin").deleted_at is None
    assert _one(Contact, Contact.ref == "femi").primary_phone == "+447400123456"
    updates = [e for e in _rows(AuditEvent)][events_before:]
    assert sorted(e.action for e in updates) == sorted(
        ["load.location.updated", "load.user.updated", "load.number.updated", "load.number.updated",
         "load.contact.updated", "load.contact.updated"]
    )
    carla_event = next(e for e in updates if e.action == "load.contact.updated" and e.object_id == carla.id)
    fields = set(json.loads(carla_event.detail)["fields"])
    assert fields == {"name", "secondary_phone", "dnd_sms", "assigned_user_id"}


def test_load_default_number_takes_default_from_numbers_not_in_file(cli_env, good_doc, write_json, capsys):
    assert _load(write_json(good_doc), capsys)[0] == 0
    doc = {"locations": [{"ref": "acme", "name": "Acme Realty", "numbers": [
        {"ref": "austin", "e164": "+15125550102", "label": "Austin", "default": True}]}]}
    assert _load(write_json(doc, "more.json"), capsys)[0] == 0
    defaults = [n.ref for n in _rows(BusinessNumber, BusinessNumber.is_default.is_(True))]
    assert defaults == ["austin"]


def test_load_password_rehashed_only_when_it_changed(cli_env, good_doc, write_json, capsys):
    assert _load(write_json(good_doc), capsys)[0] == 0
    hash_before = _one(User, User.ref == "bo").password_hash

    del good_doc["locations"][0]["users"][0]["password"]  # optional for an existing user
    assert _load(write_json(good_doc), capsys)[0] == 0
    assert _one(User, User.ref == "bo").password_hash == hash_before

    good_doc["locations"][0]["users"][1]["password"] = "a-new-password"
    code, out, _ = _load(write_json(good_doc), capsys)
    assert code == 0 and "updated 1 user" in out
    bo = _one(User, User.ref == "bo")
    assert bo.password_hash != hash_before and verify_password(bo.password_hash, "a-new-password")
    assert verify_password(_one(User, User.ref == "ada").password_hash, "ada-password-1")


def test_load_deleted_contact_keeps_its_first_deletion_time(cli_env, good_doc, write_json, capsys):
    assert _load(write_json(good_doc), capsys)[0] == 0
    deleted_at = _one(Contact, Contact.ref == "erin").deleted_at
    good_doc["locations"][0]["contacts"][2]["name"] = "Erin Still Gone"
    assert _load(write_json(good_doc), capsys)[0] == 0
    assert _one(Contact, Contact.ref == "erin").deleted_at == deleted_at


def test_load_data_returns_a_report(clean_db, good_doc):
    report = loadfile.load_data(good_doc, "inline")
    assert report.created == {"location": 1, "user": 2, "number": 2, "contact": 4}
    assert report.changed
    again = loadfile.load_data(good_doc, "inline")
    assert not again.changed and sum(again.unchanged.values()) == 9


# ---------------------------------------------------------------------------------------------
# Refused files: the message names the file, the entry and the field; the database is unchanged.


def _set(path: str, value):
    """A change to the good document: `path` like "users.1.role" inside locations[0]."""

    def change(doc):
        *parents, key = path.split(".")
        node = doc["locations"][0]
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        node[int(key) if key.isdigit() else key] = value
        return doc

    return change


def _drop(path: str):
    def change(doc):
        *parents, key = path.split(".")
        node = doc["locations"][0]
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        del node[key]
        return doc

    return change


def _duplicate_carla(doc):
    doc["locations"][0]["contacts"].append(dict(doc["locations"][0]["contacts"][0], primary_phone="+15125550199"))
    return doc


def _other_location_with(**user):
    def change(_doc):
        return {"locations": [{"ref": "birch", "name": "Birch Homes", "users": [
            {"ref": "admin", "email": "admin@birch.test", "name": "Bea Birch", "password": "birch-password",
             "role": "admin", "data_access": "all", **user}]}]}

    return change


BAD_FILES = {
    "unknown_role": (
        _set("users.1.role", "owner"),
        ['locations[0].users[1] (ref "bo"): role: must be "admin" or "user", got "owner"'],
    ),
    "invalid_phone": (
        _set("contacts.0.primary_phone", "555-12"),
        ['locations[0].contacts[0] (ref "carla"): primary_phone: ', "555-12"],
    ),
    "missing_ref": (_drop("numbers.1.ref"), ["locations[0].numbers[1]: ref: is required"]),
    "duplicate_ref": (
        _duplicate_carla,
        ['locations[0].contacts[4] (ref "carla"): ref: duplicate of contacts[0]'],
    ),
    "unknown_assigned_user": (
        _set("numbers.1.assigned_to", ["zed"]),
        ['locations[0].numbers[1] (ref "bo-line"): assigned_to: no user "zed" in location "acme"'],
    ),
    "unknown_assigned_user_of_contact": (
        _set("contacts.1.assigned_to", "zed"),
        ['locations[0].contacts[1] (ref "dave"): assigned_to: no user "zed" in location "acme"'],
    ),
    "duplicate_email_in_file": (
        _set("users.1.email", "ADA@acme.test"),
        ['locations[0].users[1] (ref "bo"): email: "ada@acme.test" is also used by '
         'locations[0].users[0] (ref "ada")'],
    ),
    "email_of_another_location": (
        _other_location_with(email="bo@acme.test"),
        ['locations[0].users[0] (ref "admin"): email: "bo@acme.test" is already used by '
         'user "bo" of location "acme"'],
    ),
    "number_of_another_location": (
        lambda doc: {"locations": [{"ref": "birch", "name": "Birch Homes", "numbers": [
            {"ref": "main", "e164": "+15125550100", "label": "Birch"}]}]},
        ['locations[0].numbers[0] (ref "main"): e164: +15125550100 is already number "main" of location "acme"'],
    ),
    "non_us_business_number": (
        _set("numbers.0.e164", "+447400123456"),
        ['locations[0].numbers[0] (ref "main"): e164: +447400123456 is a GB number; '
         'a business number must be a US or Canada number'],
    ),
    "two_default_numbers": (
        _set("numbers.1.default", True),
        ['locations[0].numbers[1] (ref "bo-line"): default: only one number of a location can be the default'],
    ),
    "wrong_type": (
        _set("contacts.1.dnd", "yes"),
        ['locations[0].contacts[1] (ref "dave"): dnd: must be true or false, got "yes"'],
    ),
    "unknown_key": (
        _set("contacts.0.birthday", "1990-01-01"),
        ['locations[0].contacts[0] (ref "carla"): birthday: unknown field'],
    ),
    "new_user_without_password": (
        lambda doc: {"locations": [{"ref": "birch", "name": "Birch Homes", "users": [
            {"ref": "admin", "email": "admin@birch.test", "name": "Bea Birch", "role": "admin"}]}]},
        ['locations[0].users[0] (ref "admin"): password: is required for a new user'],
    ),
    "weak_password": (
        _set("users.0.password", "short"),
        ['locations[0].users[0] (ref "ada"): password: Password must be at least 8 characters'],
    ),
    "invalid_json": (
        lambda doc: '{"locations": [\n  {"ref": "acme",, "name": "x"}\n]}',
        ["invalid JSON at line 2, column 18"],
    ),
    "not_an_object": (lambda doc: [1, 2], ['document: must be an object with "locations"']),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_load_bad_file_is_refused_and_changes_nothing(case, cli_env, good_doc, write_json, dump, capsys):
    assert _load(write_json(good_doc), capsys)[0] == 0
    before = dump()
    change, expected = BAD_FILES[case]

    path = write_json(change(json.loads(json.dumps(good_doc))), "bad.json")
    code, out, err = _load(path, capsys)

    assert code == 1
    assert out == ""
    assert "nothing was changed" in err
    for text in expected:
        assert f"{path}: " in err and text in err, err
    assert dump() == before


def test_load_reports_every_error_at_once(cli_env, good_doc, write_json, capsys):
    acme = good_doc["locations"][0]
    acme["users"][1]["role"] = "owner"
    acme["numbers"][0]["e164"] = "+447400123456"
    acme["contacts"][0]["primary_phone"] = "555-12"
    acme["contacts"][1]["dnd"] = "yes"
    del acme["contacts"][2]["ref"]
    code, _, err = _load(write_json(good_doc), capsys)
    assert code == 1
    assert "(5 errors)" in err
    for needle in ("role:", "e164:", "primary_phone:", "dnd:", "contacts[2]: ref: is required"):
        assert needle in err
    assert _rows(Location) == []


def test_load_missing_file_is_refused(cli_env, tmp_path, capsys):
    code, _, err = _load(str(tmp_path / "nope.json"), capsys)
    assert code == 1 and "nope.json: no such file" in err


def test_load_database_refusal_is_reported_and_rolls_back(
    cli_env, good_doc, write_json, dump, capsys, monkeypatch
):
    """Should a conflict get past validation, the database's refusal is reported and nothing stays."""
    assert _load(write_json(good_doc), capsys)[0] == 0
    before = dump()
    monkeypatch.setattr(loadfile, "_check_database", lambda s, plans, errors, **_: None)
    doc = {"locations": [{"ref": "birch", "name": "Birch Homes",
                          "users": [{"ref": "admin", "email": "admin@birch.test", "name": "Bea",
                                     "password": "birch-password", "role": "admin"}],
                          "numbers": [{"ref": "main", "e164": "+15125550100"}]}]}

    code, _, err = _load(write_json(doc, "birch.json"), capsys)

    assert code == 1
    assert 'locations[0].numbers[0] (ref "main"): the database refused it:' in err
    assert dump() == before  # the location and user written before the refusal are gone too
