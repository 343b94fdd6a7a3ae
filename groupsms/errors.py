"""Errors the services raise. Every message is meant to be shown to a person as it is."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class GroupsmsError(Exception):
    """Base class: `str(err)` is a readable message."""


class NotAuthenticated(GroupsmsError):
    def __init__(self, message: str = "Please sign in") -> None:
        super().__init__(message)


class AuthError(GroupsmsError):
    """Sign-in refused (wrong credentials, throttled, inactive)."""


class NotFound(GroupsmsError):
    """Missing and forbidden objects look the same (R14)."""

    def __init__(self, what: str = "Object") -> None:
        super().__init__(f"{what} not found")
        self.what = what


class Forbidden(GroupsmsError):
    """The actor may not perform this action at all (role permission)."""


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str
    rule: str | None = None


class ValidationError(GroupsmsError):
    def __init__(
        self, errors: Sequence[FieldError] | str, field: str = "", fields: dict[str, str] | None = None
    ) -> None:
        if isinstance(errors, str):
            errors = [FieldError(field, errors)]
        self.errors = list(errors) + [FieldError(k, v) for k, v in (fields or {}).items()]
        super().__init__("; ".join(e.message for e in self.errors))

    @property
    def fields(self) -> dict[str, str]:
        """Field → its first message, for forms that show each error under its field."""
        out: dict[str, str] = {}
        for e in self.errors:
            if e.field:
                out.setdefault(e.field, e.message)
        return out


class DuplicateGroup(GroupsmsError):
    """E11: an active group with exactly these numbers already exists on this business number."""

    def __init__(self, group_id: int) -> None:
        super().__init__(
            "A group with exactly these participants already exists on this number"
        )
        self.group_id = group_id
