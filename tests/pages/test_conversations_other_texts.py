"""The conversations page's "Other texts" and waiting-reply handlers, driven as a signed-in user:
what they show, what "Start a group" pre-selects and what "Dismiss" does (E2, R11, R12)."""

from __future__ import annotations

import asyncio
import inspect
import sys
from pathlib import Path

import reflex as rx
from sqlmodel import select

from groupsms import db
from groupsms.pages.create_group import CreateGroupState
from groupsms.messaging import inbound
from groupsms.models import Message
from groupsms.pages.conversations import ConversationsState
from groupsms.pages.session import SessionState
from groupsms.services import contacts, groups, sessions
from tests.services.conftest import PASSWORD, pick

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
import groupsms.groupsms  # noqa: E402,F401  (builds the app: registers every page and state)


def _sms(sender: str, text: str, ref: str, to: str = "15125550100") -> int:
    event_id, _ = inbound.record_event("inbound", {"msisdn": sender, "to": to, "messageId": ref, "text": text})
    inbound.process_event(event_id)
    with db.transaction() as s:
        return s.exec(select(Message.id).where(Message.provider_ref == ref)).one()


def _sub(root: rx.State, cls: type[rx.State]) -> rx.State:
    return root.get_substate(cls.get_full_name().split(".")[1:])


def _signed_in(email: str) -> rx.State:
    token, _ = sessions.sign_in(email, PASSWORD)
    root = rx.State(_reflex_internal_init=True)
    _sub(root, SessionState).session_token = token
    return root


def _run(root: rx.State, name: str, *args) -> None:
    result = ConversationsState.event_handlers[name].fn(_sub(root, ConversationsState), *args)

    async def drive():
        if inspect.isawaitable(result):
            await result
        elif inspect.isasyncgen(result):
            async for _ in result:
                pass

    asyncio.run(drive())


def test_other_texts_show_on_the_page_and_start_a_group_preselects_the_sender(world):
    mid = _sms("15125550119", "Max here, looking to sell", "in-max")
    _sms("15125550199", "A stranger", "in-stranger")  # no contact: not for Bo's eyes
    root = _signed_in("bo@acme.test")
    _run(root, "refresh")
    page = _sub(root, ConversationsState)
    assert [(r.message_id, r.sender, r.body) for r in page.other_texts] == [
        (str(mid), "Max Mover · (512) 555-0119", "Max here, looking to sell")]
    assert page.other_texts[0].number == "Main office · (512) 555-0100"
    _run(root, "start_group_from_text", str(mid))
    dialog = _sub(root, CreateGroupState)
    assert dialog.open and dialog.number_id == str(world.numbers["main"])
    assert dialog.selected == [f"{world.contacts['max']}:primary"]
    assert [c.label for c in dialog.chosen] == ["Max Mover (512) 555-0119"]


def test_start_a_group_from_a_stranger_opens_the_dialog_on_that_number_with_nobody_picked(world):
    mid = _sms("15125550199", "A stranger", "in-stranger", to="15125550102")  # the spare number
    root = _signed_in("ada@acme.test")
    _run(root, "refresh")
    _run(root, "start_group_from_text", mid)
    dialog = _sub(root, CreateGroupState)
    assert dialog.open and dialog.number_id == str(world.numbers["spare"]) and dialog.selected == []


def test_dismiss_takes_the_text_off_the_list(world):
    mid = _sms("15125550119", "Max here", "in-max")
    root = _signed_in("bo@acme.test")
    _run(root, "refresh")
    _run(root, "dismiss_text", str(mid))
    page = _sub(root, ConversationsState)
    assert page.other_texts == [] and page.other_notice == "Text from Max Mover · (512) 555-0119 dismissed."
    with db.transaction() as s:
        assert s.get(Message, mid).dismissed_at is not None


def test_forged_ids_for_texts_not_listed_do_nothing(world):
    stranger = _sms("15125550199", "A stranger", "in-stranger")  # Bo may not see it
    root = _signed_in("bo@acme.test")
    _run(root, "refresh")
    for bad in (str(stranger), stranger, "1; drop", None, {"id": 1}, -3):
        _run(root, "dismiss_text", bad)
        _run(root, "start_group_from_text", bad)
    with db.transaction() as s:
        assert s.get(Message, stranger).dismissed_at is None
    assert not _sub(root, CreateGroupState).open


def test_waiting_reply_shows_as_a_count_to_a_user_who_may_not_route_it(world):
    a = world.actors
    twin = contacts.create_contact(a["ada"], "Carla Twin", "+15125550111", assigned_user_id=world.users["dana"])
    groups.create_group(a["bo"], world.numbers["main"], pick(world, "carla", "dan"))
    groups.create_group(a["dana"], world.numbers["main"], [(twin, "primary"), (world.contacts["gus"], "primary")])
    _sms("15125550111", "The code for the lockbox is 4711", "in-twin")
    bo = _signed_in("bo@acme.test")
    _run(bo, "refresh")
    page = _sub(bo, ConversationsState)
    assert (page.routing, page.routing_waiting) == ([], 1)
    assert "4711" not in str(bo.dict())
    dana = _signed_in("dana@acme.test")
    _run(dana, "refresh")
    page = _sub(dana, ConversationsState)
    assert [r.body for r in page.routing] == ["The code for the lockbox is 4711"] and page.routing_waiting == 0
