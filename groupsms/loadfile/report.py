"""What a load reports: the refusal (every error at once) or the counts of what it changed."""

from __future__ import annotations

from dataclasses import dataclass, field

from groupsms.errors import GroupsmsError

KINDS = {"location": "locations", "user": "users", "number": "numbers", "contact": "contacts"}


class LoadError(GroupsmsError):
    """The file was refused; nothing was written. `errors` holds one readable line per problem."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))


@dataclass
class LoadReport:
    source: str
    created: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    updated: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    unchanged: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))

    @property
    def changed(self) -> bool:
        return any(self.created.values()) or any(self.updated.values())

    def summary(self) -> str:
        def part(counts: dict[str, int]) -> str:
            items = [f"{n} {kind if n == 1 else KINDS[kind]}" for kind, n in counts.items() if n]
            return ", ".join(items) or "nothing"

        same = sum(self.unchanged.values())
        return (
            f"Loaded {self.source}: created {part(self.created)}; updated {part(self.updated)}; "
            f"{same} row{'' if same == 1 else 's'} already up to date"
        )
