"""Who may send in a group right now (R10, R13): the one answer the conversation page, the
composer and `send_message` share."""

from __future__ import annotations

from sqlmodel import Session

from groupsms.access import policy
from groupsms.access.fetch import usable_number
from groupsms.domain.phones import format_display
from groupsms.messaging.optout import effective_lock
from groupsms.models import BusinessNumber, Group, User

_UNKNOWN = object()


def send_block_reason(
    s: Session, user: User, group: Group, *, locked: str | None | object = _UNKNOWN,
    number: BusinessNumber | None | object = _UNKNOWN,
) -> str | None:
    """Why the user cannot send in this group (which they may see) right now, or None.

    A caller that already knows them passes the group's effective lock (`messaging.optout`) and
    the group's number as the user may use it (`fetch.usable_number`, None when they may not), so
    nothing is read twice."""
    if locked is _UNKNOWN:
        locked = effective_lock(s, group)
    if locked:
        return f"This group is locked: {locked}"
    if not policy.ENFORCER.allowed(s, user.role, user.location_id, "message", "send"):
        return "Your role can't send — ask an admin"
    if number is _UNKNOWN:
        number = usable_number(s, user, group.business_number_id)
    if number is None:
        number = s.get(BusinessNumber, group.business_number_id)
        return f"You don't have access to {format_display(number.e164)}, the number this group sends from"
    return None
