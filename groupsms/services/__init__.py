"""Services: the only code that writes. Each public function takes the acting user first, checks
access, validates with the domain and writes in one transaction."""

from groupsms.services import (
    api_tokens,
    audit,
    contacts,
    groups,
    imports,
    inbound_events,
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
                   inbound_events)

__all__ = [
    "Actor", "SERVICE_MODULES", "audit", "contacts", "groups", "imports", "inbound_events", "messages", "numbers", "phones", "policy",
    "sessions", "users",
]
