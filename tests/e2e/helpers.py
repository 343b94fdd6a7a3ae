"""Helpers shared by the browser tests."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from playwright.sync_api import Page


@contextlib.contextmanager
def acting(database_url: str, email: str, password: str) -> Iterator[object]:
    """The services, as `email`, against the running app's database (to make test data)."""
    from groupsms import db
    from groupsms.services import sessions

    engine = db.init(database_url)
    try:
        _token, actor = sessions.sign_in(email, password)
        yield actor
    finally:
        engine.dispose()


@contextlib.contextmanager
def no_console_errors(page: Page) -> Iterator[None]:
    """Fails if the page logs an error in the browser console (React warnings, failed events)."""
    errors: list[str] = []

    def on_console(message) -> None:  # noqa: ANN001
        if message.type == "error":
            errors.append(f"{message.text} ({message.location.get('url', '')})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield
    assert not errors, errors
