"""Services: what pages, the CLI and scripts call to act as a user. Each public function takes the
acting user first, checks access, validates with the domain and reads or writes in one unit of work
(`db.read()` or `db.transaction()`), publishing a typed change event for what it changed.

They are not the only code that writes: the outbox worker (`messaging.worker`), inbound processing
(`messaging.inbound`), the relay (`messaging.relay`) and the load file (`loadfile`) write too, acting
for no user; opt-outs and DND locks are written through `messaging.optout` whichever path makes them.
Code inside this package shares `_base` (and `_duplicates`); nothing outside imports them."""

from groupsms.services import (
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
    webhook_subscriptions,  # registers the outbound-webhook outbox writer with every write path
)
from groupsms.services._base import Actor

SERVICE_MODULES = (sessions, users, numbers, contacts, groups, messages, policy, imports, phones, audit,
                   inbound_events, api_tokens, webhook_subscriptions, integrations, location_settings, inbox)

__all__ = [
    "Actor", "SERVICE_MODULES", "api_tokens", "audit", "contacts", "groups", "imports", "inbox", "inbound_events", "integrations",
    "location_settings", "messages", "numbers", "phones", "policy", "sessions", "users", "webhook_subscriptions",
]
