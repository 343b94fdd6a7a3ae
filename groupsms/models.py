"""Tables. Every row of the location's data belongs to one location (R14), directly or through its
parent. The install's own rows belong to none: the provider account's numbers, sign-in attempts,
raw webhook calls, the role policy (a rule names its location, or "*", as text) and its version,
and the install owner's audit events.

Times are timezone-aware UTC (`utcnow()`); SQLModel's UTCDateTime stores them the same on SQLite and
PostgreSQL.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

ROLES = ("admin", "user")
DATA_ACCESS = ("all", "assigned")
WHICH = ("primary", "secondary")
DELIVERY_STATUSES = ("queued", "sent", "delivered", "failed", "unconfirmed")


def utcnow() -> datetime:
    return datetime.now(UTC)


@functools.cache
def _defaults(model: type) -> tuple[dict[str, object], dict[str, Callable[[], object]]]:
    """A table model's column defaults: fixed values and factories (its id is the database's)."""
    fixed, made = {}, {}
    for name, field in model.model_fields.items():
        if name == "id":
            continue
        if field.default_factory is not None:
            made[name] = field.default_factory
        elif not field.is_required():
            fixed[name] = field.default
    return fixed, made


def new_row(model: type, **values: object) -> dict[str, object]:
    """Every column of a new row of `model`, as constructing the model would set them: for a Core
    INSERT on a hot path that stores exactly what the ORM would, without building the object."""
    fixed, made = _defaults(model)
    row = {**fixed, **{name: make() for name, make in made.items() if name not in values}}
    row.update(values)
    return row


def _fk(target: str, *, nullable: bool = False, ondelete: str | None = None, index: bool = True):
    return Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey(target, ondelete=ondelete), nullable=nullable, index=index
        ),
    )


class Location(SQLModel, table=True):
    __tablename__ = "location"
    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    # The text every participant gets when a group is created (off when intro_enabled is false);
    # an empty intro_text means the built-in wording (`domain.intro`).
    intro_enabled: bool = Field(default=True)
    intro_text: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    created_at: datetime = Field(default_factory=utcnow)


class User(SQLModel, table=True):
    __tablename__ = "app_user"
    __table_args__ = (
        UniqueConstraint("location_id", "ref"),
        CheckConstraint("role IN ('admin', 'user')", name="ck_user_role"),
        CheckConstraint("data_access IN ('all', 'assigned')", name="ck_user_data_access"),
    )
    id: int | None = Field(default=None, primary_key=True)
    location_id: int = _fk("location.id")
    ref: str = Field(max_length=64)
    email: str = Field(max_length=254, unique=True)
    name: str = Field(max_length=200)
    role: str = Field(default="user", max_length=16)
    data_access: str = Field(default="assigned", max_length=16)
    password_hash: str = Field(max_length=255)
    is_active: bool = Field(default=True)
    # Set when the user changes their own password: loading the demo or a load file again keeps it.
    password_changed_at: datetime | None = Field(default=None)
    # Profile settings: an IANA zone ("America/Chicago") and "12h" | "24h"; empty means "what the
    # browser says" (the zone and locale it reported when it signed in, `AuthSession`).
    time_zone: str = Field(default="", max_length=64)
    clock: str = Field(default="", max_length=8)
    created_at: datetime = Field(default_factory=utcnow)


class AuthSession(SQLModel, table=True):
    """A signed-in browser. Only the SHA-256 of the random token is stored."""

    __tablename__ = "auth_session"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = _fk("app_user.id", ondelete="CASCADE")
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    last_seen_at: datetime = Field(default_factory=utcnow)
    # What the browser reported at sign-in (Intl time zone and navigator.language), for local times.
    browser_zone: str = Field(default="", max_length=64)
    browser_locale: str = Field(default="", max_length=35)


class LoginAttempt(SQLModel, table=True):
    """Failed sign-ins, for throttling by email, by client and install-wide."""

    __tablename__ = "login_attempt"
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, index=True)
    client: str | None = Field(default=None, max_length=64, index=True)
    at: datetime = Field(default_factory=utcnow, index=True)


class BusinessNumber(SQLModel, table=True):
    __tablename__ = "business_number"
    __table_args__ = (UniqueConstraint("location_id", "ref"),)
    id: int | None = Field(default=None, primary_key=True)
    location_id: int = _fk("location.id")
    ref: str = Field(max_length=64)
    e164: str = Field(max_length=16, unique=True)
    label: str = Field(default="", max_length=100)
    is_default: bool = Field(default=False)
    sms_capable: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow)


class ProviderNumber(SQLModel, table=True):
    """A number the provider account owns (Vonage Numbers API, or the simulator's). Install-wide:
    only the install owner gives one to a location, which makes it a BusinessNumber there."""

    __tablename__ = "provider_number"
    id: int | None = Field(default=None, primary_key=True)
    e164: str = Field(max_length=16, unique=True)
    source: str = Field(default="vonage", max_length=16)  # vonage | simulator | manual
    country: str = Field(default="", max_length=2)
    sms_capable: bool = Field(default=True)
    synced_at: datetime = Field(default_factory=utcnow)
    created_at: datetime = Field(default_factory=utcnow)


class NumberAssignment(SQLModel, table=True):
    """A business number assigned to a user (R12)."""

    __tablename__ = "number_assignment"
    number_id: int = Field(
        sa_column=Column(Integer, ForeignKey("business_number.id", ondelete="CASCADE"), primary_key=True)
    )
    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True)
    )


class Contact(SQLModel, table=True):
    __tablename__ = "contact"
    __table_args__ = (UniqueConstraint("location_id", "ref"),)
    id: int | None = Field(default=None, primary_key=True)
    location_id: int = _fk("location.id")
    ref: str | None = Field(default=None, max_length=64)
    name: str = Field(max_length=200)
    primary_phone: str | None = Field(default=None, max_length=16, index=True)
    secondary_phone: str | None = Field(default=None, max_length=16, index=True)
    dnd_sms: bool = Field(default=False)
    assigned_user_id: int | None = _fk("app_user.id", nullable=True, ondelete="SET NULL")
    deleted_at: datetime | None = Field(default=None)
    # Set on the contact a merge removed: the id of the one it was merged into (no foreign key,
    # so SQLite can add the column in place).
    merged_into_id: int | None = Field(default=None, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    def phone(self, which: str) -> str | None:
        return self.primary_phone if which == "primary" else self.secondary_phone


class Group(SQLModel, table=True):
    """A group conversation. Business number and participants never change (R9)."""

    __tablename__ = "chat_group"
    id: int | None = Field(default=None, primary_key=True)
    location_id: int = _fk("location.id")
    business_number_id: int = _fk("business_number.id")
    created_by_id: int | None = _fk("app_user.id", nullable=True)
    # Optional label ("12 Maple Ridge closing"); renaming never changes who is in the group (R9).
    name: str = Field(default="", max_length=120)
    created_at: datetime = Field(default_factory=utcnow)
    locked_reason: str | None = Field(default=None, max_length=500)
    locked_at: datetime | None = Field(default=None)
    last_activity_at: datetime = Field(default_factory=utcnow, index=True)


class Participant(SQLModel, table=True):
    """A (contact, which number) in a group, with the name and number captured at creation (R8)."""

    __tablename__ = "participant"
    __table_args__ = (
        UniqueConstraint("group_id", "e164"),
        CheckConstraint("which IN ('primary', 'secondary')", name="ck_participant_which"),
    )
    id: int | None = Field(default=None, primary_key=True)
    group_id: int = _fk("chat_group.id")
    contact_id: int = _fk("contact.id")
    which: str = Field(max_length=16)
    name: str = Field(max_length=200)
    e164: str = Field(max_length=16, index=True)
    position: int = Field(default=0)


class Message(SQLModel, table=True):
    """A message of a group, or an inbound SMS not (yet) routed to one (E2)."""

    __tablename__ = "message"
    __table_args__ = (
        CheckConstraint("direction IN ('outbound', 'inbound')", name="ck_message_direction"),
        Index("ix_message_group_created", "group_id", "created_at"),
        # One compose sends one message: a repeated send event with the same key finds the first.
        UniqueConstraint("sender_user_id", "client_key", name="uq_message_client_key"),
    )
    id: int | None = Field(default=None, primary_key=True)
    location_id: int = _fk("location.id")
    group_id: int | None = _fk("chat_group.id", nullable=True, index=False)
    business_number_id: int = _fk("business_number.id")
    direction: str = Field(max_length=16)
    # routed | unrouted | needs_routing (inbound only; outbound is always routed)
    routing: str = Field(default="routed", max_length=16)
    body: str = Field(sa_column=Column(Text, nullable=False))
    sender_user_id: int | None = _fk("app_user.id", nullable=True)
    sender_participant_id: int | None = _fk("participant.id", nullable=True)
    from_e164: str | None = Field(default=None, max_length=16)
    # What went out by SMS when it differs from `body` (a relay carries the sender's name, R5).
    sms_text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # Aggregate of the deliveries (E3): queued | sent | delivered | failed | partial | none
    status: str = Field(default="queued", max_length=16)
    # The provider's id for an inbound SMS (joined parts: "concat:<msisdn>:<to>:<ref>:<first part id>"): stored once.
    provider_ref: str | None = Field(default=None, max_length=120, unique=True)
    # The single-use key of the compose that sent it (outbound typed in the app).
    client_key: str | None = Field(default=None, max_length=64)
    # A long inbound SMS shown with the parts that arrived after the wait ran out (E6).
    incomplete: bool = Field(default=False)
    # Why it was not (fully) relayed or what is special about it, shown to the business.
    notice: str | None = Field(default=None, max_length=300)
    # text | intro (the text that tells participants they are in a group, sent at creation)
    kind: str = Field(default="text", max_length=16)
    # An inbound text outside any group that someone dismissed from "Other texts".
    dismissed_at: datetime | None = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow)


class Delivery(SQLModel, table=True):
    """One outbound SMS to one recipient: the outbox row the messaging worker drains."""

    __tablename__ = "delivery"
    __table_args__ = (
        CheckConstraint(
            "status IN ('queued', 'sent', 'delivered', 'failed', 'unconfirmed')", name="ck_delivery_status"
        ),
        Index("ix_delivery_lane", "lane", "status"),
        # The order the worker claims in (replies first, then oldest): a claim reads the queue's head.
        Index("ix_delivery_queue", "status", "priority", "id"),
        # A message's deliveries by status: its aggregate (E3) is read from the index alone.
        Index("ix_delivery_message_status", "message_id", "status"),
    )
    id: int | None = Field(default=None, primary_key=True)
    message_id: int = _fk("message.id", index=False)  # ix_delivery_message_status leads with it
    participant_id: int | None = _fk("participant.id", nullable=True)
    to_e164: str = Field(max_length=16)
    status: str = Field(default="queued", max_length=16)
    # Sends to one recipient from one business number go out one at a time, in id order:
    # "<business number id>:<E.164>".
    lane: str = Field(default="", max_length=40)
    # 0: opt-out confirmations, HELP replies and relays; 1: sends typed in the app.
    priority: int = Field(default=1)
    attempts: int = Field(default=0)
    # Sends whose outcome was unknown (timeout, dropped connection, 5xx, unreadable answer).
    ambiguous_attempts: int = Field(default=0)
    next_attempt_at: datetime = Field(default_factory=utcnow)
    claimed_until: datetime | None = Field(default=None)
    claimed_by: str | None = Field(default=None, max_length=64)
    # The one SMS allowed to a number that just opted out: the confirmation (E1).
    opt_out_confirmation: bool = Field(default=False)
    provider_message_ids: str = Field(default="", max_length=500)
    # Receipt status per provider message id (a long SMS has several parts): JSON object.
    part_statuses: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    # How many parts the provider accepted, and the price of each part: JSON object.
    parts_accepted: int = Field(default=0)
    # How many parts the provider made of the text, accepted or not (0: not known).
    parts_total: int = Field(default=0)
    part_prices: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    price: str | None = Field(default=None, max_length=32)
    error_code: str | None = Field(default=None, max_length=32)
    error_text: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class InboundEvent(SQLModel, table=True):
    """A raw webhook call, stored before it is processed; unique per provider message id."""

    __tablename__ = "inbound_event"
    __table_args__ = (
        UniqueConstraint("kind", "provider_message_id"),
        Index("ix_inbound_event_pending", "processed_at", "next_attempt_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)  # inbound | status
    provider_message_id: str = Field(max_length=100)
    # Parts of one long inbound SMS share this key ("<msisdn>:<to>:<concat-ref>"), E6.
    concat_key: str | None = Field(default=None, max_length=100, index=True)
    payload: str = Field(sa_column=Column(Text, nullable=False))
    received_at: datetime = Field(default_factory=utcnow)
    processed_at: datetime | None = Field(default=None)
    error: str | None = Field(default=None, max_length=500)
    # Processing retries (E6 parts waiting, database errors): backoff, then an admin sees the error.
    attempts: int = Field(default=0)
    next_attempt_at: datetime | None = Field(default=None)
    gave_up_at: datetime | None = Field(default=None)
    # A part of a long SMS that was joined into this message (a reused concat-ref starts afresh).
    consumed_by_message_id: int | None = Field(default=None)


class OptOut(SQLModel, table=True):
    """E1: a phone number that texted STOP to the location: no SMS goes to it from the location
    (but the one confirmation) until it texts START. Whatever contact holds the number."""

    __tablename__ = "opt_out"
    __table_args__ = (UniqueConstraint("location_id", "e164"),)
    id: int | None = Field(default=None, primary_key=True)
    location_id: int = _fk("location.id")
    e164: str = Field(max_length=16, index=True)
    active: bool = Field(default=True)
    keyword: str = Field(default="", max_length=32)  # what the number texted, normalised
    via: str = Field(default="text", max_length=16)
    opted_out_at: datetime = Field(default_factory=utcnow)
    opted_in_at: datetime | None = Field(default=None)
    confirmation_message_id: int | None = Field(default=None)


class AuditEvent(SQLModel, table=True):
    """Who did what and when (E8)."""

    __tablename__ = "audit_event"
    id: int | None = Field(default=None, primary_key=True)
    location_id: int | None = _fk("location.id", nullable=True)
    actor_user_id: int | None = _fk("app_user.id", nullable=True)
    action: str = Field(max_length=64, index=True)
    object_type: str = Field(max_length=32)
    object_id: int | None = Field(default=None)
    detail: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, index=True)


class CasbinRule(SQLModel, table=True):
    """Role → permission rules, read by the Casbin SQLAlchemy adapter."""

    __tablename__ = "casbin_rule"
    id: int | None = Field(default=None, primary_key=True)
    ptype: str = Field(default="", max_length=255)
    v0: str | None = Field(default=None, max_length=255)
    v1: str | None = Field(default=None, max_length=255)
    v2: str | None = Field(default=None, max_length=255)
    v3: str | None = Field(default=None, max_length=255)
    v4: str | None = Field(default=None, max_length=255)
    v5: str | None = Field(default=None, max_length=255)

    def __str__(self) -> str:  # the adapter parses this line; without it nothing loads
        values = [self.ptype] + [v for v in (self.v0, self.v1, self.v2, self.v3, self.v4, self.v5) if v is not None]
        return ", ".join(values)


class PolicyVersion(SQLModel, table=True):
    """Bumped on every policy change so each process reloads its enforcer."""

    __tablename__ = "policy_version"
    id: int | None = Field(default=None, primary_key=True)
    version: int = Field(default=0)
    updated_at: datetime = Field(default_factory=utcnow)


class GroupRead(SQLModel, table=True):
    """How far a user has read a group (E7 unread counts)."""

    __tablename__ = "group_read"
    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True)
    )
    group_id: int = Field(
        sa_column=Column(Integer, ForeignKey("chat_group.id", ondelete="CASCADE"), primary_key=True)
    )
    last_read_message_id: int = Field(default=0)
    updated_at: datetime = Field(default_factory=utcnow)


class ApiToken(SQLModel, table=True):
    """A token a CRM sends as `Authorization: Bearer <token>`. It acts as its user, with that user's
    access, narrowed by its scopes. Only the SHA-256 of the token is stored; it is shown once."""

    __tablename__ = "api_token"
    id: int | None = Field(default=None, primary_key=True)
    location_id: int = _fk("location.id")
    user_id: int = _fk("app_user.id", ondelete="CASCADE")
    name: str = Field(max_length=100)
    # The first characters of the token, shown in lists so people can tell tokens apart.
    prefix: str = Field(max_length=16)
    token_hash: str = Field(max_length=64, unique=True)
    # Space-separated subset of: read send contacts:write admin.
    scopes: str = Field(default="", max_length=200)
    created_by_id: int | None = _fk("app_user.id", nullable=True, ondelete="SET NULL", index=False)
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = Field(default=None)
    revoked_at: datetime | None = Field(default=None)


class WebhookSubscription(SQLModel, table=True):
    """A URL of the location's CRM that receives signed events of the chosen types."""

    __tablename__ = "webhook_subscription"
    id: int | None = Field(default=None, primary_key=True)
    location_id: int = _fk("location.id")
    url: str = Field(max_length=2000)
    # Space-separated event types (message.received, group.created, ...).
    events: str = Field(max_length=500)
    # The HMAC-SHA256 key of the Groupsms-Signature header (the receiver holds the same).
    secret: str = Field(max_length=100)
    created_by_id: int | None = _fk("app_user.id", nullable=True, ondelete="SET NULL", index=False)
    created_at: datetime = Field(default_factory=utcnow)
    deleted_at: datetime | None = Field(default=None)


class WebhookDelivery(SQLModel, table=True):
    """One event for one subscription: the outbound-webhook outbox, written in the same transaction
    as the change and sent at least once, retried with backoff until `expires_at`."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'delivered', 'failed')", name="ck_webhook_delivery_status"),
        Index("ix_webhook_delivery_due", "status", "next_attempt_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    subscription_id: int = _fk("webhook_subscription.id", ondelete="CASCADE")
    location_id: int = _fk("location.id", index=False)
    event_id: str = Field(max_length=40, index=True)
    event_type: str = Field(max_length=40)
    payload: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default="pending", max_length=16)
    attempts: int = Field(default=0)
    next_attempt_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    claimed_until: datetime | None = Field(default=None)
    last_status_code: int | None = Field(default=None)
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow)
    delivered_at: datetime | None = Field(default=None)
