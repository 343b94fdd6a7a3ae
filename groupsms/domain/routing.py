"""Inbound routing decision (E2): route only when exactly one group fits."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

ROUTE = "route"
UNROUTED = "unrouted"
NEEDS_ROUTING = "needs_routing"


@dataclass(frozen=True)
class Route:
    """Where an inbound SMS goes.

    ``candidates`` are the active groups on the business number that contain
    the sender, sorted; ``group_id`` is set only when there is exactly one.
    """

    kind: str  # "route" | "unrouted" | "needs_routing"
    group_id: int | None
    candidates: tuple[int, ...]


def route_inbound(active_group_ids: Iterable[int]) -> Route:
    """Decide from the active groups on B that contain sender N.

    Several candidates are never guessed between: a person with access to B
    assigns the message, because relaying to the wrong group leaks it.
    """
    candidates = tuple(sorted(set(active_group_ids)))
    if not candidates:
        return Route(UNROUTED, None, ())
    if len(candidates) == 1:
        return Route(ROUTE, candidates[0], candidates)
    return Route(NEEDS_ROUTING, None, candidates)
