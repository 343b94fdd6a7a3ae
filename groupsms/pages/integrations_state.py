"""State of the integrations section (API tokens and outbound webhook subscriptions), shown on
/settings/integrations and meant for "Users & access". Admins only: the services check
`user:manage` on every call, and a token or signing secret is shown once, right after it is made.

The section loads itself when it mounts (`IntegrationsState.load`), so any admin page can show it.
"""

from __future__ import annotations

import dataclasses

import reflex as rx

from groupsms.components.forms import browser_id, form_text
from groupsms.pages.session import SessionState, signed_in
from groupsms.services import api_tokens, users
from groupsms.services import webhook_subscriptions as subs



@dataclasses.dataclass
class TokenRow:
    id: int
    name: str
    prefix: str
    user: str
    scopes: str
    created: str
    last_used: str


@dataclasses.dataclass
class UserChoice:
    id: str
    label: str


@dataclasses.dataclass
class SubscriptionRow:
    id: int
    url: str
    events: str


@dataclasses.dataclass
class DeliveryRow:
    id: int
    event: str
    status: str
    attempts: int
    answer: str
    created: str


class IntegrationsState(SessionState):
    allowed: bool = False
    loaded: bool = False
    tokens: list[TokenRow] = []
    user_choices: list[UserChoice] = []
    new_token: str = ""  # shown once, until dismissed or the page is left
    new_token_name: str = ""
    token_error: str = ""
    token_notice: str = ""

    subscriptions: list[SubscriptionRow] = []
    new_secret: str = ""
    hook_error: str = ""
    hook_notice: str = ""
    deliveries_for: int = 0
    deliveries_url: str = ""
    deliveries: list[DeliveryRow] = []

    @rx.event
    @signed_in(shell=True, error="token_error")
    async def load(self, actor):
        self._reset_fields("new_token", "new_token_name", "new_secret", "token_notice", "hook_notice",
                           "token_error", "hook_error", "deliveries_for", "deliveries")
        return await self._refresh(actor)

    async def _refresh(self, actor):
        if actor.role != "admin":
            self._reset_fields("allowed", "tokens", "user_choices", "subscriptions", "deliveries")
            self.loaded = True
            return None
        tokens = await self._attempt(api_tokens.list_tokens, actor)
        team = await self._attempt(users.list_users, actor)
        hooks = await self._attempt(subs.list_subscriptions, actor)
        self.allowed = True
        self.tokens = [
            TokenRow(t.id, t.name, t.prefix + "…", f"{t.user_name} ({t.user_email})",
                     ", ".join(t.scopes) or "everything the user may do", actor.clock.full(t.created_at),
                     actor.clock.full(t.last_used_at) if t.last_used_at else "never")
            for t in (tokens.value if tokens.ok else [])
        ]
        self.user_choices = [UserChoice(str(u.id), f"{u.name} ({u.email})")
                             for u in (team.value if team.ok else []) if u.is_active]
        self.subscriptions = [SubscriptionRow(v.id, v.url, ", ".join(v.events)) for v in (hooks.value if hooks.ok else [])]
        self.token_error = self.token_error or tokens.error or team.error
        self.hook_error = self.hook_error or hooks.error
        self.loaded = True
        if self.deliveries_for:
            await self._load_deliveries(actor)
        return None

    # -- tokens -----------------------------------------------------------------------------------

    @rx.event
    @signed_in(error="token_error")
    async def create_token(self, actor, form_data):
        self._reset_fields("token_error", "token_notice", "new_token", "new_token_name")
        name = form_text(form_data, "token_name", 100)
        user_id = browser_id(form_text(form_data, "token_user", 12))
        if name is None or user_id is None:
            self.token_error = "Give the token a name and pick the user it acts as."
            return None
        scopes = [s for s in api_tokens.SCOPES if isinstance(form_data, dict) and form_data.get(f"scope_{s}")]
        _, token = await self._call(api_tokens.create_token, actor, user_id, name, scopes)
        self.new_token, self.new_token_name = token, " ".join(name.split())
        return await self._refresh(actor)

    @rx.event
    @signed_in(error="token_error")
    async def dismiss_token(self, actor):
        self._reset_fields("new_token", "new_token_name")

    @rx.event
    @signed_in(error="token_error")
    async def revoke_token(self, actor, token_id):
        self._reset_fields("token_error", "token_notice", "new_token", "new_token_name")
        row = next((t for t in self.tokens if t.id == browser_id(token_id)), None)
        if row is None:
            self.token_error = "Pick the token again."
            return await self._refresh(actor)
        await self._call(api_tokens.revoke_token, actor, row.id)
        self.token_notice = f"The token {row.name} was revoked: requests with it now get 401"
        return await self._refresh(actor)

    # -- webhook subscriptions --------------------------------------------------------------------

    @rx.event
    @signed_in(error="hook_error")
    async def create_subscription(self, actor, form_data):
        self._reset_fields("hook_error", "hook_notice", "new_secret")
        url = form_text(form_data, "hook_url", 2000)
        events = [e for e in subs.EVENT_TYPES if isinstance(form_data, dict) and form_data.get(f"event_{e}")]
        if url is None:
            self.hook_error = "The URL is too long."
            return None
        _, secret = await self._call(subs.create_subscription, actor, url, events)
        self.new_secret = secret
        return await self._refresh(actor)

    @rx.event
    @signed_in(error="hook_error")
    async def dismiss_secret(self, actor):
        self._reset_fields("new_secret")

    @rx.event
    @signed_in(error="hook_error")
    async def delete_subscription(self, actor, subscription_id):
        self._reset_fields("hook_error", "hook_notice")
        row = next((r for r in self.subscriptions if r.id == browser_id(subscription_id)), None)
        if row is None:
            self.hook_error = "Pick the subscription again."
            return await self._refresh(actor)
        await self._call(subs.delete_subscription, actor, row.id)
        if self.deliveries_for == row.id:
            self._reset_fields("deliveries_for", "deliveries", "deliveries_url")
        self.hook_notice = f"{row.url} no longer receives events"
        return await self._refresh(actor)

    @rx.event
    @signed_in(error="hook_error")
    async def show_deliveries(self, actor, subscription_id):
        self._reset_fields("hook_error", "hook_notice")
        row = next((r for r in self.subscriptions if r.id == browser_id(subscription_id)), None)
        if row is None:
            self.hook_error = "Pick the subscription again."
            return None
        self.deliveries_for, self.deliveries_url = row.id, row.url
        await self._load_deliveries(actor)

    async def _load_deliveries(self, actor):
        found = await self._attempt(subs.list_deliveries, actor, self.deliveries_for, 20)
        self.deliveries = [
            DeliveryRow(d.id, f"{d.event_type} ({d.event_id})", d.status, d.attempts,
                        d.last_error or (f"HTTP {d.last_status_code}" if d.last_status_code else "not sent yet"),
                        actor.clock.full(d.created_at))
            for d in (found.value if found.ok else [])
        ]
        self.hook_error = self.hook_error or found.error

    @rx.event
    @signed_in(error="hook_error")
    async def resend(self, actor, delivery_id):
        self._reset_fields("hook_error", "hook_notice")
        row = next((d for d in self.deliveries if d.id == browser_id(delivery_id)), None)
        if row is None:
            self.hook_error = "Pick the delivery again."
            return None
        await self._call(subs.resend_delivery, actor, row.id)
        self.hook_notice = f"{row.event} will be sent again now"
        await self._load_deliveries(actor)
