"""DND (R10, E1): locking groups, and the checks every send path makes.

They live with the per-number opt-out registry in messaging/optout.py; the names stay importable
from here for the services that use them.
"""

from __future__ import annotations

from groupsms.messaging.optout import (
    active_group_clause,
    contacts_with_number,
    effective_lock,
    is_opted_out,
    lock_groups_of_contact,
    number_opted_out,
    opted_out_notes,
    set_dnd,
    staff_dnd,
)

__all__ = [
    "active_group_clause", "contacts_with_number", "effective_lock", "is_opted_out",
    "lock_groups_of_contact", "number_opted_out", "opted_out_notes", "set_dnd", "staff_dnd",
]
