"""The Reflex app: pages, the session backstop, Vonage's webhooks, and the lifetime of the database
engine and of the messaging side (outbox worker; the built-in simulator without VONAGE_API_KEY)."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import os
from collections.abc import AsyncIterator

import reflex as rx
from starlette.applications import Starlette

from groupsms import api, config, db
from groupsms.components.dialogs import HEAD_COMPONENTS
from groupsms.headers import SecurityHeaders
from groupsms.pages import PAGE_MODULES
from groupsms.live import live_updates
from groupsms.pages.session import SessionGuard
from groupsms.webhooks import vonage


@contextlib.asynccontextmanager
async def _database() -> AsyncIterator[None]:
    # Every backend worker configures its own engine from GROUPSMS_DATABASE_URL.
    engine = db.init()
    try:
        yield
    finally:
        engine.dispose()


@contextlib.asynccontextmanager
async def _messaging() -> AsyncIterator[None]:
    """Run the outbox worker in this process unless GROUPSMS_WORKER_IN_APP=0 (separate
    `groupsms worker` processes then send). Without VONAGE_API_KEY it also starts the simulator,
    which posts its receipts and replies to this app's own webhooks."""
    if os.environ.get("GROUPSMS_WORKER_IN_APP", "1") == "0":
        yield
        return
    from groupsms.messaging import runtime

    base = rx.config.get_config().api_url.rstrip("/")
    running = await asyncio.to_thread(runtime.start, base)
    logging.getLogger(__name__).info("messaging started (webhooks at %s)", base)
    try:
        yield
    finally:
        await asyncio.to_thread(running.stop)


# Fail closed: with a real Vonage key and no signature secret every process of the app (the compile
# step of `reflex run` and each backend worker) stops here with a message naming the variable.
config.require_signed_webhooks()

# The Radix theme is configured in rxconfig.py (RadixThemesPlugin).
# Webhook routes first; then SecurityHeaders wraps everything, the built frontend included (in
# production Reflex mounts it inside the backend app).
# The REST API for CRMs answers under /api/v1 (groupsms/api).
app = rx.App(stylesheets=["/styles.css", "/shell_a11y.css", "/group_page.css"], head_components=HEAD_COMPONENTS,
             api_transformer=[Starlette(routes=vonage.routes), api.Mounted, SecurityHeaders])
app.add_middleware(SessionGuard())
app.register_lifespan_task(_database)
app.register_lifespan_task(_messaging)
app.register_lifespan_task(live_updates)

for module_name in PAGE_MODULES:
    page = importlib.import_module(module_name).PAGE
    app.add_page(page.component, route=page.route, title=page.title, on_load=page.on_load)
