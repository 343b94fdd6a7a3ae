"""One compose sends one message (a compose key makes a repeated send return the first message),
and what goes out is smart-encoded (curly quotes, dashes, ellipses as GSM-7) while the
conversation keeps what was typed."""

from __future__ import annotations

import threading

import pytest
from sqlmodel import func, select

from groupsms import db
from groupsms.errors import NotAuthenticated, NotFound, ValidationError
from groupsms.messaging.fake_gateway import FakeGateway
from groupsms.messaging.worker import Worker
from groupsms.models import AuditEvent, Delivery, Message
from groupsms.services import contacts, groups, messages
from tests.services.conftest import pick

KEY = "k3y-0f-0ne-c0mpose_abcdef"


def count(model, *where) -> int:
    with db.transaction() as s:
        return s.exec(select(func.count()).select_from(model).where(*where)).one()


@pytest.fixture
def group3(world):
    return groups.create_group(world.actors["bo"], world.numbers["main"], pick(world, "carla", "dan", "erin"))


def test_double_send_with_one_compose_key_texts_each_participant_once(world, group3):
    first = messages.send_message(world.actors["bo"], group3, "Open house at 5", KEY)
    again = messages.send_message(world.actors["bo"], group3, "Open house at 5", KEY)
    assert again == first
    assert count(Message, Message.group_id == group3) == 1
    assert count(Delivery, Delivery.message_id == first) == 3  # N deliveries, not 2N
    assert count(AuditEvent, AuditEvent.action == "message.sent") == 1


def test_each_new_compose_key_sends_a_new_message(world, group3):
    a = messages.send_message(world.actors["bo"], group3, "One", KEY)
    b = messages.send_message(world.actors["bo"], group3, "Two", KEY[:-1] + "Z")
    c = messages.send_message(world.actors["bo"], group3, "Three")  # scripts: no key, every call sends
    d = messages.send_message(world.actors["bo"], group3, "Three")
    assert len({a, b, c, d}) == 4
    assert count(Delivery) == 12


def test_compose_key_belongs_to_its_user(world, group3):
    """Another user who sends with the same key sends their own message (keys are per sender)."""
    a = messages.send_message(world.actors["bo"], group3, "From Bo", KEY)
    b = messages.send_message(world.actors["ada"], group3, "From Ada", KEY)
    assert a != b and count(Message, Message.group_id == group3) == 2


def test_repeated_send_is_answered_even_after_the_group_locked(world, group3):
    """A retried event for a message that went out returns it, it does not report a send error."""
    first = messages.send_message(world.actors["bo"], group3, "Hello", KEY)
    contacts.set_contact_dnd(world.actors["ada"], world.contacts["dan"], True)
    assert messages.send_message(world.actors["bo"], group3, "Hello", KEY) == first
    assert count(Message, Message.group_id == group3) == 1


def test_compose_key_reused_in_another_group_is_refused(world, group3):
    other = groups.create_group(world.actors["bo"], world.numbers["main"], pick(world, "fay", "lea"))
    messages.send_message(world.actors["bo"], group3, "Hello", KEY)
    with pytest.raises(ValidationError, match="already used in another conversation"):
        messages.send_message(world.actors["bo"], other, "Hello", KEY)
    assert count(Message, Message.group_id == other) == 0


@pytest.mark.parametrize("key", ["short", "x" * 65, "has space in it 123", "ünïcode-key-1234567", 12345678901234567, ""])
def test_bad_compose_key_is_refused_with_a_clear_error(world, group3, key):
    with pytest.raises(ValidationError, match="Compose key must be 16 to 64 letters, digits, '-' or '_'"):
        messages.send_message(world.actors["bo"], group3, "Hello", key)
    assert count(Message) == 0


def test_compose_key_does_not_reveal_another_locations_group(world, group3):
    messages.send_message(world.actors["bo"], group3, "Hello", KEY)
    with pytest.raises(NotFound):
        messages.send_message(world.actors["zed"], group3, "Hello", KEY)
    with pytest.raises(NotAuthenticated):
        messages.send_message(None, group3, "Hello", KEY)


def test_concurrent_sends_with_one_compose_key_send_one_message(world, group3, monkeypatch, database_url):
    """Two calls at once (a websocket retry racing the original): the unique (sender, key) index
    decides, and the loser answers with the winner's message."""
    racing = database_url.startswith("postgresql")
    if racing:
        # Hold both calls after their "already sent?" check so that both insert: one must lose on
        # the index. (SQLite runs writers one at a time: the second call finds the first's row.)
        gate, waited = threading.Barrier(2, timeout=20), set()
        looked = messages._composed

        def composed_then_wait(*args):
            found = looked(*args)
            me = threading.current_thread().name
            if me.startswith("send-") and me not in waited:  # the first look only
                waited.add(me)
                gate.wait()
            return found

        monkeypatch.setattr(messages, "_composed", composed_then_wait)
    results, errors = [], []

    def send():
        try:
            results.append(messages.send_message(world.actors["bo"], group3, "Closing on Friday", KEY))
        except Exception as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=send, name=f"send-{n}") for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors and len(results) == 2 and results[0] == results[1]
    assert count(Message, Message.group_id == group3) == 1
    assert count(Delivery, Delivery.message_id == results[0]) == 3
    if racing:
        assert len(waited) == 2  # both really got past the check before either committed


# -- smart encoding of what goes out ---------------------------------------------------------------


def test_typed_curly_quotes_and_dashes_go_out_as_gsm7_and_the_conversation_keeps_them(world, group3):
    typed = "“Closing” moved — it’s Friday…"
    mid = messages.send_message(world.actors["bo"], group3, typed, KEY)
    fake = FakeGateway()
    worker = Worker(fake, rate=1000, concurrency=2, lease_seconds=30)
    try:
        while worker.run_once():
            pass
    finally:
        worker.close()
    assert {r.text for r in fake.sent} == {'"Closing" moved - it\'s Friday...'}
    assert not any(r.unicode for r in fake.sent) and len(fake.sent) == 3
    shown = messages.list_messages(world.actors["bo"], group3)
    assert [m.body for m in shown if m.id == mid] == [typed]


def test_emoji_text_goes_out_exactly_as_typed(world, group3):
    mid = messages.send_message(world.actors["bo"], group3, "“Great” 🙏")
    with db.transaction() as s:
        message = s.get(Message, mid)
        assert (message.body, message.sms_text) == ("“Great” 🙏", None)


def test_hard_limit_counts_the_smart_encoded_text(world, group3):
    # 1530 GSM-7 characters once the apostrophe is plain: 10 segments, accepted.
    messages.send_message(world.actors["bo"], group3, "’" + "a" * 1529)
    with pytest.raises(ValidationError, match="11 segments"):
        messages.send_message(world.actors["bo"], group3, "’" + "a" * 1530)
