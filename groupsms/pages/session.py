"""The browser session and the store-wide session check.

The session cookie holds a random token; the server stores only its hash (`services.sessions`).
Reflex lets the browser call every public method of every State class with any arguments, so:

- every handler resolves the actor from the cookie again (`SessionState._actor`) and never trusts
  anything it stored earlier;
- every public handler is decorated with `@signed_in` (or `@public`), which does that check and
  hands the handler the actor; `tests/pages/test_handlers.py` fails for a handler with neither;
- `SessionGuard`, a middleware run before every event, refuses every event unless the cookie names
  a valid session, except Reflex's own internal events and handlers marked `@public` (signing in).
  It is a backstop: handlers still check for themselves.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import reflex as rx
from reflex.state import StateUpdate
from reflex_base.event import Event

from groupsms import config
from groupsms.errors import GroupsmsError
from groupsms.headers import app_url_is_https
from groupsms.services import sessions

if TYPE_CHECKING:
    from reflex.app import App

    from groupsms.services._base import Actor

logger = logging.getLogger(__name__)

SESSION_COOKIE = "groupsms_session"
LOGIN_ROUTE = "/login"
HOME_ROUTE = "/"
# Tokens are short (`secrets.token_urlsafe(32)`); anything much longer is not one of ours.
_MAX_TOKEN_LENGTH = 256

_F = TypeVar("_F", bound=Callable[..., Any])
_PUBLIC_HANDLERS: set[str] = set()


def _handler_key(fn: Callable[..., Any]) -> str:
    return f"{fn.__module__}:{fn.__qualname__}"


# What `signed_in` and `public` leave on a handler, so a test can find handlers with neither.
ACCESS_MARK = "_groupsms_access"


def public(fn: _F) -> _F:
    """Mark an event handler as callable without a session (the sign-in form and its page)."""
    _PUBLIC_HANDLERS.add(_handler_key(fn))
    setattr(fn, ACCESS_MARK, "public")
    return fn


def signed_in(fn: Callable[..., Any] | None = None, *, shell: bool = False) -> Any:
    """The session check of every page event handler: resolves the signed-in user from the cookie
    and passes it as the handler's first argument after `self`; without a valid session the
    handler does not run and the state's `_to_login()` is returned instead (a page state overrides
    it to drop what it shows; the default redirects to the sign-in page).

    Usage (under `@rx.event`, which must stay outermost)::

        @rx.event
        @signed_in
        async def rename(self, actor: Actor, group_id, name):
            ...  # the browser sends only (group_id, name)

        @rx.event
        @signed_in(shell=True)  # page `load` handlers: also refresh the shell's user fields
        async def load(self, actor: Actor):
            ...

    Works for coroutine handlers and async-generator handlers (`yield`). The browser never sees the
    `actor` parameter: the wrapper's signature and annotations leave it out, so Reflex maps event
    arguments exactly as before. Handlers callable without a session use `@public` instead; a
    handler with neither fails `tests/pages/test_handlers.py`.
    """
    if fn is None:
        return functools.partial(signed_in, shell=shell)

    async def resolve(self: SessionState) -> Actor | None:
        return await (self._signed_in() if shell else self._actor())

    if inspect.isasyncgenfunction(fn):
        @functools.wraps(fn)
        async def wrapper(self, *args: Any, **kwargs: Any):
            actor = await resolve(self)
            if actor is None:
                yield self._to_login()
                return
            async for update in fn(self, actor, *args, **kwargs):
                yield update
    elif inspect.iscoroutinefunction(fn):
        @functools.wraps(fn)
        async def wrapper(self, *args: Any, **kwargs: Any):
            actor = await resolve(self)
            if actor is None:
                return self._to_login()
            return await fn(self, actor, *args, **kwargs)
    else:
        raise TypeError(f"@signed_in needs an async handler, got {fn.__qualname__}")

    params = list(inspect.signature(fn).parameters.values())
    if len(params) < 2 or params[0].name != "self":
        raise TypeError(f"{fn.__qualname__} must take (self, actor, ...) to be @signed_in")
    actor_param = params[1].name
    # inspect (and so Reflex) reads `__signature__` before following `__wrapped__`; type hints
    # come from `__annotations__`, resolved in the handler's own module (via `__wrapped__`).
    wrapper.__signature__ = inspect.signature(fn).replace(parameters=[params[0], *params[2:]])
    wrapper.__annotations__ = {k: v for k, v in fn.__annotations__.items() if k != actor_param}
    setattr(wrapper, ACCESS_MARK, "signed_in")
    return wrapper


class SessionState(rx.State):
    """Base of every page state: owns the session cookie."""

    # Set by the browser from its cookie on every connect and navigation. Not HttpOnly: Reflex
    # cookies are written by the page's JavaScript. `strict` keeps it off cross-site requests.
    session_token: str = rx.Cookie(
        "",
        name=SESSION_COOKIE,
        path="/",
        max_age=config.load().session_days * 24 * 3600,
        # Secure when the app's URL (REFLEX_API_URL / REFLEX_DEPLOY_URL) is https; read at compile time.
        secure=app_url_is_https(),
        same_site="strict",
    )

    def _token(self) -> str | None:
        token = self.session_token
        if not isinstance(token, str) or not token or len(token) > _MAX_TOKEN_LENGTH:
            return None
        return token

    async def _actor(self) -> Actor | None:
        """The signed-in user for this browser, looked up again on every call."""
        token = self._token()
        if token is None:
            return None
        return await asyncio.to_thread(sessions.actor_for_token, token)

    def _to_login(self) -> Any:
        """What a handler returns without a session. Page states override it to drop their data."""
        return rx.redirect(LOGIN_ROUTE, replace=True)

    def _forget_session(self) -> list[rx.event.EventSpec]:
        """Drop the token here and in the browser; returns the event that removes the cookie."""
        self.session_token = ""
        self.user_name, self.is_admin = "", False
        return [rx.remove_cookie(SESSION_COOKIE, {"path": "/", "sameSite": "strict"})]

    # What the page shell shows of the signed-in user. Display only: every handler asks the
    # services again, which check access themselves.
    user_name: str = ""
    is_admin: bool = False
    simulator_mode: bool = False

    async def _signed_in(self) -> Actor | None:
        """The actor, with the shell's display fields refreshed; None (and the fields cleared) when
        there is no valid session. Page `load` handlers start with this."""
        actor = await self._actor()
        if actor is None:
            self.user_name, self.is_admin = "", False
            return None
        self.user_name, self.is_admin = actor.name, actor.role == "admin"
        from groupsms.messaging import runtime

        self.simulator_mode = runtime.simulator() is not None
        return actor

    async def _reset_tab(self) -> None:
        """Put every page state of this tab back to its defaults (signing out): nothing the previous
        user saw stays in the browser or in the state store. Each state is loaded first, because
        the store hands a handler only the states it needs."""
        todo = [SessionState]
        while todo:
            cls = todo.pop()
            todo.extend(cls.get_substates())
            state = await self.get_state(cls)
            for name, field in cls.__fields__.items():
                if field._owner is cls:  # inherited fields reset with the class that owns them
                    setattr(state, name, field.default_value())

    @rx.event
    @public
    async def sign_out(self):
        """End this browser's session (the shell's "Sign out" button, on every page) and clear
        every page state of the tab. Safe without a session: it just clears and redirects."""
        actor = await self._actor()
        token = self._token()
        if actor is not None and token is not None:
            try:
                await asyncio.to_thread(sessions.sign_out, actor, token)
            except GroupsmsError:
                pass  # the session is already gone: signing out is done either way
        await self._reset_tab()
        return [*self._forget_session(), rx.redirect(LOGIN_ROUTE, replace=True)]


def _is_reflex_internal(state_cls: type) -> bool:
    # Reflex's own states (hydration, on_load dispatch, client storage sync, frontend error
    # reports) live in the `reflex` package; they run no code of ours and must work signed out.
    # Everything else, ours or not, needs a session.
    return state_cls.__module__.split(".", 1)[0] == "reflex"


def _redirect_to_login() -> StateUpdate:
    return StateUpdate(events=Event.from_event_type(rx.redirect(LOGIN_ROUTE, replace=True)))


class SessionGuard(rx.Middleware):
    """Refuse every event without a valid session, but Reflex's own and the `@public` handlers."""

    async def preprocess(self, app: App, state: rx.State, event: Event) -> StateUpdate | None:
        state_path, _, handler_name = event.name.rpartition(".")
        try:
            state_cls = rx.State.get_class_substate(state_path)
        except ValueError:
            logger.warning("Refused an event for an unknown state: %.200s", event.name)
            return _redirect_to_login()
        if _is_reflex_internal(state_cls):
            return None
        handler = state_cls.event_handlers.get(handler_name)
        if handler is not None and _handler_key(handler.fn) in _PUBLIC_HANDLERS:
            return None
        session = await state.get_state(SessionState)
        if await session._actor() is not None:
            return None
        return _redirect_to_login()
