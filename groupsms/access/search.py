"""SQL search clauses, added by callers to what the scopes return (R6, E7, E9)."""

from __future__ import annotations

from sqlalchemy import or_

from groupsms.domain.phones import digits
from groupsms.models import Contact


def contact_search_clause(query: str):
    """Name contains the text, or either number contains its digits (format-insensitive)."""
    clauses = [Contact.name.icontains(query, autoescape=True)]
    wanted = digits(query)
    if len(wanted) >= 3:
        clauses += [Contact.primary_phone.contains(wanted), Contact.secondary_phone.contains(wanted)]
        if wanted.startswith("1") and len(wanted) == 11:
            clauses += [Contact.primary_phone.contains(wanted[1:]), Contact.secondary_phone.contains(wanted[1:])]
    return or_(*clauses)
