"""Old import path of the DND and opt-out checks: they live in `groupsms.messaging.optout`.

Nothing in services imports this any more; it re-exports the names for code that still imports
them from here (the outbox worker, inbound processing), until those import from messaging.
"""

from __future__ import annotations

from groupsms.messaging.optout import (
    active_group_clause,
    contacts_with_number,
    effective_lock,
    is_opted_out,
    lock_groups_of_contact,
    number_opted_out,
    numbers_not_to_text,
    opted_out_notes,
    set_dnd,
    staff_dnd,
)

__all__ = [
    "active_group_clause", "contacts_with_number", "effective_lock", "is_opted_out",
    "lock_groups_of_contact", "number_opted_out", "numbers_not_to_text", "opted_out_notes", "set_dnd",
    "staff_dnd",
]
