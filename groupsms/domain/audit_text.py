"""The audit log in words: one event (who, what action, on what, the recorded detail) as a sentence
a person reads ("Ada changed Carla Mendes's name from 'Carla M.' to 'Carla Mendes'"), and the
kinds the log is filtered by.

Pure: the caller passes the names of the objects and users the events mention (`Names`), read in
one go for a page of events; an object whose name is unknown reads as its kind and number.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from groupsms.domain.phones import format_display

# kind → (label, action prefixes). An action belongs to the first kind whose prefix it starts with.
KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "contacts": ("Contacts", ("contact.", "contacts.")),
    "groups": ("Groups", ("group.",)),
    "messages": ("Messages", ("message.", "phone.")),
    "users": ("Users", ("user.",)),
    "numbers": ("Numbers", ("number.", "numbers.")),
    "permissions": ("Permissions", ("policy.",)),
    "settings": ("Settings", ("location.",)),
    "integrations": ("API and webhooks", ("api_token.", "webhook.")),
    "loads": ("Load files", ("load.",)),
    "sign-ins": ("Sign-ins", ("session.",)),
}
# Shown only when asked for: they would drown the log of changes.
QUIET_KINDS = ("sign-ins",)

SYSTEM = "groupsms"  # who did what no person did (load files, provider syncs)

_ROLE = {"admin": "Admin", "user": "User"}
_ACCESS = {"all": "All data", "assigned": "Assigned data only"}
_CLOCK = {"": "Automatic", "12h": "12-hour", "24h": "24-hour"}
_FIELD = {
    "name": "name", "primary_phone": "primary phone", "secondary_phone": "secondary phone",
    "assigned_user_id": "assigned user", "dnd_sms": "DND", "dnd": "DND", "external_id": "external id",
    "time_zone": "time zone", "clock": "clock",
}


def kind_of(action: str) -> str:
    for kind, (_label, prefixes) in KINDS.items():
        if action.startswith(prefixes):
            return kind
    return "other"


@dataclass(frozen=True)
class Names:
    """What the events of one page mention, by id: (object type, id) → name, user id → name,
    "obj:act" → permission description."""

    objects: Mapping[tuple[str, int], str] = field(default_factory=dict)
    users: Mapping[int, str] = field(default_factory=dict)
    permissions: Mapping[str, str] = field(default_factory=dict)

    def user(self, user_id: Any) -> str:
        if isinstance(user_id, int) and user_id in self.users:
            return self.users[user_id]
        return f"user #{user_id}" if user_id not in (None, "") else "nobody"


def _q(value: Any) -> str:
    """A value as the sentence quotes it: 'text', or "nothing" for an empty one."""
    if value is None or value == "" or value == []:
        return "nothing"
    if isinstance(value, bool):
        return "on" if value else "off"
    text = " ".join(str(value).split())
    return f"'{text[:80]}…'" if len(text) > 80 else f"'{text}'"


def _possessive(name: str) -> str:
    return f"{name}'s"


def _plural(n: Any, one: str, many: str | None = None) -> str:
    n = n if isinstance(n, int) else 0
    return f"{n} {one if n == 1 else (many or one + 's')}"


@dataclass(frozen=True)
class _Event:
    who: str
    action: str
    object_type: str
    object_id: int | None
    d: Mapping[str, Any]
    names: Names

    @property
    def target(self) -> str:
        """The object by name: "Carla Mendes", "group 'Maple closing'", "+1 512-555-0100"."""
        if self.object_id is not None and (self.object_type, self.object_id) in self.names.objects:
            return self.names.objects[(self.object_type, self.object_id)]
        for key in ("name", "merged_name"):
            if self.object_type == "contact" and isinstance(self.d.get(key), str) and self.d[key]:
                return self.d[key]
        words = self.object_type.replace("_", " ")
        return f"{words} #{self.object_id}" if self.object_id is not None else words

    def value(self, key: str, value: Any) -> str:
        if key in ("assigned_user_id", "for_user"):
            return "nobody" if value in (None, "") else self.names.user(value)
        if key == "clock":
            return _CLOCK.get(value, _q(value))
        if key == "time_zone":
            return "Automatic" if not value else _q(value)
        if key in ("primary_phone", "secondary_phone") and isinstance(value, str) and value:
            try:
                return _q(format_display(value))
            except Exception:  # noqa: BLE001 (a number stored before a rule changed still reads)
                return _q(value)
        return _q(value)


def _changes(e: _Event, before: Any, after: Any) -> str:
    """"name from 'Carla M.' to 'Carla Mendes' and primary phone from … to …"."""
    if not isinstance(before, Mapping) or not isinstance(after, Mapping):
        return ""
    parts = [
        f"{_FIELD.get(k, k.replace('_', ' '))} from {e.value(k, before.get(k))} to {e.value(k, after.get(k))}"
        for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k)
    ]
    if len(parts) > 1:
        return ", ".join(parts[:-1]) + " and " + parts[-1]
    return parts[0] if parts else ""


def _fields(value: Any) -> str:
    if not isinstance(value, list) or not value:
        return ""
    return ", ".join(_FIELD.get(str(f), str(f).replace("_", " ")) for f in value)


def _source(d: Mapping[str, Any]) -> str:
    if d.get("source") == "csv import":
        return " (CSV import)"
    if d.get("via") == "api":
        return " (through the API)"
    return ""


def _contact_updated(e: _Event) -> str:
    d = e.d
    change = _changes(e, d.get("before"), d.get("after"))
    if change:
        text = f"{e.who} changed {_possessive(e.target)} {change}"
    elif _fields(d.get("fields")):
        text = f"{e.who} edited {e.target} ({_fields(d.get('fields'))})"
    else:
        text = f"{e.who} edited {e.target}"
    if d.get("restored"):
        text += ", restoring the deleted contact"
    return text + _source(d)


def _dnd(e: _Event) -> str:
    locked = e.d.get("locked_groups") or []
    text = f"{e.who} turned DND {'on' if e.d.get('dnd') else 'off'} for {e.target}"
    if locked:
        text += f", locking {_plural(len(locked), 'group')}"
    return text + _source(e.d)


def _merged(e: _Event) -> str:
    d = e.d
    text = f"{e.who} merged {d.get('merged_name') or 'a contact'} into {e.target}"
    change = _changes(e, d.get("before"), d.get("after"))
    if change:
        text += f": {change}"
    moved = d.get("moved_participants")
    if moved:
        text += f" ({_plural(moved, 'group place')} moved)"
    return text


def _imported(e: _Event) -> str:
    d = e.d
    counts = [f"{d.get(k, 0)} {k}" for k in ("created", "updated", "unchanged", "skipped") if d.get(k)]
    return f"{e.who} imported contacts from a CSV file: " + (", ".join(counts) or "nothing changed")


def _role(e: _Event) -> str:
    return (f"{e.who} changed {_possessive(e.target)} role from "
            f"{_ROLE.get(e.d.get('old'), _q(e.d.get('old')))} to {_ROLE.get(e.d.get('new'), _q(e.d.get('new')))}")


def _access(e: _Event) -> str:
    old, new = e.d.get("old"), e.d.get("new")
    return (f"{e.who} changed {_possessive(e.target)} data access from "
            f"'{_ACCESS.get(old, old)}' to '{_ACCESS.get(new, new)}'")


def _user_created(e: _Event) -> str:
    role = _ROLE.get(e.d.get("role"), "user").lower()
    access = _ACCESS.get(e.d.get("data_access"), "").lower()
    return f"{e.who} added {e.target} ({e.d.get('email', '')}) as {'an' if role == 'admin' else 'a'} {role}" + (
        f" with {access}" if access else "")


def _password(e: _Event) -> str:
    if e.d.get("own"):
        return f"{e.who} changed their password"
    return f"{e.who} reset {_possessive(e.target)} password"


def _preferences(e: _Event) -> str:
    change = _changes(e, e.d.get("before"), e.d.get("after"))
    return f"{e.who} changed their {change}" if change else f"{e.who} changed their time settings"


def _group_created(e: _Event) -> str:
    d = e.d
    name = f" {_q(d['name'])}" if d.get("name") else ""
    count = len(d["participants"]) if isinstance(d.get("participants"), list) else 0
    text = f"{e.who} created the group{name} with {_plural(count, 'participant')}"
    if d.get("number"):
        text += f" on {d['number']}"
    return text + (" and sent the intro text" if d.get("intro") else "")


def _renamed(e: _Event) -> str:
    return f"{e.who} renamed a group from {_q(e.d.get('before'))} to {_q(e.d.get('after'))}"


def _group(e: _Event) -> str:
    gid = e.d.get("group")
    label = e.names.objects.get(("group", gid)) if isinstance(gid, int) else None
    return label or (f"group #{gid}" if gid is not None else "a group")


def _sent(e: _Event) -> str:
    people = _plural(e.d.get("recipients"), "person", "people")
    if e.d.get("kind") == "intro":
        return f"{e.who} sent the intro text in {_group(e)} to {people}"
    return f"{e.who} sent a message in {_group(e)} to {people}"


def _intro(e: _Event) -> str:
    parts = []
    if isinstance(e.d.get("enabled"), Mapping):
        parts.append("turned the intro text " + ("on" if e.d["enabled"].get("new") else "off"))
    if isinstance(e.d.get("text"), Mapping):
        parts.append(f"changed the intro text from {_q(e.d['text'].get('old') or 'the built-in one')} to "
                     f"{_q(e.d['text'].get('new') or 'the built-in one')}")
    return f"{e.who} " + (" and ".join(parts) or "changed the intro text")


def _assigned(e: _Event) -> str:
    def who(ids: Any) -> str:
        if not isinstance(ids, list) or not ids:
            return "nobody (unassigned)"
        return ", ".join(sorted(e.names.user(i) for i in ids))

    return f"{e.who} changed who is assigned {e.target} from {who(e.d.get('old'))} to {who(e.d.get('new'))}"


def _policy(e: _Event) -> str:
    key = str(e.d.get("permission", ""))
    what = e.names.permissions.get(key, key).lower() or "a permission"
    role = _ROLE.get(e.d.get("role"), str(e.d.get("role", "")))
    if e.d.get("allowed"):
        return f"{e.who} allowed {role}s to: {what}"
    return f"{e.who} no longer allows {role}s to: {what}"


def _synced(e: _Event) -> str:
    d = e.d
    counts = [f"{len(d[k])} {k}" for k in ("added", "updated", "removed") if isinstance(d.get(k), list) and d[k]]
    return f"{e.who} synced the provider's numbers" + (f": {', '.join(counts)}" if counts else ", nothing changed")


def _loaded(e: _Event) -> str:
    _, kind, how = (e.action.split(".") + ["", ""])[:3]
    ref = e.d.get("ref")
    text = f"{e.who} {'created' if how == 'created' else 'updated'} {kind} {_q(ref) if ref else e.target} from a load file"
    fields = _fields(e.d.get("fields"))
    return text + (f" ({fields})" if fields and how != "created" else "")


_SENTENCES: dict[str, Callable[[_Event], str]] = {
    "session.signed_in": lambda e: f"{e.who} signed in",
    "session.signed_out": lambda e: f"{e.who} signed out",
    "user.created": _user_created,
    "user.role_changed": _role,
    "user.data_access_changed": _access,
    "user.password_changed": _password,
    "user.activated": lambda e: f"{e.who} reactivated {e.target}",
    "user.deactivated": lambda e: f"{e.who} deactivated {e.target}: they can no longer sign in",
    "user.preferences_changed": _preferences,
    "contact.created": lambda e: f"{e.who} added the contact {e.target}{_source(e.d)}",
    "contact.updated": _contact_updated,
    "contact.deleted": lambda e: f"{e.who} deleted the contact {e.target}",
    "contact.dnd_changed": _dnd,
    "contact.merged": _merged,
    "contacts.imported": _imported,
    "group.created": _group_created,
    "group.renamed": _renamed,
    "message.sent": _sent,
    "message.routed": lambda e: f"{e.who} filed a reply that needed routing into {_group(e)}",
    "message.dismissed": lambda e: f"{e.who} dismissed a text from Other texts",
    "phone.reply_simulated": lambda e: (f"{e.who} replied as {e.d.get('from_e164', 'a handset')} to "
                                        f"{e.d.get('to_e164', 'a business number')} on the Phones page"),
    "number.labelled": lambda e: (f"{e.who} changed the label of "
                                  f"{e.names.objects.get(('number_display', e.object_id)) or e.target} from "
                                  f"{_q(e.d.get('old'))} to {_q(e.d.get('new'))}"),
    "number.default_set": lambda e: f"{e.who} made {e.target} the default number",
    "number.assigned": _assigned,
    "number.given": lambda e: f"{e.who} gave the number {e.d.get('e164') or e.target} to this location"
                              + (" as its default" if e.d.get("default") else ""),
    "number.taken_back": lambda e: f"{e.who} took the number {e.d.get('e164') or e.target} back from this location",
    "numbers.synced": _synced,
    "policy.changed": _policy,
    "location.intro_changed": _intro,
    "api_token.created": lambda e: (f"{e.who} created the API token {_q(e.d.get('name'))} for "
                                    f"{e.names.user(e.d.get('for_user'))}"),
    "api_token.revoked": lambda e: (f"{e.who} revoked the API token {_q(e.d.get('name'))} of "
                                    f"{e.names.user(e.d.get('for_user'))}"),
    "webhook.subscribed": lambda e: (f"{e.who} subscribed {e.d.get('url', 'a URL')} to "
                                     f"{', '.join(map(str, e.d.get('events') or [])) or 'events'}"),
    "webhook.unsubscribed": lambda e: f"{e.who} removed the webhook subscription of {e.d.get('url', 'a URL')}",
    "webhook.resent": lambda e: f"{e.who} sent webhook delivery #{e.object_id} again",
}


def sentence(who: str, action: str, object_type: str, object_id: int | None, detail: Mapping[str, Any] | None,
             names: Names | None = None) -> str:
    """One audit event as a sentence. Unknown actions still read as words."""
    event = _Event(who or SYSTEM, action, object_type, object_id,
                   detail if isinstance(detail, Mapping) else {}, names or Names())
    build = _SENTENCES.get(action) or (_loaded if action.startswith("load.") else None)
    if build is not None:
        try:
            return build(event)
        except (TypeError, ValueError, AttributeError, KeyError):
            pass  # a detail recorded in another shape: the plain form below
    words = action.replace(".", " ").replace("_", " ")
    return f"{event.who}: {words} ({event.target})"


def csv_cell(value: Any) -> str:
    """A spreadsheet cell that is never run as a formula: text starting with = + - @ (or a tab or
    carriage return) gets a leading apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
