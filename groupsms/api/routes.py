"""The endpoints. Each one turns the request into a service call with the token's Actor; the
services check access (R11–R14) and validate exactly as they do for the pages."""

from __future__ import annotations

import hashlib
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Response

from groupsms.api import schemas as api
from groupsms.api.auth import scope
from groupsms.api.problems import Problem
from groupsms.services import contacts, groups, integrations, messages, numbers
from groupsms.services.api_tokens import TokenGrant

router = APIRouter()

Limit = Annotated[int, Query(ge=1, le=200, description="At most this many items")]
Cursor = Annotated[str | None, Query(max_length=100, description="The next_cursor of the previous page")]
GroupId = Annotated[int, Path(ge=1, le=2**31 - 1)]
ExternalId = Annotated[str, Path(min_length=1, max_length=64, description="The CRM's own id of the contact")]
Read = Annotated[TokenGrant, Depends(scope("read"))]
Send = Annotated[TokenGrant, Depends(scope("send"))]
ContactsWrite = Annotated[TokenGrant, Depends(scope("contacts:write"))]


def _page(items: list, limit: int, last_id) -> str | None:
    return api.encode_cursor(last_id(items[-1])) if len(items) == limit and items else None


# -- numbers and contacts --------------------------------------------------------------------------

@router.get("/numbers", response_model=api.NumberList, tags=["numbers"],
            summary="Business numbers the token's user may use (R12)")
def list_numbers(grant: Read, cursor: Cursor = None, limit: Limit = 50):
    after = api.decode_cursor(cursor)
    rows = sorted(numbers.list_numbers(grant.actor), key=lambda n: n.id)
    rows = [n for n in rows if after is None or n.id > after][:limit]
    data = [api.Number(id=n.id, e164=n.e164, label=n.label, is_default=n.is_default) for n in rows]
    return api.NumberList(data=data, next_cursor=_page(rows, limit, lambda n: n.id))


def _contact(c: integrations.ContactRecord) -> api.Contact:
    return api.Contact(external_id=c.external_id, name=c.name, primary_phone=c.primary_phone,
                       secondary_phone=c.secondary_phone, dnd=c.dnd, assigned_to=c.assigned_to,
                       primary_opted_out=c.primary_opted_out, secondary_opted_out=c.secondary_opted_out,
                       updated_at=c.updated_at)


@router.get("/contacts", response_model=api.ContactList, tags=["contacts"],
            summary="Contacts the token's user may see (R11), by name or number")
def list_contacts(grant: Read, q: Annotated[str | None, Query(max_length=100)] = None,
                  cursor: Cursor = None, limit: Limit = 50):
    rows = integrations.list_contacts(grant.actor, q, api.decode_cursor(cursor), limit)
    return api.ContactList(data=[_contact(c) for c in rows], next_cursor=_page(rows, limit, lambda c: c.id))


@router.get("/contacts/{external_id}", response_model=api.Contact, tags=["contacts"], summary="One contact")
def get_contact(grant: Read, external_id: ExternalId):
    return _contact(integrations.get_contact(grant.actor, external_id))


@router.put("/contacts/{external_id}", response_model=api.Contact, tags=["contacts"],
            responses={201: {"model": api.Contact, "description": "Created"}},
            summary="Create or update a contact by the CRM's id (200 updated, 201 created)")
def put_contact(grant: ContactsWrite, external_id: ExternalId, body: api.ContactPut, response: Response):
    extra = {"assigned_to": body.assigned_to} if "assigned_to" in body.model_fields_set else {}
    _, created = integrations.put_contact(grant.actor, external_id, name=body.name, primary_phone=body.primary_phone,
                                          secondary_phone=body.secondary_phone, dnd=body.dnd, **extra)
    response.status_code = 201 if created else 200
    return _contact(integrations.get_contact(grant.actor, external_id))


@router.delete("/contacts/{external_id}", status_code=204, tags=["contacts"],
               summary="Delete a contact (its groups keep texting the captured number, tagged Deleted)")
def delete_contact(grant: ContactsWrite, external_id: ExternalId):
    contacts.delete_contact(grant.actor, integrations.contact_id_for(grant.actor, external_id))
    return Response(status_code=204)


# -- groups ----------------------------------------------------------------------------------------

def _group(grant: TokenGrant, group_id: int) -> api.Group:
    g = groups.get_group(grant.actor, group_id)
    e164, refs = integrations.group_facts(grant.actor, g.id)
    return api.Group.model_validate({
        "id": g.id, "from": e164, "from_label": g.number_label, "created_by": g.created_by,
        "created_at": g.created_at, "locked_reason": g.locked_reason, "can_send": g.can_send,
        "send_block_reason": g.send_block_reason,
        "participants": [{"id": p.id, "contact": refs.get(p.contact_id), "name": p.name, "number": p.e164,
                          "which": p.which, "tag": p.tag, "dnd": p.dnd, "opted_out": p.opted_out}
                         for p in g.participants],
    })


@router.post("/groups", status_code=201, response_model=api.Group, tags=["groups"],
             summary="Create a group (R1–R3, R9, R11, R12; a duplicate answers 409 with the existing group's id)")
def create_group(grant: Send, body: api.GroupCreate):
    number_id, pairs = integrations.resolve_group_request(
        grant.actor, body.from_, [p.model_dump() for p in body.participants])
    group_id = groups.create_group(grant.actor, number_id, pairs, allow_duplicate=body.allow_duplicate,
                                   name=body.name, intro=body.intro)
    return _group(grant, group_id)


@router.get("/groups", response_model=api.GroupList, tags=["groups"],
            summary="Groups the token's user may see (R11), newest first")
def list_groups(grant: Read, cursor: Cursor = None, limit: Limit = 50):
    rows = integrations.list_groups(grant.actor, api.decode_cursor(cursor), limit)
    data = [api.GroupSummary.model_validate({
        "id": g.id, "from": g.from_e164, "participant_names": list(g.participant_names),
        "locked_reason": g.locked_reason, "created_at": g.created_at, "last_activity_at": g.last_activity_at})
        for g in rows]
    return api.GroupList(data=data, next_cursor=_page(rows, limit, lambda g: g.id))


@router.get("/groups/{group_id}", response_model=api.Group, tags=["groups"],
            summary="A group with its participants (Updated/Deleted tags) and lock reason")
def get_group(grant: Read, group_id: GroupId):
    return _group(grant, group_id)


# -- messages --------------------------------------------------------------------------------------

def _message(grant: TokenGrant, m) -> api.MessageOut:
    recipients = [] if m.direction == "inbound" and not m.relayed else messages.message_deliveries(grant.actor, m.id)
    return api.MessageOut(
        id=m.id, group_id=m.group_id, direction=m.direction, text=m.body, sender=m.sender, created_at=m.created_at,
        status=m.status, relayed=m.relayed, notice=m.notice,
        recipients=[api.Recipient(participant=d.participant, number=d.display, status=d.status, error=d.error,
                                  updated_at=d.updated_at) for d in recipients])


def _idempotency_key(key: str | None) -> str | None:
    """The API's Idempotency-Key as the services' compose key (16–64 URL-safe characters), scoped to
    the token's user like a compose in the app."""
    if key is None:
        return None
    if not key.strip() or not key.isprintable():
        raise Problem(422, "Idempotency-Key must be 1 to 255 printable characters", errors=[
            {"field": "Idempotency-Key", "rule": "format", "message": "1 to 255 printable characters"}])
    return "api-" + hashlib.sha256(key.encode()).hexdigest()[:48]


@router.post("/groups/{group_id}/messages", status_code=201, response_model=api.MessageOut, tags=["messages"],
             summary="Send a message to every participant (R4, R13); a retry with the same Idempotency-Key "
             "returns the first result and sends nothing again")
def send_message(grant: Send, group_id: GroupId, body: api.MessageSend,
                 idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", min_length=1,
                                                               max_length=255)] = None):
    message_id = messages.send_message(grant.actor, group_id, body.text, _idempotency_key(idempotency_key))
    [m] = messages.list_messages(grant.actor, group_id, before_id=message_id + 1, limit=1)
    return _message(grant, m)


@router.get("/groups/{group_id}/messages", response_model=api.MessageList, tags=["messages"],
            summary="A group's messages, newest first, with each recipient's delivery status (E3)")
def list_messages(grant: Read, group_id: GroupId, cursor: Cursor = None,
                  limit: Annotated[int, Query(ge=1, le=100)] = 30):
    rows = list(reversed(messages.list_messages(grant.actor, group_id, api.decode_cursor(cursor), limit)))
    return api.MessageList(data=[_message(grant, m) for m in rows], next_cursor=_page(rows, limit, lambda m: m.id))


# -- waiting texts ---------------------------------------------------------------------------------

@router.get("/inbound", response_model=api.InboundList, tags=["inbound"],
            summary="Texts waiting for a person: needs_routing (E2: a sender in several groups) or "
            "unrouted (from a number in no group)")
def list_inbound(grant: Read, state: Literal["needs_routing", "unrouted"] = "needs_routing",
                 cursor: Cursor = None, limit: Limit = 50):
    before = api.decode_cursor(cursor)
    if state == "needs_routing":
        items = [api.InboundText.model_validate({
            "id": r.message_id, "from_name": r.from_name, "from": r.from_display, "to": r.number_display,
            "text": r.body, "received_at": r.received_at, "candidate_group_ids": list(r.candidate_group_ids)})
            for r in messages.list_needs_routing(grant.actor, 200)]
    else:
        items = [api.InboundText.model_validate({
            "id": t.message_id, "from_name": t.from_name, "from": t.from_display, "to": t.number_display,
            "text": t.body, "received_at": t.received_at, "candidate_group_ids": []})
            for t in messages.list_other_texts(grant.actor, 200)]
    items = [i for i in items if before is None or i.id < before][:limit]
    return api.InboundList(data=items, next_cursor=_page(items, limit, lambda i: i.id))


@router.post("/inbound/{message_id}/route", response_model=api.Routed, tags=["inbound"],
             summary="Put a needs-routing text into one of its candidate groups, which stores and relays it")
def route_inbound(grant: Send, message_id: Annotated[int, Path(ge=1, le=2**31 - 1)], body: api.RouteRequest):
    messages.assign_inbound(grant.actor, message_id, body.group_id)
    return api.Routed(message_id=message_id, group_id=body.group_id)
