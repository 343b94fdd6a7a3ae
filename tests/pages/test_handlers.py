"""Every public event handler of every page State, called the way a browser could call it:
without a session, and as a signed-in user who has no access to the objects named (a user of
another location). Nothing may be written, nothing of the other location may reach the state, and
without a session no service but the session lookup may even be called.

A handler without a row in HANDLERS fails `test_every_handler_is_covered`.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import reflex as rx
from sqlmodel import SQLModel, select

from groupsms import db
from groupsms.pages import PAGE_MODULES
from groupsms.pages.session import ACCESS_MARK, SessionState
from groupsms.services import SERVICE_MODULES, sessions
from tests.services.conftest import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # rxconfig.py lives at the repository root
    sys.path.insert(0, str(ROOT))
import groupsms.groupsms  # noqa: E402,F401  (builds the app: registers every page and state)

# Tables whose rows a refused handler must leave exactly as they were.
WATCHED = [t for t in SQLModel.metadata.sorted_tables if t.name not in ("login_attempt", "auth_session", "audit_event")]
ACME_SECRETS = ("Carla Client", "Dan Buyer", "acme.test", "+1512555", "(512) 555", "Main office", "Acme Realty")


def _states() -> list[type[rx.State]]:
    for name in PAGE_MODULES:
        importlib.import_module(name)
    found, todo = [], [SessionState]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.get_substates())
    return found


def _handlers() -> dict[str, tuple[type[rx.State], str]]:
    out = {}
    for cls in _states():
        for name, handler in cls.event_handlers.items():
            if name.startswith("_"):
                continue
            owner = next((c for c in cls.__mro__ if name in c.__dict__), cls)
            key = f"{owner.__name__}.{name}"
            if name == "setvar":
                key = f"{cls.__name__}.setvar"
            out.setdefault(key, (cls, name))
    return out


# Handler -> arguments (given the world and one acme group id). Arguments name acme objects, so
# birch's admin must get nothing of acme. "public" handlers run for anyone (signing in).
G = Callable[..., tuple]
C = "carla"
HANDLERS: dict[str, G | str] = {
    "SessionState.sign_out": lambda w, g: (),
    "LoginState.load": "public",
    "LoginState.sign_in": "public",
    "ConversationsState.load": lambda w, g: (),
    "ConversationsState.refresh": lambda w, g: (),
    "ConversationsState.search_groups": lambda w, g: ("Carla",),
    "ConversationsState.set_filter": lambda w, g: ("unread",),
    "ConversationsState.ask_assign": lambda w, g: ({"message_id": "1", "group_id": str(g)},),
    "ConversationsState.cancel_assign": lambda w, g: (),
    "ConversationsState.close_assign": lambda w, g: (False,),
    "ConversationsState.assign": lambda w, g: (),
    "ConversationsState.start_group_from_text": lambda w, g: ("1",),
    "ConversationsState.dismiss_text": lambda w, g: ("1",),
    "CreateGroupState.open_dialog": lambda w, g: (),
    "CreateGroupState.set_open": lambda w, g: (True,),
    "CreateGroupState.choose_number": lambda w, g: (str(w.numbers["main"]),),
    "CreateGroupState.search_contacts": lambda w, g: ("Carla",),
    "CreateGroupState.set_selection": lambda w, g: ([f"{w.contacts[C]}:primary"],),
    "CreateGroupState.set_name": lambda w, g: ("12 Maple Ridge closing",),
    "CreateGroupState.set_send_intro": lambda w, g: (False,),
    "IntroSettingState.load": lambda w, g: (),
    "IntroSettingState.edit_text": lambda w, g: ("Hi {names}, {business} here. Reply STOP to opt out.",),
    "IntroSettingState.use_default": lambda w, g: (),
    "IntroSettingState.set_enabled": lambda w, g: (False,),
    "IntroSettingState.save": lambda w, g: (),
    "CreateGroupState.remove": lambda w, g: (f"{w.contacts[C]}:primary",),
    "CreateGroupState.create": lambda w, g: (),
    "CreateGroupState.create_anyway": lambda w, g: (),
    "CreateGroupState.open_duplicate": lambda w, g: (),
    "GroupChatState.load": lambda w, g: (),
    "GroupChatState.leave": lambda w, g: (),
    "GroupChatState.load_earlier": lambda w, g: (),
    "GroupChatState.search_participants": lambda w, g: ("Carla",),
    "GroupChatState.toggle_panel": lambda w, g: (),
    "GroupChatState.toggle_people": lambda w, g: (),
    "GroupChatState.open_rename": lambda w, g: (),
    "GroupChatState.close_rename": lambda w, g: (False,),
    "GroupChatState.save_name": lambda w, g: ({"name": "12 Maple Ridge closing"},),
    "GroupChatState.toggle_deliveries": lambda w, g: (1,),
    "GroupChatState.draft_changed": lambda w, g: ("hello",),
    "GroupChatState.send": lambda w, g: ({"message": "hello", "compose_key": "a-compose-key-0123456789"},),
    "ContactsState.load": lambda w, g: (),
    "ContactsState.set_search": lambda w, g: ("Carla",),
    "ContactsState.open_new": lambda w, g: (),
    "ContactsState.open_edit": lambda w, g: (w.contacts[C],),
    "ContactsState.set_editor_dnd": lambda w, g: (True,),
    "ContactsState.close_editor": lambda w, g: (False,),
    "ContactsState.save_contact": lambda w, g: ({"name": "Renamed", "primary_phone": "+17375550199"},),
    "ContactsState.ask_delete": lambda w, g: (w.contacts[C],),
    "ContactsState.set_dnd": lambda w, g: (w.contacts[C], True),
    "ContactsState.cancel_confirm": lambda w, g: (False,),
    "ContactsState.confirm": lambda w, g: (),
    "ContactsState.open_import": lambda w, g: (),
    "ContactsState.close_import": lambda w, g: (False,),
    "ContactsState.import_csv": lambda w, g: ({"csv": "name,primary_phone\nNew Person,+17375550198"},),
    "ContactsState.preview_csv": lambda w, g: ("name,primary_phone\nNew Person,+17375550198",),
    "ContactsState.open_merge": lambda w, g: (w.contacts[C], w.contacts["dan"]),
    "ContactsState.set_merge_keep": lambda w, g: (str(w.contacts[C]),),
    "ContactsState.set_merge_other": lambda w, g: (str(w.contacts["dan"]),),
    "ContactsState.close_merge": lambda w, g: (False,),
    "ContactsState.merge": lambda w, g: ({"keep": str(w.contacts[C]), "other": str(w.contacts["dan"])},),
    "NumbersState.load": lambda w, g: (),
    "NumbersState.open_label": lambda w, g: (w.numbers["spare"],),
    "NumbersState.close_label": lambda w, g: (False,),
    "NumbersState.save_label": lambda w, g: ({"label": "Renamed line"},),
    "NumbersState.make_default": lambda w, g: (w.numbers["spare"],),
    "NumbersState.open_assign": lambda w, g: (w.numbers["spare"],),
    "NumbersState.close_assign": lambda w, g: (False,),
    "NumbersState.save_assign": lambda w, g: ({f"user-{w.users['bo']}": "on"},),
    "UsersState.load": lambda w, g: (),
    "UsersState.open_create": lambda w, g: (),
    "UsersState.close_create": lambda w, g: (False,),
    "UsersState.create_user": lambda w, g: ({"email": "new@birch.test", "name": "New", "password": "long-enough-pw",
                                             "role": "user", "data_access": "all"},),
    "UsersState.set_role": lambda w, g: (w.users["bo"], "admin"),
    "UsersState.set_data_access": lambda w, g: (w.users["bo"], "all"),
    "UsersState.open_password": lambda w, g: (w.users["bo"],),
    "UsersState.close_password": lambda w, g: (False,),
    "UsersState.reset_password": lambda w, g: ({"password": "another-long-pw"},),
    "UsersState.set_permission": lambda w, g: ("contact:write", "user", False),
    "UsersState.set_active": lambda w, g: (w.users["bo"], False),
    "UsersState.set_audit_filter": lambda w, g: ("audit_kind", "users"),
    "UsersState.filter_audit": lambda w, g: ({"person": str(w.users["bo"]), "kind": "contacts", "date_from": "",
                                              "date_to": ""},),
    "UsersState.clear_audit_filters": lambda w, g: (),
    "UsersState.audit_older": lambda w, g: (),
    "UsersState.audit_newer": lambda w, g: (),
    "UsersState.export_audit": lambda w, g: (),
    "IntegrationsState.load": lambda w, g: (),
    "IntegrationsState.create_token": lambda w, g: ({"token_name": "t", "token_user": str(w.users["bo"]), "scope_read": "on"},),
    "IntegrationsState.dismiss_token": lambda w, g: (),
    "IntegrationsState.revoke_token": lambda w, g: ("1",),
    "IntegrationsState.create_subscription": lambda w, g: ({"hook_url": "https://127.0.0.1/h", "event_group.created": "on"},),
    "IntegrationsState.dismiss_secret": lambda w, g: (),
    "IntegrationsState.delete_subscription": lambda w, g: ("1",),
    "IntegrationsState.show_deliveries": lambda w, g: ("1",),
    "IntegrationsState.resend": lambda w, g: ("1",),
    "AccountState.load": lambda w, g: (),
    "AccountState.change_password": lambda w, g: ({"current_password": PASSWORD, "new_password": "another-long-pw",
                                                    "new_password_again": "another-long-pw"},),
    "AccountState.save_preferences": lambda w, g: ({"time_zone": "America/Chicago", "clock": "12h"},),
    "HandsetsState.load": lambda w, g: (),
    "HandsetsState.refresh": lambda w, g: (),
    "HandsetsState.open_handset": lambda w, g: ("+15125550111",),
    "HandsetsState.set_reply_to": lambda w, g: ("+15125550100",),
    "HandsetsState.send_reply": lambda w, g: ({"to": "+15125550100", "text": "hi"},),
}
PUBLIC_ARGS = {"LoginState.sign_in": ({"email": "ada@acme.test", "password": "not-the-password"},)}


def test_every_handler_is_covered():
    handlers = set(_handlers())
    setvars = {h for h in handlers if h.endswith(".setvar")}
    missing = handlers - setvars - set(HANDLERS)
    stale = set(HANDLERS) - handlers
    assert not missing, f"event handlers without a row in HANDLERS: {sorted(missing)}"
    assert not stale, f"rows for handlers that no longer exist: {sorted(stale)}"


def _dump() -> str:
    with db.transaction() as s:
        return json.dumps(
            {t.name: [list(map(str, r)) for r in s.connection().execute(select(t)).all()] for t in WATCHED},
            sort_keys=True,
        )


def _acme_dump(world) -> str:
    """Every row that belongs to acme (birch's admin may change birch, never acme)."""
    acme = world.locations["acme"]
    out = {}
    with db.transaction() as s:
        conn = s.connection()
        for t in WATCHED:
            rows = conn.execute(select(t)).mappings().all()
            if "location_id" in t.c:
                rows = [r for r in rows if r["location_id"] == acme]
            elif t.name == "casbin_rule":
                rows = [r for r in rows if r["v1"] in ("*", str(acme))]
            out[t.name] = [sorted((k, str(v)) for k, v in r.items()) for r in rows]
    return json.dumps(out, sort_keys=True)


def _state_text(root: rx.State) -> str:
    return json.dumps(root.dict(), default=str)


def _substate(root: rx.State, cls: type[rx.State]) -> rx.State:
    return root.get_substate(cls.get_full_name().split(".")[1:])


async def _call(cls: type[rx.State], name: str, token: str, args: tuple, root: rx.State | None = None) -> rx.State:
    if root is None:
        root = rx.State(_reflex_internal_init=True)
        _substate(root, SessionState).session_token = token
    state = _substate(root, cls)
    result = cls.event_handlers[name].fn(state, *args)
    if inspect.isawaitable(result):
        await result
    elif inspect.isasyncgen(result):
        async for _ in result:
            pass
    elif inspect.isgenerator(result):
        for _ in result:
            pass
    return root


@pytest.fixture
def spy(monkeypatch):
    """Records every service function called (by name)."""
    calls: list[str] = []
    for module in SERVICE_MODULES:
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ == module.__name__ and not name.startswith("_"):
                def wrapper(*a, __fn=fn, __name=f"{module.__name__.rsplit('.', 1)[1]}.{name}", **k):
                    calls.append(__name)
                    return __fn(*a, **k)
                monkeypatch.setattr(module, name, wrapper)
    return calls


def _group(world) -> int:
    from groupsms.services import groups
    from tests.services.conftest import pick

    return groups.create_group(world.actors["ada"], world.numbers["main"], pick(world, "carla", "dan"))


@pytest.mark.parametrize("key", sorted(_handlers()))
def test_handler_without_a_session_reads_and_writes_nothing(world, spy, key):
    cls, name = _handlers()[key]
    gid = _group(world)
    row = HANDLERS.get(key)
    if name == "setvar":
        args = ("load_error", "forged")
    elif row == "public":
        args = PUBLIC_ARGS.get(key, ())
    else:
        args = row(world, gid)
    before = _dump()
    spy.clear()
    try:
        root = asyncio.run(_call(cls, name, "", args))
    except AttributeError:
        assert name == "setvar"  # Reflex refuses setvar without a setter
        root = None
    assert _dump() == before, f"{key} wrote without a session"
    allowed = {"sessions.actor_for_token"} | ({"sessions.sign_in", "sessions.sign_in_async"} if row == "public" else set())
    assert set(spy) <= allowed, f"{key} called services without a session: {spy}"
    if root is not None:
        assert not any(secret in _state_text(root) for secret in ACME_SECRETS), f"{key} leaked data"


@pytest.mark.parametrize("key", sorted(k for k, v in HANDLERS.items() if v != "public"))
def test_handler_as_a_user_of_another_location_gets_nothing(world, key):
    cls, name = _handlers()[key]
    gid = _group(world)
    token, _ = sessions.sign_in("zed@birch.test", PASSWORD)
    before = _acme_dump(world)
    root = asyncio.run(_call(cls, name, token, HANDLERS[key](world, gid)))
    assert _acme_dump(world) == before, f"{key} changed acme data for a birch user"
    assert not any(secret in _state_text(root) for secret in ACME_SECRETS), f"{key} leaked acme data"


# -- the session decorator ---------------------------------------------------------------------------

# Handlers anyone may call without a session. Adding one here needs a reason.
PUBLIC = {"LoginState.load", "LoginState.sign_in", "SessionState.sign_out"}


def test_every_handler_checks_the_session_with_the_decorator():
    undecorated, public = [], set()
    for key, (cls, name) in _handlers().items():
        if name == "setvar":
            continue  # Reflex's own; refused without a session by SessionGuard, and has no setter
        fn = cls.event_handlers[name].fn
        mark = getattr(fn, ACCESS_MARK, None)
        if mark == "public":
            public.add(key)
        elif mark != "signed_in":
            undecorated.append(key)
    assert not undecorated, f"handlers without @signed_in (or @public): {sorted(undecorated)}"
    assert public == PUBLIC


def test_signed_in_hides_the_actor_from_the_browser():
    from groupsms.pages.contacts import ContactsState
    from groupsms.pages.handsets import HandsetsState

    handler = ContactsState.event_handlers["set_dnd"]
    assert list(inspect.signature(handler.fn).parameters) == ["self", "contact_id", "value"]
    assert "actor" not in handler._get_type_hints()
    assert inspect.isasyncgenfunction(HandsetsState.event_handlers["send_reply"].fn)


def _defaults_differ(root: rx.State) -> list[str]:
    changed = []
    for cls in _states():
        state = _substate(root, cls)
        for name, field in cls.__fields__.items():
            if field._owner is cls and getattr(state, name) != field.default_value():
                changed.append(f"{cls.__name__}.{name}")
    return changed


def test_sign_out_resets_every_page_state(world):
    from groupsms.pages.contacts import ContactsState
    from groupsms.pages.numbers import NumbersState
    from groupsms.pages.users import UsersState

    token, _ = sessions.sign_in("ada@acme.test", PASSWORD)
    root = rx.State(_reflex_internal_init=True)
    _substate(root, SessionState).session_token = token
    for cls in (ContactsState, NumbersState, UsersState):
        asyncio.run(_call(cls, "load", token, (), root))
    asyncio.run(_call(ContactsState, "set_search", token, ("Carla",), root))
    before = _defaults_differ(root)
    assert "ContactsState.rows" in before and "UsersState.rows" in before and "SessionState.user_name" in before
    assert any(secret in _state_text(root) for secret in ACME_SECRETS)
    asyncio.run(_call(SessionState, "sign_out", token, (), root))
    assert _defaults_differ(root) == []
    assert not any(secret in _state_text(root) for secret in ACME_SECRETS)
    assert sessions.actor_for_token(token) is None


def _handler_names(updates) -> list[str]:
    flat = []
    for u in updates if isinstance(updates, list) else [updates]:
        flat.extend(u if isinstance(u, list) else [u])
    return [e.handler.fn.__qualname__ for e in flat if e is not None]


def test_send_without_a_session_still_releases_the_composer_and_goes_to_sign_in(world):
    from groupsms.pages.group_chat import GroupChatState

    root = rx.State(_reflex_internal_init=True)
    state = _substate(root, GroupChatState)
    state.phase, state.chat_id, state.title = "ready", 7, "Carla Client"

    async def run():
        return [u async for u in GroupChatState.event_handlers["send"].fn(state, {"message": "hi"})]

    names = _handler_names(asyncio.run(run()))
    assert names == ["_redirect", "_call_script"], names
    assert (state.phase, state.chat_id, state.title) == ("loading", 0, "")


def test_group_dialog_without_a_session_closes_empty_and_goes_to_sign_in(world):
    from groupsms.pages.create_group import CreateGroupState

    root = rx.State(_reflex_internal_init=True)
    state = _substate(root, CreateGroupState)
    state.open, state.selected = True, ["1:primary", "2:primary"]
    names = _handler_names(asyncio.run(CreateGroupState.event_handlers["set_open"].fn(state, False)))
    assert names == ["_redirect"], names
    assert (state.open, state.selected) == (False, [])
