"""The API's JSON shapes (request bodies and responses), as the OpenAPI document shows them."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from groupsms.api.problems import Problem


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, value = text.partition(":")
        if kind != "id" or not value.isdigit() or len(value) > 10:
            raise ValueError(text)
        return int(value)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise Problem(422, "cursor: not a cursor this API gave", errors=[
            {"field": "cursor", "rule": "cursor", "message": "Pass the next_cursor of the previous page"}]) from None


class ProblemDetail(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldProblem] | None = None
    existing_group_id: int | None = None
    scope: str | None = None


class FieldProblem(BaseModel):
    field: str
    rule: str
    message: str


class Number(BaseModel):
    id: int
    e164: str = Field(examples=["+15125550100"])
    label: str
    is_default: bool


class NumberList(BaseModel):
    data: list[Number]
    next_cursor: str | None


class Contact(BaseModel):
    external_id: str | None = Field(description="The CRM's own id of the contact (the load file's ref)")
    name: str
    primary_phone: str | None
    secondary_phone: str | None
    dnd: bool
    assigned_to: str | None = Field(description="Email of the assigned user")
    primary_opted_out: bool
    secondary_opted_out: bool
    updated_at: datetime


class ContactList(BaseModel):
    data: list[Contact]
    next_cursor: str | None


class ContactPut(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    name: str = Field(min_length=1, max_length=200)
    primary_phone: str = Field(min_length=1, max_length=40, examples=["+15125550111"])
    secondary_phone: str | None = Field(default=None, max_length=40)
    dnd: bool = False
    assigned_to: str | None = Field(default=None, max_length=254,
                                    description="Email of a user of the location; omit to keep (or default)")


class ParticipantIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    contact: str = Field(min_length=1, max_length=64, description="The contact's external id")
    number: Literal["primary", "secondary"] = "primary"


class GroupCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)
    from_: str = Field(alias="from", min_length=1, max_length=40, examples=["+15125550100"],
                       description="The business number the group texts from (E.164)")
    participants: list[ParticipantIn] = Field(min_length=1, max_length=50)
    allow_duplicate: bool = Field(default=False, description="Create even if an active group has exactly these numbers")
    name: str | None = Field(default=None, max_length=120, pattern=r"^[^\x00-\x1f\x7f-\x9f]*$",
                             examples=["12 Maple Ridge closing"], description="An optional name for the group (trimmed)")
    intro: bool | None = Field(default=None, description="Text every participant the intro (who is in the group, "
                               "how to opt out); omitted: the location's setting")


class GroupSummary(BaseModel):
    id: int
    from_: str = Field(alias="from")
    participant_names: list[str]
    locked_reason: str | None
    created_at: datetime
    last_activity_at: datetime


class GroupList(BaseModel):
    data: list[GroupSummary]
    next_cursor: str | None


class ParticipantOut(BaseModel):
    id: int
    contact: str | None = Field(description="The contact's external id")
    name: str
    number: str
    which: Literal["primary", "secondary"]
    tag: Literal["Updated", "Deleted"] | None
    dnd: bool
    opted_out: str


class Group(BaseModel):
    id: int
    from_: str = Field(alias="from")
    from_label: str
    created_by: str
    created_at: datetime
    participants: list[ParticipantOut]
    locked_reason: str | None
    can_send: bool
    send_block_reason: str | None


class MessageSend(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    text: str = Field(min_length=1, max_length=2000)


class Recipient(BaseModel):
    participant: str
    number: str
    status: str
    error: str | None
    updated_at: datetime


class MessageOut(BaseModel):
    id: int
    group_id: int
    direction: Literal["outbound", "inbound"]
    text: str
    sender: str
    created_at: datetime
    status: str
    relayed: bool
    notice: str
    recipients: list[Recipient]


class MessageList(BaseModel):
    data: list[MessageOut]
    next_cursor: str | None


class InboundText(BaseModel):
    id: int
    from_name: str
    from_: str = Field(alias="from")
    to: str
    text: str
    received_at: datetime
    candidate_group_ids: list[int]


class InboundList(BaseModel):
    data: list[InboundText]
    next_cursor: str | None


class RouteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    group_id: int = Field(ge=1, le=2**31 - 1)


class Routed(BaseModel):
    message_id: int
    group_id: int


class SubscriptionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    url: str = Field(min_length=1, max_length=2000, examples=["https://crm.example.com/hooks/groupsms"])
    events: list[str] = Field(min_length=1, max_length=20, examples=[["message.received", "group.created"]])


class Subscription(BaseModel):
    id: int
    url: str
    events: list[str]
    created_at: datetime
    secret: str | None = Field(default=None, description="The signing secret (only in the answer to POST)")


class SubscriptionList(BaseModel):
    data: list[Subscription]
    next_cursor: str | None


class WebhookDelivery(BaseModel):
    id: int
    event_id: str
    event_type: str
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime | None
    delivered_at: datetime | None


class WebhookDeliveryList(BaseModel):
    data: list[WebhookDelivery]
    next_cursor: str | None


ProblemDetail.model_rebuild()
