"""The browser session, the store-wide session check and the handler kernel.

The session cookie holds a random token; the server stores only its hash (`services.sessions`).
Reflex lets the browser call every public method of every State class with any arguments, so:

- every public handler is decorated with `@signed_in` (or `@public`); `tests/pages/test_handlers.py`
  fails for a handler with neither. `signed_in` is the one ladder every handler runs through: it
  resolves the actor for this event, hands it to the handler, turns what the services raise into
  what the page shows, and sets and clears a busy flag around the body;
- `SessionGuard`, a middleware run before every event, refuses every event unless the cookie names
  a valid session, except Reflex's own internal events and handlers marked `@public` (signing in).
  The actor it looked up is handed to the event's handler (`_event_actor`), so one event costs one
  session lookup; a handler called any other way looks the session up itself. A handler marked
  `signed_in(cached_session=True)` reads and writes nothing (the composer's counter, one event per
  keystroke): its lookup may be a cached answer of the last few seconds (`services.sessions`).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import reflex as rx
from reflex.state import StateUpdate
from reflex_base.event import Event

from groupsms import config
from groupsms.errors import GroupsmsError, NotAuthenticated, NotFound
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
# What a person sees when a handler failed in a way nobody planned for (the log has the traceback).
UNEXPECTED = "Something went wrong. Please try again."

_F = TypeVar("_F", bound=Callable[..., Any])
_T = TypeVar("_T")
_PUBLIC_HANDLERS: set[str] = set()

# The actor SessionGuard resolved for the event being processed, with the token it resolved:
# Reflex runs the middleware and then the handler in the same task, and the guard sets this (or
# clears it) before every event, so a handler never sees another event's lookup.
_EVENT_ACTOR: contextvars.ContextVar[tuple[str, Actor] | None] = contextvars.ContextVar(
    "groupsms_event_actor", default=None
)


def _handler_key(fn: Callable[..., Any]) -> str:
    return f"{fn.__module__}:{fn.__qualname__}"


# What `signed_in` and `public` leave on a handler, so a test can find handlers with neither.
ACCESS_MARK = "_groupsms_access"
# Where `signed_in` records the state field a handler's refusals go to (and its busy flag).
ERROR_FIELD_MARK = "_groupsms_error_field"
BUSY_FIELD_MARK = "_groupsms_busy_field"
CACHED_SESSION_MARK = "_groupsms_cached_session"


def public(fn: _F) -> _F:
    """Mark an event handler as callable without a session (the sign-in form and its page)."""
    _PUBLIC_HANDLERS.add(_handler_key(fn))
    setattr(fn, ACCESS_MARK, "public")
    return fn


def signed_in(
    fn: Callable[..., Any] | None = None,
    *,
    shell: bool = False,
    error: str | None = "error",
    busy: str | None = None,
    cached_session: bool = False,
) -> Any:
    """The kernel of every page event handler.

    1. The actor: the one SessionGuard resolved for this event, else looked up from the cookie.
       Without a valid session the body does not run and the state's `_to_login()` is returned
       (by default: the state's own fields back to their defaults, and a redirect to sign-in).
    2. The body runs with the actor as its first argument after `self`; it runs blocking service
       calls through `await self._call(fn, ...)` (a worker thread).
    3. What the body raises becomes what the page shows: `NotAuthenticated` → `_to_login()`;
       `NotFound` → `_not_found(exc, error)` (by default its message in the error field); any other
       `GroupsmsError` → its message in the state field named by `error`; anything else → a log
       entry with the traceback and `UNEXPECTED` in that field.
    4. `busy` names a bool field set while the body runs and cleared after it, also on error (the
       browser sees it at the body's first `yield`).
    5. `cached_session=True`, only for a body that calls no service and shows nothing of the
       database: the session check may use a cached answer of the last few seconds.

    Usage (under `@rx.event`, which must stay outermost)::

        @rx.event
        @signed_in(error="send_error", busy="sending")
        async def send(self, actor: Actor, form_data):
            ...  # the browser sends only (form_data)

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
        return functools.partial(signed_in, shell=shell, error=error, busy=busy, cached_session=cached_session)

    name = fn.__qualname__
    if inspect.isasyncgenfunction(fn):
        @functools.wraps(fn)
        async def wrapper(self: SessionState, *args: Any, **kwargs: Any):
            actor = await self._event_actor(shell=shell, cached=cached_session)
            if actor is None:
                yield self._to_login()
                return
            self._set_busy(busy, True)
            try:
                async for update in fn(self, actor, *args, **kwargs):
                    yield update
            except Exception as exc:  # noqa: BLE001 (the kernel's whole point)
                update = self._failed(name, exc, error)
                if update is not None:
                    yield update
            finally:
                self._set_busy(busy, False)
    elif inspect.iscoroutinefunction(fn):
        @functools.wraps(fn)
        async def wrapper(self: SessionState, *args: Any, **kwargs: Any):
            actor = await self._event_actor(shell=shell, cached=cached_session)
            if actor is None:
                return self._to_login()
            self._set_busy(busy, True)
            try:
                return await fn(self, actor, *args, **kwargs)
            except Exception as exc:  # noqa: BLE001
                return self._failed(name, exc, error)
            finally:
                self._set_busy(busy, False)
    else:
        raise TypeError(f"@signed_in needs an async handler, got {name}")

    params = list(inspect.signature(fn).parameters.values())
    if len(params) < 2 or params[0].name != "self":
        raise TypeError(f"{name} must take (self, actor, ...) to be @signed_in")
    actor_param = params[1].name
    # inspect (and so Reflex) reads `__signature__` before following `__wrapped__`; type hints
    # come from `__annotations__`, resolved in the handler's own module (via `__wrapped__`).
    wrapper.__signature__ = inspect.signature(fn).replace(parameters=[params[0], *params[2:]])
    wrapper.__annotations__ = {k: v for k, v in fn.__annotations__.items() if k != actor_param}
    setattr(wrapper, ACCESS_MARK, "signed_in")
    setattr(wrapper, ERROR_FIELD_MARK, error)
    setattr(wrapper, BUSY_FIELD_MARK, busy)
    setattr(wrapper, CACHED_SESSION_MARK, cached_session)
    return wrapper


@dataclass(frozen=True)
class Outcome:
    """What `SessionState._attempt` returns: the value, or the message to show."""

    ok: bool
    value: Any = None
    error: str = ""
    exc: GroupsmsError | None = None  # the refusal, for a caller that tells kinds apart


class SessionState(rx.State):
    """Base of every page state: owns the session cookie and the pieces of the handler kernel
    (`_event_actor`, `_call`, `_attempt`, `_failed`), and resets and assigns fields the one way
    (`_reset_fields`, `_assign`). Fields declared here are shared by every page of the tab."""

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

    async def _actor(self, *, cached: bool = False) -> Actor | None:
        """The signed-in user for this browser, from the database (`cached`: an answer of the last
        few seconds will do, see `services.sessions`)."""
        token = self._token()
        if token is None:
            return None
        if cached:
            return await asyncio.to_thread(sessions.actor_for_token, token, cached=True)
        return await asyncio.to_thread(sessions.actor_for_token, token)

    async def _event_actor(self, *, shell: bool = False, cached: bool = False) -> Actor | None:
        """The actor for the event being handled: the one SessionGuard resolved for it (same
        token), else looked up now. `shell`: also refresh the page shell's user fields."""
        handed, token = _EVENT_ACTOR.get(), self._token()
        _EVENT_ACTOR.set(None)  # once: a second handler of the same event asks again
        if handed is not None and token is not None and handed[0] == token:
            actor: Actor | None = handed[1]
        else:
            actor = await self._actor(cached=cached)
        if shell:
            self._show_user(actor)
        return actor

    def _to_login(self) -> Any:
        """What a handler returns without a session: this state's fields back to their defaults
        (nothing the user saw stays) and the browser to sign-in. A page state overrides it only
        to add to that."""
        self._reset_fields()
        return rx.redirect(LOGIN_ROUTE, replace=True)

    def _not_found(self, exc: NotFound, error: str | None) -> Any:
        """What a handler shows when the services answer "not found" (missing or not the user's,
        R14): by default the message in the handler's error field. Pages with a not-found view
        override it."""
        if error is not None:
            self._show_error(error, str(exc))
        return None

    # -- the kernel's pieces ---------------------------------------------------------------------

    async def _call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run a blocking service call in a worker thread (never on the event loop)."""
        return await asyncio.to_thread(fn, *args, **kwargs)

    async def _attempt(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Outcome:
        """`_call` (or, for a coroutine function, an await) for a step whose refusal the handler
        shows and then goes on (a list that could not be loaded, a change refused before a
        refresh). Only `NotAuthenticated` still ends the handler (the kernel sends the browser to
        sign-in)."""
        try:
            if inspect.iscoroutinefunction(fn):
                return Outcome(True, await fn(*args, **kwargs))
            return Outcome(True, await self._call(fn, *args, **kwargs))
        except NotAuthenticated:
            raise
        except GroupsmsError as exc:
            return Outcome(False, error=str(exc), exc=exc)
        except Exception:
            logger.exception("%s failed", getattr(fn, "__qualname__", fn))
            return Outcome(False, error=UNEXPECTED)

    def _failed(self, handler: str, exc: Exception, error: str | None) -> Any:
        """What the page shows for what a handler body raised (see `signed_in`)."""
        if isinstance(exc, NotAuthenticated):
            return self._to_login()
        if isinstance(exc, NotFound):
            return self._not_found(exc, error)
        if isinstance(exc, GroupsmsError):
            message = str(exc)
        else:
            logger.exception("%s failed", handler)
            message = UNEXPECTED
        if error is not None:
            self._show_error(error, message)
        return None

    def _show_error(self, field: str, message: str) -> None:
        """Put a message into an error field: a text, or a list of texts."""
        setattr(self, field, [message] if isinstance(getattr(self, field), list) else message)

    def _set_busy(self, busy: str | None, value: bool) -> None:
        if busy is not None:
            self._assign(**{busy: value})

    @staticmethod
    def _require(found: _T | None, what: str) -> _T:
        """`found`, or `NotFound(what)` (which the kernel shows as "<what> not found")."""
        if found is None:
            raise NotFound(what)
        return found

    def _close_dialog(self, field: str, is_open: Any) -> None:
        """A dialog's own open/close event (Escape, overlay click, Cancel) for the dialog whose
        open flag is `field`: only closing is honoured (opening goes through the page's handler)."""
        if is_open is not True:
            self._assign(**{field: False})

    # -- assigning and resetting -----------------------------------------------------------------

    def _assign(self, **values: Any) -> None:
        """Assign only what changed: Reflex sends every assigned var, and live refreshes are often."""
        for name, value in values.items():
            if getattr(self, name) != value:
                setattr(self, name, value)

    @classmethod
    def _own_fields(cls) -> dict[str, Any]:
        # Inherited fields belong to (and reset with) the class that declares them.
        return {name: field for name, field in cls.__fields__.items() if field._owner is cls}

    def _reset_fields(self, *names: str, keep: tuple[str, ...] = ()) -> None:
        """Put fields back to their declared defaults: the named ones, or all this state declares
        (but `keep`)."""
        fields = type(self)._own_fields()
        chosen = names or tuple(fields)
        self._assign(**{name: fields[name].default_value() for name in chosen if name not in keep})

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

    def _show_user(self, actor: Actor | None) -> None:
        """The shell's display fields for this actor (cleared without one)."""
        if actor is None:
            self.user_name, self.is_admin = "", False
            return
        from groupsms.messaging import runtime

        self._assign(user_name=actor.name, is_admin=actor.role == "admin",
                     simulator_mode=runtime.simulator() is not None)

    async def _reset_tab(self) -> None:
        """Put every page state of this tab back to its defaults (signing out): nothing the previous
        user saw stays in the browser or in the state store. Each state is loaded first, because
        the store hands a handler only the states it needs."""
        todo = [SessionState]
        while todo:
            cls = todo.pop()
            todo.extend(cls.get_substates())
            state = await self.get_state(cls)
            state._reset_fields()

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
        _EVENT_ACTOR.set(None)  # nothing of the previous event's lookup stays for this one
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
        cached = handler is not None and getattr(handler.fn, CACHED_SESSION_MARK, False) is True
        actor = await (session._actor(cached=True) if cached else session._actor())
        if actor is None:
            return _redirect_to_login()
        _EVENT_ACTOR.set((session._token(), actor))  # the handler of this event takes it over
        return None
