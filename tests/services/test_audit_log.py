"""The audit log people read (E8): sentences with before → after, filters by person, kind and local
date, paging past 50, the CSV export; and the viewer's clock: captured at sign-in, set in the profile."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from groupsms import db
from groupsms.domain import audit_text
from groupsms.domain.clock import Clock
from groupsms.errors import Forbidden, ValidationError
from groupsms.models import AuditEvent, AuthSession, User
from groupsms.services import audit, contacts, groups, numbers, policy, sessions, users
from groupsms.security import token_hash
from tests.services.conftest import PASSWORD, pick

CHICAGO = Clock("America/Chicago", True)


def _sentences(actor, **filters) -> list[str]:
    return [e.sentence for e in audit.audit_page(actor, **filters).entries]


def _add_events(location_id: int, actor_id: int | None, action: str, times: list[datetime]) -> None:
    with db.transaction() as s:
        for at in times:
            s.add(AuditEvent(location_id=location_id, actor_user_id=actor_id, action=action, object_type="user",
                             object_id=actor_id, detail="{}", created_at=at))


# -- sentences ------------------------------------------------------------------------------------

def test_e8_contact_edit_reads_as_a_sentence_with_before_and_after(world):
    a, c = world.actors, world.contacts
    contacts.update_contact(a["ada"], c["carla"], name="Carla Mendes", primary_phone="+15125550131")
    top = audit.audit_page(a["ada"]).entries[0]
    assert top.kind == "contacts"
    assert top.sentence == ("Ada Admin changed Carla Mendes's name from 'Carla Client' to 'Carla Mendes' and "
                            "primary phone from '(512) 555-0111' to '(512) 555-0131'")


def test_e8_user_number_policy_and_group_changes_read_as_sentences(world):
    a, u, n = world.actors, world.users, world.numbers
    users.set_user_role(a["ada"], u["dana"], "admin")
    users.set_user_data_access(a["ada"], u["bo"], "all")
    numbers.assign_number(a["ada"], n["spare"], [u["bo"], u["dana"]])
    numbers.set_number_label(a["ada"], n["spare"], "Open house line")
    policy.set_role_permission(a["ada"], "user", "contact", "delete", True)
    groups.create_group(a["bo"], n["main"], pick(world, "carla", "dan"))
    contacts.set_contact_dnd(a["bo"], world.contacts["carla"], True)
    got = _sentences(a["ada"])
    assert got[:7] == [
        "Bo Assigned turned DND on for Carla Client, locking 1 group",
        "Bo Assigned created the group with 2 participants on +15125550100",
        "Ada Admin allowed Users to: delete contacts",
        "Ada Admin changed the label of (512) 555-0102 from 'Spare' to 'Open house line'",
        "Ada Admin changed who is assigned Open house line (512) 555-0102 from nobody (unassigned) to "
        "Bo Assigned, Dana Full",
        "Ada Admin changed Bo Assigned's data access from 'Assigned data only' to 'All data'",
        "Ada Admin changed Dana Full's role from User to Admin",
    ]


def test_every_audited_action_has_a_sentence():
    """Every action written by `audit(...)` in the services reads as words of its own."""
    root = Path(__file__).resolve().parents[2] / "groupsms"
    found = set()
    for path in [*(root / "services").glob("*.py"), *(root / "loadfile").glob("*.py")]:
        text = path.read_text()
        found |= set(re.findall(r'audit\(\s*s,\s*\w+,\s*"([a-z_.]+)"', text))
        found |= set(re.findall(r'"(user\.activated)" if active else "(user\.deactivated)"', text) and
                     ["user.activated", "user.deactivated"])
    assert len(found) > 25
    missing = sorted(a for a in found if a not in audit_text._SENTENCES)
    assert not missing, f"audited actions without a sentence: {missing}"
    assert audit_text.sentence("", "load.contact.updated", "contact", 3, {"ref": "carla", "fields": ["name"]}) == (
        "groupsms updated contact 'carla' from a load file (name)")


def test_unknown_actions_and_odd_details_still_read():
    assert audit_text.sentence("Ada", "thing.happened", "gadget", 4, {}) == "Ada: thing happened (gadget #4)"
    assert audit_text.sentence("Ada", "user.role_changed", "user", 4, {"old": 3}).startswith("Ada changed")
    assert audit_text.sentence("Ada", "contact.updated", "contact", 4, {"fields": ["name"]}) == (
        "Ada edited contact #4 (name)")


# -- filters and pages ----------------------------------------------------------------------------

def test_e8_filter_by_person_and_kind(world):
    a, u = world.actors, world.users
    contacts.update_contact(a["dana"], world.contacts["erin"], name="Erin S.")
    users.set_user_role(a["ada"], u["bo"], "admin")
    sessions.sign_in("dana@acme.test", PASSWORD)
    by_dana = audit.audit_page(a["ada"], person=str(u["dana"])).entries
    assert [e.action for e in by_dana] == ["contact.updated"]  # her sign-in is a sign-in, hidden by default
    assert [e.action for e in audit.audit_page(a["ada"], kind="users").entries] == ["user.role_changed"]
    signins = audit.audit_page(a["ada"], kind="sign-ins", person=u["dana"]).entries
    assert [e.sentence for e in signins] == ["Dana Full signed in"]
    assert audit.audit_page(a["ada"], person="system").entries == []


def test_e8_date_filter_reads_days_in_the_viewers_zone(world):
    loc, ada_id = world.locations["acme"], world.users["ada"]
    # 03:00 UTC on Dec 2 is 9 PM on Dec 1 in Chicago.
    _add_events(loc, ada_id, "user.password_changed", [datetime(2026, 12, 2, 3, 0, tzinfo=UTC)])
    chicago = dataclasses.replace(world.actors["ada"], clock=CHICAGO)
    utc = world.actors["ada"]
    assert len(audit.audit_page(chicago, date_from="2026-12-01", date_to="2026-12-01").entries) == 1
    assert audit.audit_page(chicago, date_from="2026-12-02", date_to="2026-12-02").entries == []
    assert audit.audit_page(utc, date_from="2026-12-01", date_to="2026-12-01").entries == []
    assert len(audit.audit_page(utc, date_from="2026-12-02").entries) == 1


@pytest.mark.parametrize("filters, message", [
    ({"kind": "gossip"}, "Kind must be one of"),
    ({"date_from": "12/01/2026"}, "From date must be a date like 2026-12-01"),
    ({"date_to": "2026-02-30"}, "To date must be a date"),
    ({"date_from": "2026-12-02", "date_to": "2026-12-01"}, "The to date is before the from date"),
    ({"person": "Ada"}, "Person must be a user of this location"),
])
def test_bad_filters_are_refused_with_the_reason(world, filters, message):
    with pytest.raises(ValidationError, match=message):
        audit.audit_page(world.actors["ada"], **filters)
    with pytest.raises(ValidationError, match=message):
        audit.audit_csv(world.actors["ada"], **filters)


def test_e8_pages_of_50_go_older_and_newer(world):
    loc, ada_id = world.locations["acme"], world.users["ada"]
    start = datetime(2026, 11, 1, tzinfo=UTC)
    _add_events(loc, ada_id, "user.password_changed", [start + timedelta(minutes=i) for i in range(120)])
    ada = world.actors["ada"]
    first = audit.audit_page(ada, kind="users")
    assert len(first.entries) == 50 and first.has_older and not first.has_newer
    second = audit.audit_page(ada, kind="users", before_id=first.entries[-1].id)
    assert len(second.entries) == 50 and second.has_older and second.has_newer
    third = audit.audit_page(ada, kind="users", before_id=second.entries[-1].id)
    assert len(third.entries) == 20 and not third.has_older and third.has_newer
    ids = [e.id for p in (first, second, third) for e in p.entries]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 120
    back = audit.audit_page(ada, kind="users", after_id=third.entries[0].id)
    assert [e.id for e in back.entries] == [e.id for e in second.entries]
    # Another location's events never show, whatever the cursor.
    zed_page = audit.audit_page(world.actors["zed"], kind="users", before_id=first.entries[0].id + 1)
    assert zed_page.entries == []


def test_e8_csv_has_the_filtered_rows_in_the_viewers_zone_and_no_formulas(world):
    a = world.actors
    evil = contacts.create_contact(a["ada"], "=HYPERLINK(\"http://x\")", "+15125550177")
    contacts.update_contact(a["ada"], evil, name="@Safe Name")
    users.set_user_role(a["ada"], world.users["bo"], "admin")
    chicago = dataclasses.replace(a["ada"], clock=CHICAGO)
    text = audit.audit_csv(chicago, kind="contacts")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["When (America/Chicago)", "Who", "Kind", "What", "Action", "Object", "Detail"]
    assert [r[4] for r in rows[1:]] == ["contact.updated", "contact.created"]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d -0[56]:00", r[0]) for r in rows[1:])
    assert rows[1][3] == "Ada Admin changed @Safe Name's name from '=HYPERLINK(\"http://x\")' to '@Safe Name'"
    for row in rows[1:]:
        assert all(cell[:1] not in "=+-@" or cell == "" for cell in row)
    assert audit_text.csv_cell("=1+2") == "'=1+2" and audit_text.csv_cell("-3") == "'-3"
    assert audit_text.csv_cell("+1 512") == "'+1 512" and audit_text.csv_cell("Ada") == "Ada"
    with pytest.raises(Forbidden):
        audit.audit_csv(a["dana"])


# -- the viewer's clock ---------------------------------------------------------------------------

def _session_row(token: str) -> AuthSession:
    with db.read() as s:
        return s.exec(select(AuthSession).where(AuthSession.token_hash == token_hash(token))).one()


def test_sign_in_keeps_the_browsers_zone_and_locale(world):
    token, actor = sessions.sign_in("bo@acme.test", PASSWORD, None, "America/Chicago", "en-US-u-hc-h12")
    assert actor.clock == CHICAGO
    row = _session_row(token)
    assert (row.browser_zone, row.browser_locale) == ("America/Chicago", "en-US-u-hc-h12")
    assert sessions.actor_for_token(token).clock == CHICAGO


@pytest.mark.parametrize("zone, locale", [
    ("Mars/Olympus", "en-US-u-hc-h12"), ("America/Chicago'; drop", "x" * 200), (42, ["en"]),
    ("", "en-US<script>"),
])
def test_sign_in_drops_what_is_not_a_zone_or_a_locale(world, zone, locale):
    token, actor = sessions.sign_in("bo@acme.test", PASSWORD, None, zone, locale)
    row = _session_row(token)
    assert row.browser_zone in ("",) and len(row.browser_locale) <= 35
    assert actor.clock.zone_name == "UTC"


def test_profile_time_zone_and_clock_apply_to_the_next_lookup(world):
    token, actor = sessions.sign_in("dana@acme.test", PASSWORD, None, "America/Chicago", "en-US-u-hc-h12")
    assert sessions.actor_for_token(token, cached=True).clock == CHICAGO  # now in the cache
    users.set_my_preferences(actor, "Europe/Berlin", "24h")
    assert sessions.actor_for_token(token, cached=True).clock == Clock("Europe/Berlin", False)
    prefs = users.get_my_preferences(actor, token)
    assert (prefs.time_zone, prefs.clock, prefs.browser_zone) == ("Europe/Berlin", "24h", "America/Chicago")
    users.set_my_preferences(actor, "", "")  # back to automatic: the browser's again
    assert sessions.actor_for_token(token).clock == CHICAGO
    sentences = _sentences(world.actors["ada"], kind="users", person=world.users["dana"])
    assert sentences[:2] == [
        "Dana Full changed their clock from 24-hour to Automatic and time zone from 'Europe/Berlin' to Automatic",
        "Dana Full changed their clock from Automatic to 24-hour and time zone from Automatic to 'Europe/Berlin'",
    ]


@pytest.mark.parametrize("zone, clock, message", [
    ("Mars/Olympus", "", "'Mars/Olympus' is not a time zone"),
    ("America/Chicago", "13h", 'Clock must be "12h", "24h" or ""'),
    (None, "", "Time zone must be text"),
])
def test_bad_preferences_are_refused_and_nothing_changes(world, zone, clock, message):
    with pytest.raises(ValidationError, match=message):
        users.set_my_preferences(world.actors["bo"], zone, clock)
    with db.read() as s:
        bo = s.get(User, world.users["bo"])
        assert (bo.time_zone, bo.clock) == ("", "")
        assert json.loads("{}") == {}
