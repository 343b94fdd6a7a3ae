"""Opt-outs that belong to the phone number, keywords that are right, and no pumping (E1, R10).

Through the real inbound processing, the outbox and the worker with a fake gateway.
"""

from __future__ import annotations

import pytest

from groupsms import db, loadfile
from groupsms.errors import ValidationError
from groupsms.messaging import optout
from groupsms.messaging.fake_gateway import FakeGateway
from groupsms.models import BusinessNumber, Contact, Delivery, Message, OptOut
from groupsms.services import contacts, groups, imports, messages
from tests.services.conftest import pick
from tests.services.test_messaging import drain, rows, sms_in

CARLA, CARLA_2, DAN, ERIN, FAY = "+15125550111", "+15125550121", "+15125550112", "+15125550113", "+15125550114"


def texts_to(fake: FakeGateway, e164: str) -> list[str]:
    return [r.text for r in fake.sent if r.to_e164 == e164]


def opted_out(location_id: int, e164: str) -> bool:
    with db.transaction() as s:
        return optout.number_opted_out(s, location_id, e164)


# -- 1. "Yes" swallowed ---------------------------------------------------------------------------

@pytest.mark.parametrize("reply", ["Yes", "Yes \U0001f44d", "YES!", "start", "unstop"])
def test_plain_yes_is_relayed_not_taken_as_opt_in(world, group4, fake, worker, reply):
    sms_in(CARLA[1:], reply, "in-yes")
    drain(worker)
    assert sorted(r.to_e164 for r in fake.sent) == [DAN, ERIN, FAY]
    assert {r.text for r in fake.sent} == {f"Carla: {reply}"}
    assert texts_to(fake, CARLA) == []  # no "you are resubscribed"
    [msg] = rows(Message, Message.provider_ref == "in-yes")
    assert msg.group_id == group4 and msg.notice is None


def test_yes_from_a_number_that_opted_out_by_text_opts_it_back_in(world, group4, fake, worker):
    sms_in(DAN[1:], "STOP", "in-stop")
    sms_in(DAN[1:], "Yes", "in-yes")
    drain(worker)
    assert [t.split(": ", 1)[1][:20] for t in texts_to(fake, DAN)] == ["you are unsubscribed", "you are resubscribed"]
    assert not opted_out(world.locations["acme"], DAN)
    assert rows(Message, Message.provider_ref == "in-yes")[0].notice == "Opt-in: not relayed"
    assert len(fake.sent) == 2  # neither keyword was relayed


def test_opt_in_never_lifts_a_dnd_staff_set(world, group4, fake, worker):
    contacts.set_contact_dnd(world.actors["bo"], world.contacts["dan"], True)
    sms_in(DAN[1:], "STOP", "in-stop")
    sms_in(DAN[1:], "START", "in-start")
    drain(worker)
    assert rows(Contact, Contact.id == world.contacts["dan"])[0].dnd_sms
    assert opted_out(world.locations["acme"], DAN)
    # The confirmation of the STOP, and no "resubscribed": the number still gets nothing.
    assert [t.split(": ", 1)[1][:20] for t in texts_to(fake, DAN)] == ["you are unsubscribed"]


def test_start_from_a_number_with_only_staff_dnd_is_an_ordinary_reply(world, group4, fake, worker):
    contacts.set_contact_dnd(world.actors["bo"], world.contacts["dan"], True)
    sms_in(DAN[1:], "START", "in-start")
    drain(worker)
    assert fake.sent == []  # the group is locked (R10): stored, not relayed, no automatic reply
    [msg] = rows(Message, Message.provider_ref == "in-start")
    assert msg.group_id == group4 and msg.notice is None
    assert rows(Contact, Contact.id == world.contacts["dan"])[0].dnd_sms


# -- 2. Missed opt-out words ----------------------------------------------------------------------

@pytest.mark.parametrize("word", [
    "STOP ALL", "Opt out", "OPT-OUT", "Stop.", "\u0405\u0422\u041e\u0420", "S\u200bT\u200dOP", "S T O P",
    "revoke", "\U0001d412\U0001d413\U0001d40e\U0001d40f",
])
def test_missed_opt_out_words_opt_out_and_are_not_relayed(world, group4, fake, worker, word):
    sms_in(DAN[1:], word, "in-word")
    drain(worker)
    assert [r.to_e164 for r in fake.sent] == [DAN] and "unsubscribed" in fake.sent[0].text
    [row] = rows(OptOut, OptOut.e164 == DAN)
    assert row.active and row.via == "text"
    assert groups.get_group(world.actors["bo"], group4).locked_reason.startswith("Dan Buyer: Opted out by text on ")


# -- 3. Opt-outs per number -----------------------------------------------------------------------

def test_stop_from_number_no_contact_holds_locks_groups_texting_it(world, group4, fake, worker):
    bo, ada = world.actors["bo"], world.actors["ada"]
    erin_group = groups.create_group(ada, world.numbers["spare"], pick(world, "erin", "hal"))
    other = groups.create_group(bo, world.numbers["main"], pick(world, "lea", "max"))
    contacts.update_contact(bo, world.contacts["dan"], primary_phone="+15125550141")  # R8: group4 keeps 0112
    contacts.delete_contact(ada, world.contacts["erin"])  # her groups keep texting 0113
    sms_in(DAN[1:], "STOP", "in-stop-dan")
    detail = groups.get_group(bo, group4)
    assert detail.locked_reason.startswith("Dan Buyer: Opted out by text on ") and not detail.can_send
    sms_in(ERIN[1:], "unsubscribe", "in-stop-erin")
    drain(worker)
    assert groups.get_group(ada, erin_group).locked_reason.startswith("Erin Seller: Opted out by text on ")
    assert groups.get_group(bo, other).locked_reason is None
    assert len(texts_to(fake, DAN)) == 1 and len(texts_to(fake, ERIN)) == 1
    assert all("unsubscribed" in t for t in texts_to(fake, DAN) + texts_to(fake, ERIN))
    with pytest.raises(Exception, match="locked"):
        messages.send_message(ada, erin_group, "Still there?")


def test_stop_from_a_stranger_is_recorded_and_the_number_cannot_join_a_group_later(world, fake, worker):
    sms_in("15125550199", "Stop", "in-stranger")
    drain(worker)
    assert texts_to(fake, "+15125550199") and "unsubscribed" in texts_to(fake, "+15125550199")[0]
    bo = world.actors["bo"]
    new = contacts.create_contact(bo, "Nora New", "+15125550199")
    [option] = [o for o in groups.picker_contacts(bo, "Nora") if o.e164 == "+15125550199"]
    assert option.disabled_reason.startswith("Opted out by text on ")
    with pytest.raises(ValidationError, match="Opted out by text on"):
        groups.create_group(bo, world.numbers["main"], [(new, "primary"), (world.contacts["fay"], "primary")])
    assert contacts.get_contact(bo, new).primary_opted_out.startswith("Opted out by text on ")


def test_stop_locks_every_group_of_the_location_that_texts_the_number(world, group4, fake, worker):
    ada = world.actors["ada"]
    on_spare = groups.create_group(ada, world.numbers["spare"], pick(world, "dan", "hal"))
    waiting = messages.send_message(ada, on_spare, "Inspection moved")  # queued before the STOP
    sms_in(DAN[1:], "cancel", "in-stop")  # to the main number
    drain(worker)
    assert groups.get_group(ada, on_spare).locked_reason.startswith("Dan Buyer: Opted out by text on ")
    assert len(texts_to(fake, DAN)) == 1  # only the confirmation, from main
    [blocked] = rows(Delivery, Delivery.message_id == waiting, Delivery.to_e164 == DAN)
    assert blocked.status == "failed" and blocked.error_code == "blocked"


def test_no_sms_to_an_opted_out_number_but_the_confirmation_even_from_a_system_reply(world, group4, fake, worker):
    sms_in(DAN[1:], "STOP", "in-stop")
    sms_in(DAN[1:], "HELP", "in-help")  # no HELP answer to an opted-out number
    drain(worker)
    with db.transaction() as s:  # a send some path queued anyway is refused by the worker
        number = s.get(BusinessNumber, world.numbers["main"])
        optout._reply(s, number, DAN, optout.HELP_REPLY, confirmation=False)
    drain(worker)
    assert len(texts_to(fake, DAN)) == 1 and "unsubscribed" in texts_to(fake, DAN)[0]


def test_second_stop_gets_no_second_confirmation(world, group4, fake, worker):
    for i, word in enumerate(["STOP", "stop all", "Opt-out", "STOP"]):
        sms_in(DAN[1:], word, f"in-stop-{i}")
    drain(worker)
    assert len(texts_to(fake, DAN)) == 1
    [row] = rows(OptOut, OptOut.e164 == DAN)
    assert row.keyword == "STOP" and row.confirmation_message_id is not None
    assert all(m.notice == "Opt-out: not relayed" for m in rows(Message, Message.from_e164 == DAN))


def test_stop_after_start_is_a_new_opt_out_with_its_confirmation(world, group4, fake, worker):
    sms_in(DAN[1:], "STOP", "a")
    sms_in(DAN[1:], "START", "b")
    drain(worker)
    sms_in(DAN[1:], "QUIT", "c")
    drain(worker)
    assert [t.split(": ", 1)[1][:14] for t in texts_to(fake, DAN)] == [
        "you are unsubs", "you are resubs", "you are unsubs"]
    [row] = rows(OptOut, OptOut.e164 == DAN)
    assert row.active and row.keyword == "QUIT"


def test_staff_cannot_lift_opt_out_made_by_text(world, group4, fake, worker):
    bo, ada = world.actors["bo"], world.actors["ada"]
    sms_in(DAN[1:], "STOP", "in-stop")
    acme = world.locations["acme"]
    # DND switched on and off in the app, the CSV import saying "no", an edit of the contact:
    contacts.set_contact_dnd(bo, world.contacts["dan"], True)
    contacts.set_contact_dnd(bo, world.contacts["dan"], False)
    imports.import_contacts_csv(ada, "name,primary_phone,dnd\nDan Buyer,(512) 555-0112,no\n")
    contacts.update_contact(bo, world.contacts["dan"], name="Dan B. Buyer")
    loadfile.load_data({"locations": [{"ref": "acme", "name": "Acme Realty", "contacts": [
        {"ref": "dan", "name": "Dan Buyer", "primary_phone": "+15125550112", "dnd": False}]}]}, "acme.json",
        provision=True)
    assert opted_out(acme, DAN)
    assert contacts.get_contact(bo, world.contacts["dan"]).primary_opted_out.startswith("Opted out by text on ")
    with pytest.raises(ValidationError, match="Opted out by text on"):
        groups.create_group(bo, world.numbers["spare"], pick(world, "dan", "fay"))
    # Only the number's own START lifts it, and that START gets its one reply.
    sms_in(DAN[1:], "START", "in-start")
    drain(worker)
    assert not opted_out(acme, DAN)
    assert [t.split(": ", 1)[1][:14] for t in texts_to(fake, DAN)] == ["you are unsubs", "you are resubs"]
    assert contacts.get_contact(bo, world.contacts["dan"]).primary_opted_out == ""


def test_opted_out_number_of_a_contact_with_two_numbers_blocks_only_that_number(world, fake, worker):
    bo = world.actors["bo"]
    sms_in(CARLA_2[1:], "STOP", "in-stop")
    view = contacts.get_contact(bo, world.contacts["carla"])
    assert view.primary_opted_out == "" and view.secondary_opted_out.startswith("Opted out by text on ")
    options = {o.which: o.disabled_reason for o in groups.picker_contacts(bo, "Carla")}
    assert options["primary"] is None and options["secondary"].startswith("Opted out by text on ")
    groups.create_group(bo, world.numbers["main"], pick(world, "carla", "dan"))  # the primary may join


# -- 8. Pumping -----------------------------------------------------------------------------------

def test_ten_helps_get_one_reply(world, group4, fake, worker):
    for i in range(10):
        sms_in(DAN[1:], "HELP", f"in-help-{i}")
    drain(worker)
    assert len(texts_to(fake, DAN)) == 1 and "group texts" in texts_to(fake, DAN)[0]
    assert len(fake.sent) == 1  # and none relayed


def test_ten_helps_at_once_get_one_reply(world, group4, fake, worker):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=5) as pool:
        list(pool.map(lambda i: sms_in(DAN[1:], "HELP", f"in-help-{i}"), range(10)))
    drain(worker)
    assert len(rows(Message, Message.from_e164 == DAN)) == 10
    assert len(texts_to(fake, DAN)) == 1


def test_start_replies_are_limited_per_window_too(world, group4, fake, worker):
    for i in range(4):
        sms_in(DAN[1:], "STOP", f"stop-{i}")
        sms_in(DAN[1:], "START", f"start-{i}")
        drain(worker)
    replies = [t.split(": ", 1)[1][:14] for t in texts_to(fake, DAN)]
    assert replies.count("you are resubs") == 1
    assert replies.count("you are unsubs") == 4  # each new opt-out is confirmed


def test_keyword_reply_window_is_configurable(world, group4, fake, worker, monkeypatch):
    monkeypatch.setenv("GROUPSMS_KEYWORD_REPLY_WINDOW", "0")
    for i in range(3):
        sms_in(DAN[1:], "info", f"in-help-{i}")
    drain(worker)
    assert len(texts_to(fake, DAN)) == 3


@pytest.mark.parametrize("sender", ["12345", "151255501119999"])
def test_no_auto_reply_to_numbers_that_are_not_possible(world, fake, worker, sender):
    sms_in(sender, "HELP", "in-help")
    sms_in(sender, "STOP", "in-stop")
    drain(worker)
    assert fake.sent == []
    [row] = rows(OptOut, OptOut.e164 == "+" + sender)
    assert row.active and row.confirmation_message_id is None  # recorded all the same


def test_sender_relay_rate_limit_holds_loop(world, group4, fake, worker, monkeypatch):
    monkeypatch.setenv("GROUPSMS_RELAY_LIMIT_PER_MINUTE", "3")
    for i in range(5):
        sms_in(CARLA[1:], f"Auto-reply {i}: I am out of the office", f"in-auto-{i}")
    drain(worker)
    relayed = [m for m in rows(Message, Message.from_e164 == CARLA) if m.sms_text is not None]
    held = [m for m in rows(Message, Message.from_e164 == CARLA) if m.sms_text is None]
    assert len(relayed) == 3 and len(held) == 2
    assert all(m.group_id == group4 and "Not relayed: more than 3 texts a minute" in m.notice for m in held)
    assert len(fake.sent) == 3 * 3
    sms_in(DAN[1:], "Got it", "in-dan")  # another sender is not held
    drain(worker)
    assert len(fake.sent) == 3 * 3 + 3


def test_two_auto_responders_cannot_loop(world, fake, worker, monkeypatch):
    """Carla's and Dan's phones both answer every text automatically: the relay limit ends it."""
    monkeypatch.setenv("GROUPSMS_RELAY_LIMIT_PER_MINUTE", "5")
    groups.create_group(world.actors["bo"], world.numbers["main"], pick(world, "carla", "dan"))
    sms_in(CARLA[1:], "Out of office", "loop-0")
    seen = 0
    for i in range(1, 100):
        drain(worker)
        if len(fake.sent) == seen:
            break  # the last answer was held: nobody got a text to answer
        seen = len(fake.sent)
        sms_in(fake.sent[-1].to_e164[1:], f"Out of office ({i})", f"loop-{i}")  # the handset answers
    drain(worker)
    print(f"\n[pumping] auto-responder loop: {len(fake.sent)} relays before it was held")
    assert len(fake.sent) == 10  # 5 relayed from each handset, then held
    held = [m for m in rows(Message, Message.direction == "inbound") if m.notice]
    assert held and all("Not relayed" in m.notice for m in held)


def test_contact_with_both_numbers_does_not_get_own_reply(world, fake, worker):
    bo = world.actors["bo"]
    gid = groups.create_group(bo, world.numbers["main"], pick(world, "carla", "carla:secondary", "dan"))
    sms_in(CARLA[1:], "On my way", "in-1")
    sms_in(CARLA_2[1:], "From my other phone", "in-2")
    drain(worker)
    assert [r.to_e164 for r in fake.sent] == [DAN, DAN]
    assert [r.text.split(": ", 1)[1] for r in fake.sent] == ["On my way", "From my other phone"]
    messages.send_message(bo, gid, "Both of your numbers get this")
    drain(worker)
    assert sorted(r.to_e164 for r in fake.sent[2:]) == sorted([CARLA, CARLA_2, DAN])


@pytest.mark.parametrize("number", ["+15125550102", "+17375550100"])  # acme's spare; birch's main
def test_business_number_cannot_be_participant(world, number):
    bo = world.actors["bo"]
    own = contacts.create_contact(bo, "Front Desk", number)
    [option] = groups.picker_contacts(bo, "Front Desk")
    assert option.disabled_reason == "One of our business numbers"
    with pytest.raises(ValidationError, match=r"Front Desk's number .* cannot be added \(One of our business numbers\)"):
        groups.create_group(bo, world.numbers["main"], [(own, "primary"), (world.contacts["dan"], "primary")])


def test_group_locked_by_a_text_opt_out_offers_a_new_group_without_them(world, group4, fake, worker):
    from groupsms.components.chat_panels import regroup_links

    sms_in(DAN[1:], "STOP", "in-stop")
    detail = groups.get_group(world.actors["bo"], group4)
    [dan] = [p for p in detail.participants if p.e164 == DAN]
    assert dan.dnd and dan.opted_out.startswith("Opted out by text on ")
    assert [link.label for link in regroup_links(detail)] == ["Create a new group without Dan Buyer"]
    number_id, others = groups.regroup_selection(world.actors["bo"], group4, world.contacts["dan"])
    assert number_id == world.numbers["main"] and world.contacts["dan"] not in {c for c, _ in others}
