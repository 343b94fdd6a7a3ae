"""Reply attribution (R5): short, unique labels that never leak a number."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping

from groupsms.domain.encoding import gsm_name, smart_encode
from groupsms.domain.phones import digits

# A "name" that is really a phone number (CRMs often store one) must not be
# relayed to the other participants.
_PHONE_CHARS = frozenset("0123456789 +-.()/")


def _clean_name(name: str | None) -> str:
    """Whitespace-normalized name, or "" when blank or a phone number."""
    text = " ".join((name or "").split())
    if text and set(text) <= _PHONE_CHARS and len(digits(text)) >= 3:
        return ""
    return text


def _first_name(full: str) -> str:
    return full.split()[0]


def _first_and_initial(full: str) -> str:
    parts = full.split()
    if len(parts) == 1:
        return full
    return f"{parts[0]} {parts[-1][0]}."


_LEVELS: tuple[Callable[[str], str], ...] = (_first_name, _first_and_initial, lambda full: full)


def short_labels(names: Mapping[int, str]) -> dict[int, str]:
    """Label each participant id: first name, else "Carla M.", else the full name,
    else the full name with " (2)", " (3)"... in id order.

    Blank names become "Participant N" (N is the 1-based position in id order).
    Labels are compared case-insensitively, so "carla" and "Carla" do not both appear.
    """
    ids = sorted(names)
    full = {pid: _clean_name(names[pid]) for pid in ids}
    labels: dict[int, str] = {}
    for position, pid in enumerate(ids, start=1):
        if not full[pid]:
            labels[pid] = f"Participant {position}"
    named = [pid for pid in ids if full[pid]]
    pending = list(named)
    for level in _LEVELS:
        counts = Counter(level(full[pid]).casefold() for pid in named)
        for pid in list(pending):
            candidate = level(full[pid])
            if counts[candidate.casefold()] == 1:
                labels[pid] = candidate
                pending.remove(pid)
    for pid in pending:
        labels[pid] = full[pid]
    return _make_unique(labels, ids)


def _make_unique(labels: dict[int, str], ids: list[int]) -> dict[int, str]:
    """Suffix repeats " (2)", " (3)"... in id order; the first keeps its label."""
    taken = {label.casefold() for label in labels.values()}
    seen: set[str] = set()
    result: dict[int, str] = {}
    for pid in ids:
        label = labels[pid]
        if label.casefold() in seen:
            n = 2
            while f"{label} ({n})".casefold() in taken:
                n += 1
            label = f"{label} ({n})"
            taken.add(label.casefold())
        seen.add(label.casefold())
        result[pid] = label
    return result


def relay_labels(names: Mapping[int, str]) -> dict[int, str]:
    """The labels relays carry: `short_labels` of the names spelled in GSM-7 letters, so that
    "Zoë" or "Иван" does not send every relay of theirs as UCS-2 (70 characters a segment), and
    labels stay unique once spelled ("Zoë" and "Zoe" are told apart by their last initial)."""
    return short_labels({pid: gsm_name(name) for pid, name in names.items()})


def relay_text(label: str, body: str) -> str:
    """The SMS other participants receive: "Carla: see you at 5", smart-encoded as it goes out."""
    return smart_encode(f"{gsm_name(label) or label}: {body}")
