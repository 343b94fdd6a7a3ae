"""Live updates (E4): from the change events of `messaging.notify` to every open browser of a group.

Not a page: the bridge between the change bus and Reflex's connected tabs.

How it works:

- A page that shows a group links its `GroupLive` shared state to the group's token
  (`live_token(group_id)`, "conv-<id>") once the services let it read the group. Reflex keeps the
  linked tabs in the shared state (`_linked_from`), in its state store: on disk for one worker, in
  Redis across workers.
- `live_updates` (an app lifespan task) subscribes one listener per process to the notifier. The
  notifier calls it from whichever thread committed (a page handler's worker thread, the outbox
  worker, a webhook's thread), so it only hands the group id to the app's event loop.
- On the loop, changes to a group are coalesced for a few milliseconds (a message to 9 people
  makes 18 status changes), then every linked tab that is still connected gets its view refreshed
  in place (`app.modify_state` on the tab's own state). The refresh goes through the services with
  that tab's own session, so each user sees only what they may see; Reflex pushes the delta.

The conversations list (E7) works the same way, one level up: it links `LocationLive` to the
location's token (`location_token(location_id)`, "loc-<id>") once the services listed the user's
conversations, and every new message, relay, send or needs-routing item/assignment in the location
(events whose `lists_change` is true: a message, a waiting text, a new or locked group, a contact
or opt-out change) refreshes the list views
(`register_location_view`, `_on_location_change`) of every connected tab linked to it, coalesced
the same way, again through the services with each tab's own session. Delivery status changes do
not touch the list, so they only refresh group pages.

A group page is refreshed by every event that names its group in `group_ids`: a message, a
delivery status, a lock (`GroupLocked`, at once, not at the next message), a change to a
participant's contact (`ContactChanged`) or an opt-out of a participant's number (`OptOutChanged`).

Nothing here trusts the browser: the shared states hold no data, and no event handler is defined
on them, so a browser can neither read another group's messages nor trigger pushes.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

import reflex as rx

from groupsms.messaging import notify
from groupsms.messaging.events import ChangeEvent

log = logging.getLogger(__name__)

TOKEN_PREFIX = "conv-"
LOCATION_TOKEN_PREFIX = "loc-"
# Long enough to fold a burst of receipts into one refresh, short enough for E4's second.
COALESCE_SECONDS = 0.05


def live_token(group_id: int) -> str:
    """The shared token of a group's viewers (Reflex forbids "_" in it)."""
    return f"{TOKEN_PREFIX}{int(group_id)}"


def location_token(location_id: int) -> str:
    """The shared token of a location's conversation-list viewers (Reflex forbids "_" in it)."""
    return f"{LOCATION_TOKEN_PREFIX}{int(location_id)}"


class GroupLive(rx.SharedState):
    """Who is looking at a group: Reflex records the linked tabs. It holds no data of the group, so
    nothing of it is ever sent to a browser, and it defines no event handler."""


class LocationLive(rx.SharedState):
    """Who is looking at a location's conversation list: Reflex records the linked tabs. It holds no
    data, so nothing of it is ever sent to a browser, and it defines no event handler."""


class GroupView(Protocol):
    """A page state that shows one group and can refresh itself for its own user."""

    async def _on_group_change(self, group_id: int) -> None: ...


_VIEWS: list[type[rx.State]] = []


def register_view(state_cls: type[rx.State]) -> None:
    """Page states whose `_on_group_change` runs for every change of a group a tab is linked to."""
    if state_cls not in _VIEWS:
        _VIEWS.append(state_cls)


async def link(state: rx.State, group_id: int) -> None:
    """Call from an event handler of a page state, only after the services granted read access."""
    ensure_started()
    live = await state.get_state(GroupLive)
    await live._link_to(live_token(group_id))


class LocationView(Protocol):
    """A page state that lists a location's conversations and can refresh itself for its own user."""

    async def _on_location_change(self, location_id: int) -> None: ...


_LOCATION_VIEWS: list[type[rx.State]] = []


def register_location_view(state_cls: type[rx.State]) -> None:
    """Page states whose `_on_location_change` runs for every list-visible change of a location a
    tab is linked to."""
    if state_cls not in _LOCATION_VIEWS:
        _LOCATION_VIEWS.append(state_cls)


async def link_location(state: rx.State, location_id: int) -> None:
    """Call from an event handler of a page state, only after the services listed the signed-in
    user's conversations (the location is the user's own)."""
    ensure_started()
    live = await state.get_state(LocationLive)
    await live._link_to(location_token(location_id))


# -- the bridge: notifier thread → event loop → linked tabs -------------------------------------


class _Bridge:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.context: contextvars.Context | None = None
        self.app: Any = None
        self.unsubscribe: Callable[[], None] | None = None
        self.pending: set[tuple[str, int]] = set()  # ("group" | "location", id); touched only on the loop
        self.tasks: set[asyncio.Task] = set()


_bridge = _Bridge()


def _current_app() -> Any:
    from reflex_base.registry import RegistrationContext

    try:
        return RegistrationContext.get().app
    except Exception:  # no context here (e.g. a lifespan task): import the app module
        from reflex.utils import prerequisites

        return prerequisites.get_app().app


def ensure_started() -> None:
    """Subscribe this process's listener and remember the running event loop (idempotent).

    Must run on the app's event loop: from `live_updates` at startup, and, as a safety net when the
    lifespan task is not registered, from the first page handler that links a tab."""
    loop = asyncio.get_running_loop()
    with _bridge.lock:
        if _bridge.loop is loop and _bridge.unsubscribe is not None:
            return
        _bridge.loop = loop
        _bridge.context = contextvars.copy_context()
        _bridge.app = _current_app()
        _bridge.pending.clear()
        if _bridge.unsubscribe is None:
            _bridge.unsubscribe = notify.subscribe(_on_change)


def stop() -> None:
    with _bridge.lock:
        if _bridge.unsubscribe is not None:
            _bridge.unsubscribe()
        _bridge.unsubscribe = None
        _bridge.loop = None


@contextlib.asynccontextmanager
async def live_updates() -> AsyncIterator[None]:
    """App lifespan task: `app.register_lifespan_task(live_updates)`."""
    ensure_started()
    try:
        yield
    finally:
        stop()


def _on_change(change: ChangeEvent) -> None:
    """Notifier listener: runs on any thread, must be quick and must not raise."""
    loop = _bridge.loop
    if loop is None or loop.is_closed():
        return
    try:
        for group_id in change.group_ids:  # waiting texts belong to no group page
            loop.call_soon_threadsafe(_schedule, "group", int(group_id))
        if change.lists_change and change.location_id is not None:
            loop.call_soon_threadsafe(_schedule, "location", int(change.location_id))
    except RuntimeError:  # the loop closed meanwhile (shutdown)
        pass


def _schedule(scope: str, ident: int) -> None:
    """On the loop: one refresh per group (or location) per burst of changes."""
    key = (scope, ident)
    if key in _bridge.pending or _bridge.loop is None:
        return
    _bridge.pending.add(key)
    task = _bridge.loop.create_task(_push_soon(scope, ident), context=_bridge.context)
    _bridge.tasks.add(task)
    task.add_done_callback(_bridge.tasks.discard)


async def _push_soon(scope: str, ident: int) -> None:
    await asyncio.sleep(COALESCE_SECONDS)
    _bridge.pending.discard((scope, ident))  # a change arriving from now on gets its own push
    try:
        if scope == "location":
            await push_location(ident)
        else:
            await push_group(ident)
    except Exception:
        log.exception("live update of %s %s failed", scope, ident)


async def push_group(group_id: int) -> int:
    """Refresh every connected tab linked to the group; returns how many were refreshed."""
    from reflex.istate.manager.token import BaseStateToken

    app = _bridge.app or _current_app()
    # Read only (no lock, nothing emitted): who is linked to the group's token right now.
    root = await app.state_manager.get_state(BaseStateToken(ident=live_token(group_id), cls=GroupLive))
    live = await root.get_state(GroupLive)
    viewers = set(live._linked_from)
    if not viewers:
        return 0
    connected = await _connected(app, viewers)
    results = await asyncio.gather(
        *(_refresh_tab(app, token, group_id) for token in connected), return_exceptions=True
    )
    for token, result in zip(connected, results, strict=True):
        if isinstance(result, Exception):
            log.warning("live update of a tab for group %s failed: %r", group_id, result)
    return len(connected)


async def _connected(app: Any, tokens: set[str]) -> list[str]:
    namespace = getattr(app, "event_namespace", None)
    manager = getattr(namespace, "_token_manager", None)
    check: Callable[[str], Awaitable[bool]] | None = getattr(manager, "is_token_connected", None)
    if check is None:
        return sorted(tokens)
    return [t for t in sorted(tokens) if await check(t)]


async def _refresh_tab(app: Any, token: str, group_id: int) -> None:
    from reflex.istate.manager.token import BaseStateToken

    for view_cls in list(_VIEWS):
        async with app.modify_state(BaseStateToken(ident=token, cls=view_cls)) as root:
            view = await root.get_state(view_cls)
            await view._on_group_change(group_id)


async def push_location(location_id: int) -> int:
    """Refresh the conversation list of every connected tab linked to the location; returns how
    many tabs were refreshed."""
    from reflex.istate.manager.token import BaseStateToken

    if not _LOCATION_VIEWS:
        return 0
    app = _bridge.app or _current_app()
    # Read only (no lock, nothing emitted): who is linked to the location's token right now.
    root = await app.state_manager.get_state(
        BaseStateToken(ident=location_token(location_id), cls=LocationLive)
    )
    live = await root.get_state(LocationLive)
    viewers = set(live._linked_from)
    if not viewers:
        return 0
    connected = await _connected(app, viewers)
    results = await asyncio.gather(
        *(_refresh_location_tab(app, token, location_id) for token in connected), return_exceptions=True
    )
    for result in results:
        if isinstance(result, Exception):
            log.warning("live update of a tab for location %s failed: %r", location_id, result)
    return len(connected)


async def _refresh_location_tab(app: Any, token: str, location_id: int) -> None:
    from reflex.istate.manager.token import BaseStateToken

    for view_cls in list(_LOCATION_VIEWS):
        async with app.modify_state(BaseStateToken(ident=token, cls=view_cls)) as root:
            view = await root.get_state(view_cls)
            await view._on_location_change(location_id)
