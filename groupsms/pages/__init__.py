"""Pages: one module per page with its state. Pages call services; no SQL and no rules here.

Each page module defines `PAGE`; `groupsms.groupsms` registers every page listed in `PAGES`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import reflex as rx


@dataclass(frozen=True)
class Page:
    route: str
    component: Callable[[], rx.Component]
    title: str
    on_load: Any = None


# Page modules, in navigation order (imported by groupsms.groupsms).
PAGE_MODULES = (
    "groupsms.pages.login",
    "groupsms.pages.conversations",
    "groupsms.pages.group_chat",
    "groupsms.pages.contacts",
    "groupsms.pages.numbers",
    "groupsms.pages.users",
    "groupsms.pages.integrations",
    "groupsms.pages.handsets",
    "groupsms.pages.account",
)
