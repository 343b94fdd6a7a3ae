"""Every service function, called as admin, full user, assigned-only user, a user of another
location and nobody: allowed or refused as the matrix says, and a refusal writes nothing.

A new public service function without a row here fails `test_matrix_covers_every_service_function`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select
from sqlmodel import SQLModel

from groupsms import db
from groupsms.errors import Forbidden, NotAuthenticated, NotFound
from groupsms.services import (
    SERVICE_MODULES,
    api_tokens,
    audit,
    contacts,
    groups,
    imports,
    inbox,
    inbound_events,
    integrations,
    location_settings,
    messages,
    numbers,
    phones,
    policy,
    sessions,
    users,
    webhook_subscriptions,
)
from tests.services.conftest import pick
from tests.services.test_phones import with_fake_simulator

ROLES = ("admin", "full", "assigned", "other", "nobody")
ACTOR_OF = {"admin": "ada", "full": "dana", "assigned": "bo", "other": "zed"}
OK = "allow"

# Entry points that run before anyone is signed in: they take credentials, not an actor.
PUBLIC = {
    "sessions.sign_in", "sessions.sign_in_async", "sessions.actor_for_token",
    # The API's bearer token in, its user's Actor out (tests/api check it refuses revoked tokens and
    # deactivated users).
    "api_tokens.authenticate",
    # The install owner's `groupsms api-token create`: whoever runs the CLI has the database already.
    "api_tokens.issue_token",
}


@dataclass(frozen=True)
class Row:
    call: Callable  # (world, actor, group_id) -> result
    admin: object = OK
    full: object = OK
    assigned: object = OK
    other: object = NotFound  # acme objects are invisible to birch's admin (R14)
    setup: Callable | None = None  # (world, group_id) -> x: data the call needs, made beforehand


def acme_only(**overrides) -> Row:
    """Reaches into acme objects: only acme users get through."""
    return Row(**overrides)


def admins_only(call) -> Row:
    """Needs an admin permission; birch's admin passes the role check, then finds nothing."""
    return Row(call, full=Forbidden, assigned=Forbidden)


def everyone(call) -> Row:
    """Works in the caller's own location; birch's admin gets birch data only (checked for leaks)."""
    return Row(call, other=OK)


W = lambda w: w  # noqa: E731  (readability in the table below)

MATRIX: dict[str, Row] = {
    "sessions.sign_out": everyone(lambda w, a, g, x=None: sessions.sign_out(a, "not-a-live-token-0123456789")),
    "users.list_users": everyone(lambda w, a, g, x=None: users.list_users(a)),
    "users.create_user": Row(
        lambda w, a, g, x=None: users.create_user(a, "new@acme.test", "New Person", "long-enough-pw"),
        full=Forbidden, assigned=Forbidden, other=OK,
    ),
    "users.set_user_role": admins_only(lambda w, a, g, x=None: users.set_user_role(a, w.users["bo"], "admin")),
    "users.set_user_data_access": admins_only(
        lambda w, a, g, x=None: users.set_user_data_access(a, w.users["bo"], "all")
    ),
    "users.set_user_password": Row(
        lambda w, a, g, x=None: users.set_user_password(a, w.users["bo"], "another-long-pw"),
        full=Forbidden, assigned=OK,
    ),
    "users.set_user_active": admins_only(lambda w, a, g, x=None: users.set_user_active(a, w.users["bo"], False)),
    "users.change_own_password": everyone(
        lambda w, a, g, x=None: users.change_own_password(a, "correct-horse-battery", "another-long-pw")
    ),
    "users.get_my_preferences": everyone(lambda w, a, g, x=None: users.get_my_preferences(a)),
    "users.set_my_preferences": everyone(
        lambda w, a, g, x=None: users.set_my_preferences(a, "America/Chicago", "12h")
    ),
    "numbers.list_numbers": everyone(lambda w, a, g, x=None: numbers.list_numbers(a)),
    "numbers.set_number_label": admins_only(
        lambda w, a, g, x=None: numbers.set_number_label(a, w.numbers["spare"], "Renamed line")
    ),
    "numbers.set_default_number": admins_only(
        lambda w, a, g, x=None: numbers.set_default_number(a, w.numbers["spare"])
    ),
    "numbers.assign_number": admins_only(
        lambda w, a, g, x=None: numbers.assign_number(a, w.numbers["spare"], [w.users["dana"]])
    ),
    "contacts.list_contacts": everyone(lambda w, a, g, x=None: contacts.list_contacts(a)),
    "contacts.get_contact": acme_only(call=lambda w, a, g, x=None: contacts.get_contact(a, w.contacts["carla"])),
    "contacts.duplicate_number_warnings": acme_only(
        call=lambda w, a, g, x=None: contacts.duplicate_number_warnings(a, w.contacts["carla"])
    ),
    "contacts.create_contact": everyone(
        lambda w, a, g, x=None: contacts.create_contact(a, "Rae Renter", "+15125550141")
    ),
    "contacts.update_contact": acme_only(
        call=lambda w, a, g, x=None: contacts.update_contact(a, w.contacts["carla"], name="Carla C.")
    ),
    "contacts.delete_contact": Row(
        lambda w, a, g, x=None: contacts.delete_contact(a, w.contacts["erin"]), full=Forbidden, assigned=Forbidden,
    ),
    # Merging removes a contact: the role needs the delete permission (users lack it by default).
    "contacts.merge_contacts": Row(
        lambda w, a, g, x=None: contacts.merge_contacts(a, w.contacts["carla"], w.contacts["erin"]),
        full=Forbidden, assigned=Forbidden,
    ),
    "contacts.set_contact_dnd": acme_only(
        call=lambda w, a, g, x=None: contacts.set_contact_dnd(a, w.contacts["dan"], True)
    ),
    "groups.picker_numbers": everyone(lambda w, a, g, x=None: groups.picker_numbers(a)),
    "groups.picker_contacts": everyone(lambda w, a, g, x=None: groups.picker_contacts(a)),
    "groups.picker_page": everyone(lambda w, a, g, x=None: groups.picker_page(a)),
    "location_settings.get_intro": everyone(lambda w, a, g, x=None: location_settings.get_intro(a)),
    "location_settings.set_intro": Row(
        lambda w, a, g, x=None: location_settings.set_intro(a, True, "Hi {names}, {business} here. Reply STOP to opt out."),
        full=Forbidden, assigned=Forbidden, other=OK,
    ),
    "groups.preview_group": acme_only(
        call=lambda w, a, g, x=None: groups.preview_group(a, w.numbers["main"], pick(w, "carla", "erin"))
    ),
    "groups.create_group": acme_only(
        call=lambda w, a, g, x=None: groups.create_group(a, w.numbers["main"], pick(w, "carla", "erin"))
    ),
    "groups.list_groups": everyone(lambda w, a, g, x=None: groups.list_groups(a)),
    "groups.get_group": acme_only(call=lambda w, a, g, x=None: groups.get_group(a, g)),
    "inbox.conversation_counts": everyone(lambda w, a, g, x=None: inbox.conversation_counts(a)),
    "inbox.new_replies": everyone(lambda w, a, g, x=None: inbox.new_replies(a, 0)),
    "groups.mark_read": acme_only(call=lambda w, a, g, x=None: groups.mark_read(a, g)),
    "groups.regroup_selection": acme_only(
        call=lambda w, a, g, x=None: groups.regroup_selection(a, g, w.contacts["dan"])
    ),
    "groups.rename_group": acme_only(call=lambda w, a, g, x=None: groups.rename_group(a, g, "12 Maple Ridge closing")),
    "groups.search_participants": acme_only(call=lambda w, a, g, x=None: groups.search_participants(a, g, "carla")),
    "messages.send_message": acme_only(call=lambda w, a, g, x=None: messages.send_message(a, g, "Hello all")),
    "messages.list_messages": acme_only(call=lambda w, a, g, x=None: messages.list_messages(a, g)),
    "messages.message_deliveries": acme_only(
        call=lambda w, a, g, x=None: messages.message_deliveries(a, x),
        setup=lambda w, g: messages.send_message(w.actors["ada"], g, "Hi"),
    ),
    "messages.list_needs_routing": everyone(lambda w, a, g, x=None: messages.list_needs_routing(a)),
    "messages.assign_inbound": acme_only(
        call=lambda w, a, g, x=None: messages.assign_inbound(a, x, g), setup=lambda w, g: _needs_routing(w, g)
    ),
    "messages.count_needs_routing_for_others": everyone(
        lambda w, a, g, x=None: messages.count_needs_routing_for_others(a)
    ),
    "messages.list_other_texts": everyone(lambda w, a, g, x=None: messages.list_other_texts(a)),
    "messages.get_other_text": acme_only(
        call=lambda w, a, g, x=None: messages.get_other_text(a, x), setup=lambda w, g: _other_text(w)
    ),
    "messages.dismiss_other_text": acme_only(
        call=lambda w, a, g, x=None: messages.dismiss_other_text(a, x), setup=lambda w, g: _other_text(w)
    ),
    "audit.list_audit_events": Row(
        lambda w, a, g, x=None: audit.list_audit_events(a), full=Forbidden, assigned=Forbidden, other=OK,
    ),
    "audit.audit_page": Row(
        lambda w, a, g, x=None: audit.audit_page(a, kind="users"), full=Forbidden, assigned=Forbidden, other=OK,
    ),
    "audit.audit_csv": Row(
        lambda w, a, g, x=None: audit.audit_csv(a, kind="contacts"), full=Forbidden, assigned=Forbidden, other=OK,
    ),
    "inbound_events.list_failed_inbound_events": Row(
        lambda w, a, g, x=None: inbound_events.list_failed_inbound_events(a), full=Forbidden,
        assigned=Forbidden, other=OK, setup=lambda w, g: _failed_event(),
    ),
    "inbound_events.retry_inbound_event": Row(
        lambda w, a, g, x=None: inbound_events.retry_inbound_event(a, x), full=Forbidden, assigned=Forbidden,
        setup=lambda w, g: _failed_event(),
    ),
    "policy.list_role_permissions": Row(
        lambda w, a, g, x=None: policy.list_role_permissions(a), full=Forbidden, assigned=Forbidden, other=OK,
    ),
    "policy.set_role_permission": Row(
        lambda w, a, g, x=None: policy.set_role_permission(a, "user", "contact", "delete", True),
        full=Forbidden, assigned=Forbidden, other=OK,
    ),
    "imports.preview_contacts_csv": everyone(
        lambda w, a, g, x=None: imports.preview_contacts_csv(a, "name,primary_phone\nRae Renter,512-555-0141\n")
    ),
    "imports.import_contacts_csv": everyone(
        lambda w, a, g, x=None: imports.import_contacts_csv(a, "name,primary_phone\nRae Renter,512-555-0141\n")
    ),
    "phones.list_handsets": everyone(lambda w, a, g, x=None: with_fake_simulator(phones.list_handsets, a)),
    "phones.handset_inbox": acme_only(
        call=lambda w, a, g, x=None: with_fake_simulator(phones.handset_inbox, a, "+15125550111")
    ),
    "phones.reply": acme_only(
        call=lambda w, a, g, x=None: with_fake_simulator(phones.reply, a, "+15125550111", "+15125550100", "Hi")
    ),
    # API tokens and webhook subscriptions: admins only, each in their own location.
    "api_tokens.list_tokens": Row(
        lambda w, a, g, x=None: api_tokens.list_tokens(a, include_revoked=True), full=Forbidden,
        assigned=Forbidden, other=OK, setup=lambda w, g: api_tokens.create_token(w.actors["ada"], w.users["bo"], "CRM"),
    ),
    "api_tokens.create_token": admins_only(
        lambda w, a, g, x=None: api_tokens.create_token(a, w.users["bo"], "Bo's CRM", ["read"])
    ),
    "api_tokens.revoke_token": Row(
        lambda w, a, g, x=None: api_tokens.revoke_token(a, x), full=Forbidden, assigned=Forbidden,
        setup=lambda w, g: api_tokens.create_token(w.actors["ada"], w.users["bo"], "CRM")[0],
    ),
    "webhook_subscriptions.list_subscriptions": Row(
        lambda w, a, g, x=None: webhook_subscriptions.list_subscriptions(a), full=Forbidden, assigned=Forbidden,
        other=OK, setup=lambda w, g: _subscription(w),
    ),
    "webhook_subscriptions.create_subscription": Row(
        lambda w, a, g, x=None: webhook_subscriptions.create_subscription(a, "http://crm.example.test/in",
                                                                          ["group.created"]),
        full=Forbidden, assigned=Forbidden, other=OK,
    ),
    "webhook_subscriptions.subscription_secret": Row(
        lambda w, a, g, x=None: webhook_subscriptions.subscription_secret(a, x), full=Forbidden,
        assigned=Forbidden, setup=lambda w, g: _subscription(w),
    ),
    "webhook_subscriptions.delete_subscription": Row(
        lambda w, a, g, x=None: webhook_subscriptions.delete_subscription(a, x), full=Forbidden,
        assigned=Forbidden, setup=lambda w, g: _subscription(w),
    ),
    "webhook_subscriptions.list_deliveries": Row(
        lambda w, a, g, x=None: webhook_subscriptions.list_deliveries(a, x), full=Forbidden,
        assigned=Forbidden, setup=lambda w, g: _subscription(w),
    ),
    "webhook_subscriptions.resend_delivery": Row(
        lambda w, a, g, x=None: webhook_subscriptions.resend_delivery(a, x), full=Forbidden,
        assigned=Forbidden, setup=lambda w, g: _delivery(w),
    ),
    # The REST API's contacts and groups by the CRM's ids: the same access as the pages' (R11-R14).
    "integrations.list_contacts": everyone(lambda w, a, g, x=None: integrations.list_contacts(a)),
    "integrations.get_contact": acme_only(call=lambda w, a, g, x=None: integrations.get_contact(a, "carla")),
    "integrations.contact_id_for": acme_only(call=lambda w, a, g, x=None: integrations.contact_id_for(a, "carla")),
    # External ids are per location: birch's admin makes birch's own "carla", acme's is untouched.
    "integrations.put_contact": everyone(
        lambda w, a, g, x=None: integrations.put_contact(
            a, "carla", name="Carla C.", primary_phone="+15125550111", secondary_phone="+15125550121")
    ),
    "integrations.resolve_group_request": acme_only(
        call=lambda w, a, g, x=None: integrations.resolve_group_request(
            a, "+15125550100", [{"contact": "carla"}, {"contact": "dan", "number": "primary"}])
    ),
    "integrations.list_groups": everyone(lambda w, a, g, x=None: integrations.list_groups(a)),
    "integrations.group_facts": acme_only(call=lambda w, a, g, x=None: integrations.group_facts(a, g)),
}


HOOK = "http://crm.acme.test/hook"  # private addresses are allowed in these tests (fixture below)


def _subscription(w) -> int:
    view, _ = webhook_subscriptions.create_subscription(w.actors["ada"], HOOK, ["group.created"])
    return view.id


def _delivery(w) -> int:
    """A group.created event waiting to go to Ada's subscription."""
    sub_id = _subscription(w)
    groups.create_group(w.actors["ada"], w.numbers["main"], pick(w, "carla", "erin"))
    [delivery] = webhook_subscriptions.list_deliveries(w.actors["ada"], sub_id)
    return delivery.id


@pytest.fixture(autouse=True)
def _webhooks_to_private_urls(monkeypatch):
    monkeypatch.setenv("GROUPSMS_WEBHOOK_ALLOW_PRIVATE", "1")
    from groupsms.messaging import webhook_out

    webhook_out.forget_subscriptions()
    yield
    webhook_out.forget_subscriptions()


def _needs_routing(w, group_id: int) -> int:
    """An inbound SMS from Carla, who is in two active groups on the main number (E2)."""
    from groupsms.messaging import inbound

    groups.create_group(w.actors["ada"], w.numbers["main"], pick(w, "carla", "fay"))
    event_id, _ = inbound.record_event(
        "inbound", {"msisdn": "15125550111", "to": "15125550100", "messageId": "m-route-1", "text": "Which group?"}
    )
    inbound.process_event(event_id)
    [item] = messages.list_needs_routing(w.actors["ada"])
    return item.message_id


def _failed_event() -> int:
    """An SMS to the main number whose processing gave up after its retries."""
    from groupsms.messaging import inbound
    from groupsms.models import InboundEvent, utcnow

    event_id, _ = inbound.record_event(
        "inbound", {"msisdn": "15125550111", "to": "15125550100", "messageId": "m-failed-1", "text": "Lost?"}
    )
    with db.transaction() as s:
        event = s.get(InboundEvent, event_id)
        event.attempts, event.gave_up_at, event.next_attempt_at = 10, utcnow(), None
        event.error = "RuntimeError: database hiccup"
        s.add(event)
    return event_id


def _other_text(w) -> int:
    """An inbound SMS from Max (Bo's contact, in no group) to the main number: an "Other text"."""
    from groupsms.messaging import inbound

    event_id, _ = inbound.record_event(
        "inbound", {"msisdn": "15125550119", "to": "15125550100", "messageId": "m-other-1", "text": "Max here"}
    )
    inbound.process_event(event_id)
    [item] = messages.list_other_texts(w.actors["bo"])
    return item.message_id


def _service_functions() -> set[str]:
    names = set()
    for module in SERVICE_MODULES:
        short = module.__name__.rsplit(".", 1)[1]
        for name, obj in inspect.getmembers(module, inspect.isfunction):
            if obj.__module__ == module.__name__ and not name.startswith("_"):
                names.add(f"{short}.{name}")
    return names


def test_matrix_covers_every_service_function():
    functions = _service_functions()
    missing = functions - set(MATRIX) - PUBLIC
    stale = (set(MATRIX) | PUBLIC) - functions
    assert not missing, f"service functions without an authorization matrix row: {sorted(missing)}"
    assert not stale, f"matrix rows for functions that no longer exist: {sorted(stale)}"


def test_every_actor_taking_service_function_takes_the_actor_first():
    for module in SERVICE_MODULES:
        short = module.__name__.rsplit(".", 1)[1]
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ != module.__name__ or name.startswith("_") or f"{short}.{name}" in PUBLIC:
                continue
            first = next(iter(inspect.signature(fn).parameters))
            assert first == "actor", f"{short}.{name} must take the acting user first"


def _fingerprint() -> dict[str, int]:
    """Row count per table plus the policy version: enough to see that a refusal wrote nothing."""
    counts = {}
    with db.transaction() as s:
        for table in SQLModel.metadata.sorted_tables:
            counts[table.name] = s.exec(select(func.count()).select_from(table)).one()[0]
        from groupsms.access.policy import current_version

        counts["policy_version"] = current_version(s)
    return counts


ACME_SECRETS = ("acme.test", "Carla Client", "Dan Buyer", "+1512555", "(512) 555", "Main office")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(MATRIX))
def test_authorization_matrix(world, name, role):
    row = MATRIX[name]
    group_id = groups.create_group(world.actors["ada"], world.numbers["main"], pick(world, "carla", "dan"))
    actor = world.actors.get(ACTOR_OF.get(role, ""))
    expected = NotAuthenticated if role == "nobody" else getattr(row, role)
    extra = row.setup(world, group_id) if row.setup else None
    before = _fingerprint()
    if expected is OK:
        result = row.call(world, actor, group_id, extra)
        if role == "other":
            assert not any(secret in repr(result) for secret in ACME_SECRETS), f"{name} leaked acme data"
    else:
        with pytest.raises(expected):
            row.call(world, actor, group_id, extra)
        assert _fingerprint() == before, f"{name} as {role} was refused but wrote something"


def test_policy_change_by_another_location_leaves_acme_alone(world):
    before = {(r.obj, r.act, r.roles) for r in policy.list_role_permissions(world.actors["ada"])}
    assert policy.set_role_permission(world.actors["zed"], "user", "contact", "write", False)
    after = {(r.obj, r.act, r.roles) for r in policy.list_role_permissions(world.actors["ada"])}
    assert after == before
    contacts.create_contact(world.actors["dana"], "Still Allowed", "+15125550142")
