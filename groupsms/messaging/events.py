"""Typed change events: what a committed write changed, for live pages, the outbox worker's wake-up
and integrations.

Writers publish them with `notify.publish(session, event)` inside their transaction. Listeners
subscribed with `notify.subscribe` run after that transaction commits (and, with REFLEX_REDIS_URL,
in every process); listeners subscribed with `notify.subscribe_in_transaction` run at once, inside
the writer's transaction, so what they write commits or rolls back with the change itself.

Every event names its location; `group_ids` are the groups whose pages show the change (none for a
text that belongs to no group yet); `lists_change` says whether conversation lists show it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar


@dataclass(frozen=True)
class ChangeEvent:
    location_id: int

    # Whether a conversation list (previews, order, unread counts, waiting texts) shows this change.
    lists_change: ClassVar[bool] = True

    @property
    def group_ids(self) -> tuple[int, ...]:
        group_id = getattr(self, "group_id", None)
        return (int(group_id),) if group_id is not None else ()

    def to_json(self) -> dict[str, Any]:
        return {"type": type(self).__name__, **asdict(self)}


@dataclass(frozen=True)
class MessageAdded(ChangeEvent):
    """A message was stored in a group: sent from the app, received from a participant (and relayed
    to the others), or attached to a group by routing."""

    group_id: int
    message_id: int
    inbound: bool = False


@dataclass(frozen=True)
class StatusChanged(ChangeEvent):
    """A message's delivery status (E3) changed."""

    lists_change: ClassVar[bool] = False
    group_id: int | None
    message_id: int
    status: str = ""


@dataclass(frozen=True)
class RoutingChanged(ChangeEvent):
    """A text waits for a group (needs routing or other texts), or stopped waiting (assigned, dismissed)."""

    message_id: int
    state: str = ""  # needs_routing | unrouted | routed | dismissed


@dataclass(frozen=True)
class GroupCreated(ChangeEvent):
    group_id: int


@dataclass(frozen=True)
class GroupRenamed(ChangeEvent):
    """A group got a new name, or its name was cleared ("")."""

    group_id: int
    name: str = ""


@dataclass(frozen=True)
class GroupLocked(ChangeEvent):
    """A group was locked for good (R10): a participant's contact got DND, or a participant's number
    opted out by text (E1). Published by `messaging.optout`, whichever path made the change."""

    group_id: int
    reason: str = ""


@dataclass(frozen=True)
class ContactChanged(ChangeEvent):
    """A contact's name, numbers, assignment or DND changed; `groups` are the groups they are in."""

    contact_id: int
    groups: tuple[int, ...] = ()

    @property
    def group_ids(self) -> tuple[int, ...]:
        return tuple(int(g) for g in self.groups)


@dataclass(frozen=True)
class OptOutChanged(ChangeEvent):
    """A phone number opted out of (or back into) texts from one of the location's numbers."""

    number: str  # E.164 of the person
    business_number_id: int | None
    opted_out: bool
    groups: tuple[int, ...] = ()

    @property
    def group_ids(self) -> tuple[int, ...]:
        return tuple(int(g) for g in self.groups)


@dataclass(frozen=True)
class NumberChanged(ChangeEvent):
    """A business number's label, default flag or assigned users changed: lists show its label, and
    who may send from it (R12, R13) may have changed. Group pages pick it up at their next refresh."""

    number_id: int


EVENT_TYPES: dict[str, type[ChangeEvent]] = {
    cls.__name__: cls
    for cls in (MessageAdded, StatusChanged, RoutingChanged, GroupCreated, GroupRenamed, GroupLocked, ContactChanged,
                OptOutChanged, NumberChanged)
}


def from_json(data: dict[str, Any]) -> ChangeEvent:
    """The event `to_json` wrote (from another process, through Redis); ValueError when unknown."""
    cls = EVENT_TYPES.get(str(data.get("type")))
    if cls is None:
        raise ValueError(f"unknown change event type {data.get('type')!r}")
    names = {f.name for f in fields(cls)}
    values = {k: v for k, v in data.items() if k in names}
    for key in ("groups",):
        if key in values and isinstance(values[key], list):
            values[key] = tuple(values[key])
    return cls(**values)
