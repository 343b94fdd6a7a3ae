"""The demo: a real-estate team ("Acme Realty") and a second, small location ("Birch Homes").

It is an ordinary load file (groupsms/loadfile/), so `groupsms demo` upserts it like `groupsms load` would:
running it again changes nothing, and restores what the demo looked like if it was edited.

Every phone number is valid in phonenumbers' metadata: US/Canada ones are in the 555-01xx range,
reserved for fiction, in real area codes (512/737 Austin, 303 Denver, 416 Toronto). The business
numbers are among the built-in simulator's own (simulator/numbers_api.py), so in simulator mode the
demo loads as is; with a Vonage account configured they must be numbers it owns. The demo
passwords are printed by `groupsms demo` and documented: this is a local demo, never a deployment.
"""

from __future__ import annotations

import copy
import os

from groupsms.loadfile import LoadReport, load_data

DEMO_SOURCE = "demo"
def app_url() -> str:
    """Where `make run` serves the app (PORT, default 3000)."""
    return f"http://localhost:{os.environ.get('PORT') or 3000}"

_ACME_USERS = [
    {"ref": "ada", "email": "admin@acme.test", "name": "Ada Admin", "password": "admin-demo-pass",
     "role": "admin", "data_access": "all"},
    {"ref": "dana", "email": "dana@acme.test", "name": "Dana Full", "password": "dana-demo-pass",
     "role": "user", "data_access": "all"},
    {"ref": "bo", "email": "bo@acme.test", "name": "Bo Assigned", "password": "bo-demo-pass",
     "role": "user", "data_access": "assigned"},
]

_ACME_NUMBERS = [
    {"ref": "main", "e164": "+15125550100", "label": "Main office", "default": True, "assigned_to": []},
    {"ref": "dana-line", "e164": "+15125550101", "label": "Dana's line", "default": False,
     "assigned_to": ["dana"]},
    {"ref": "toronto", "e164": "+14165550100", "label": "Toronto office", "default": False,
     "assigned_to": []},
]


def _contact(ref: str, name: str, primary: str, *, secondary: str | None = None, assigned_to: str | None,
             dnd: bool = False, deleted: bool = False) -> dict:
    return {"ref": ref, "name": name, "primary_phone": primary, "secondary_phone": secondary,
            "dnd": dnd, "assigned_to": assigned_to, "deleted": deleted}


# First names are unique in the location: relayed replies are signed with them (R5).
_ACME_CONTACTS = [
    # Bo's book: 7 eligible contacts, plus one abroad, one with DND and one deleted.
    _contact("carla", "Carla Mendes", "+15125550111", secondary="+17375550111", assigned_to="bo"),  # buyer
    _contact("marcus", "Marcus Lee", "+15125550112", assigned_to="bo"),  # buyer
    _contact("priya", "Priya Raman", "+15125550113", secondary="+17375550113", assigned_to="bo"),  # seller
    _contact("tom", "Tom Becker", "+15125550114", assigned_to="bo"),  # seller
    _contact("lena", "Lena Ortiz", "+15125550115", secondary="+17375550115", assigned_to="bo"),  # lender
    _contact("sam", "Sam Whitfield", "+15125550116", assigned_to="bo"),  # home inspector
    _contact("grace", "Grace Okafor", "+15125550117", assigned_to="bo"),  # title agent
    _contact("jorge", "Jorge Castillo", "+525512345678", assigned_to="bo"),  # buyer in Mexico City
    _contact("hank", "Hank Dawson", "+15125550119", assigned_to="bo", dnd=True),  # seller, texted STOP
    _contact("walter", "Walter Hughes", "+15125550120", assigned_to="bo", deleted=True),  # old seller
    # Dana's book.
    _contact("olivia", "Olivia Grant", "+447400123456", assigned_to="dana"),  # buyer moving from London
    _contact("rita", "Rita Novak", "+15125550122", assigned_to="dana", dnd=True),  # appraiser
    _contact("devon", "Devon Price", "+15125550123", assigned_to="dana"),  # buyer
    _contact("mia", "Mia Thompson", "+15125550124", secondary="+17375550124", assigned_to="dana"),  # seller
    _contact("nate", "Nate Alvarez", "+15125550125", assigned_to="dana"),  # contractor
    _contact("chloe", "Chloe Martin", "+14165550126", assigned_to="dana"),  # buyer relocating from Toronto
    # Nobody's in particular.
    _contact("ben", "Ben Carter", "+15125550127", assigned_to=None),  # insurance agent
    _contact("sofia", "Sofia Rossi", "+15125550128", assigned_to=None),  # home stager
    _contact("ethan", "Ethan Brooks", "+15125550129", secondary="+17375550129", assigned_to=None),  # manager
    _contact("ivy", "Ivy Chen", "+15125550130", assigned_to=None),  # buyer's attorney
]

_BIRCH = {
    "ref": "birch",
    "name": "Birch Homes",
    "users": [
        {"ref": "admin", "email": "admin@birch.test", "name": "Bea Birch", "password": "birch-demo-pass",
         "role": "admin", "data_access": "all"},
    ],
    "numbers": [
        {"ref": "main", "e164": "+13035550100", "label": "Birch main", "default": True, "assigned_to": []},
    ],
    "contacts": [
        _contact("nora", "Nora Quinn", "+13035550111", assigned_to=None),
        _contact("felix", "Felix Wagner", "+13035550112", assigned_to=None),
        _contact("hazel", "Hazel Reed", "+13035550113", assigned_to=None),
    ],
}


def demo_data() -> dict:
    """The demo as a load file (a fresh copy each call)."""
    acme = {"ref": "acme", "name": "Acme Realty", "users": _ACME_USERS, "numbers": _ACME_NUMBERS,
            "contacts": _ACME_CONTACTS}
    return copy.deepcopy({"locations": [acme, _BIRCH]})


def demo_logins() -> list[dict[str, str]]:
    """Who can sign in to the demo: location, email, password, name, role, data access."""
    return [
        {"location": loc["name"], "email": u["email"], "password": u["password"], "name": u["name"],
         "role": u["role"], "data_access": u["data_access"]}
        for loc in demo_data()["locations"]
        for u in loc["users"]
    ]


def load_demo() -> LoadReport:
    return load_data(demo_data(), DEMO_SOURCE)
