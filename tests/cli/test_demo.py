"""The demo locations (`groupsms demo`) and the installed console script."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import phonenumbers
from sqlmodel import func, select

from groupsms import cli, db
from groupsms.demo import demo_data, demo_logins, load_demo
from groupsms.domain.phones import is_us_ca
from groupsms.models import BusinessNumber, Contact, Location, NumberAssignment, User
from groupsms.security import verify_password


def _all_phone_numbers(data: dict) -> list[str]:
    numbers = []
    for location in data["locations"]:
        numbers += [n["e164"] for n in location["numbers"]]
        for contact in location["contacts"]:
            numbers += [p for p in (contact["primary_phone"], contact["secondary_phone"]) if p]
    return numbers


def test_demo_phone_numbers_are_valid_e164_and_unique():
    numbers = _all_phone_numbers(demo_data())
    assert len(numbers) == len(set(numbers))
    for number in numbers:
        parsed = phonenumbers.parse(number, None)
        assert phonenumbers.is_valid_number(parsed), number
        assert phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) == number


def test_demo_loads_with_its_promised_properties(clean_db):
    report = load_demo()
    assert report.created == {"location": 2, "user": 4, "number": 4, "contact": 23}

    with db.transaction() as s:
        acme = s.exec(select(Location).where(Location.ref == "acme")).one()
        birch = s.exec(select(Location).where(Location.ref == "birch")).one()
        assert (acme.name, birch.name) == ("Acme Realty", "Birch Homes")
        users = {u.email: u for u in s.exec(select(User))}
        contacts = s.exec(select(Contact).where(Contact.location_id == acme.id)).all()
        numbers = {n.ref: n for n in s.exec(select(BusinessNumber).where(BusinessNumber.location_id == acme.id))}
        assigned = {a.number_id: a.user_id for a in s.exec(select(NumberAssignment))}
        birch_counts = [
            s.exec(select(func.count()).select_from(model).where(model.location_id == birch.id)).one()
            for model in (User, BusinessNumber, Contact)
        ]

    expected = {
        "admin@acme.test": ("Ada Admin", "admin", "all", "admin-demo-pass"),
        "dana@acme.test": ("Dana Full", "user", "all", "dana-demo-pass"),
        "bo@acme.test": ("Bo Assigned", "user", "assigned", "bo-demo-pass"),
        "admin@birch.test": (None, "admin", "all", "birch-demo-pass"),
    }
    for email, (name, role, access, password) in expected.items():
        user = users[email]
        assert (user.role, user.data_access) == (role, access)
        assert name is None or user.name == name
        assert verify_password(user.password_hash, password)
    dana, bo = users["dana@acme.test"], users["bo@acme.test"]

    assert len(contacts) == 20
    assert sum(c.dnd_sms for c in contacts) >= 2
    assert sum(not is_us_ca(c.primary_phone) for c in contacts) >= 2
    assert sum(c.deleted_at is not None for c in contacts) == 1
    eligible_for_bo = [
        c for c in contacts
        if c.assigned_user_id == bo.id and not c.dnd_sms and c.deleted_at is None and is_us_ca(c.primary_phone)
    ]
    assert len(eligible_for_bo) >= 6
    assert any(c.assigned_user_id == dana.id for c in contacts)
    assert any(c.assigned_user_id is None for c in contacts)
    assert any(c.secondary_phone for c in contacts)
    assert len({c.name.split()[0] for c in contacts}) == 20  # replies are signed with first names

    assert [n.ref for n in numbers.values() if n.is_default] == ["main"]
    assert numbers["main"].label == "Main office"
    assert assigned.get(numbers["dana-line"].id) == dana.id
    assert numbers["toronto"].id not in assigned
    assert phonenumbers.region_code_for_number(phonenumbers.parse(numbers["toronto"].e164)) == "CA"
    assert all(is_us_ca(n.e164) for n in numbers.values())
    assert birch_counts == [1, 1, 3]


def test_demo_is_idempotent(cli_env, dump, capsys):
    assert cli.main(["demo"]) == 0
    before = dump()
    capsys.readouterr()

    assert cli.main(["demo"]) == 0
    out, err = capsys.readouterr()

    assert err == ""
    assert dump() == before
    assert "already up to date" in out
    assert not load_demo().changed


def test_demo_prints_the_logins_and_the_url(cli_env, capsys):
    assert cli.main(["demo"]) == 0
    out = capsys.readouterr().out
    for login in demo_logins():
        line = next(line for line in out.splitlines() if login["email"] in line)
        assert login["password"] in line and login["role"] in line
    assert "assigned only" in out
    assert "http://localhost:3000" in out


def test_console_script_db_upgrade_then_demo(tmp_path):
    script = Path(sys.executable).parent / "groupsms"
    env = {**os.environ, "GROUPSMS_DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}"}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(script), *args], env=env, capture_output=True, text=True, timeout=120)

    upgrade = run("db", "upgrade")
    assert upgrade.returncode == 0, upgrade.stderr
    assert f"Database is at the latest schema (sqlite:///{tmp_path / 'fresh.db'})" in upgrade.stdout

    demo = run("demo")
    assert demo.returncode == 0, demo.stderr
    for login in demo_logins():
        assert login["email"] in demo.stdout and login["password"] in demo.stdout
    assert "http://localhost:3000" in demo.stdout

    again = run("demo")
    assert again.returncode == 0 and "already up to date" in again.stdout
