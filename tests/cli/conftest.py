"""Fixtures for the load file and CLI tests: a small good load file and a dump of every table."""

from __future__ import annotations

import copy
import json

import pytest
from sqlalchemy import select
from sqlmodel import SQLModel

from groupsms import db

# The migrated role policy is not data a load file touches.
_NOT_DUMPED = {"casbin_rule", "policy_version"}

GOOD = {
    "locations": [
        {
            "ref": "acme",
            "name": "Acme Realty",
            "users": [
                {"ref": "ada", "email": "ada@acme.test", "name": "Ada Admin",
                 "password": "ada-password-1", "role": "admin", "data_access": "all"},
                {"ref": "bo", "email": "bo@acme.test", "name": "Bo Assigned",
                 "password": "bo-password-1", "role": "user", "data_access": "assigned"},
            ],
            "numbers": [
                # Any format is accepted and stored as E.164.
                {"ref": "main", "e164": "(512) 555-0100", "label": "Main", "default": True,
                 "assigned_to": []},
                {"ref": "bo-line", "e164": "+1 512 555 0101", "label": "Bo's line",
                 "default": False, "assigned_to": ["bo"]},
            ],
            "contacts": [
                {"ref": "carla", "name": "Carla Client", "primary_phone": "+15125550111",
                 "secondary_phone": "737-555-0111", "dnd": False, "assigned_to": "bo",
                 "deleted": False},
                {"ref": "dave", "name": "Dave Dnd", "primary_phone": "+15125550112",
                 "secondary_phone": None, "dnd": True, "assigned_to": "bo", "deleted": False},
                {"ref": "erin", "name": "Erin Gone", "primary_phone": "+15125550113",
                 "dnd": False, "assigned_to": None, "deleted": True},
                {"ref": "femi", "name": "Femi London", "primary_phone": "+44 7400 123456"},
            ],
        }
    ]
}


@pytest.fixture
def good_doc() -> dict:
    return copy.deepcopy(GOOD)


@pytest.fixture
def cli_env(clean_db, database_url, monkeypatch):
    """The in-process CLI calls db.init() itself: point it at the test database."""
    monkeypatch.setenv("GROUPSMS_DATABASE_URL", database_url)
    return database_url


@pytest.fixture
def write_json(tmp_path):
    def write(data, name: str = "acme.json") -> str:
        path = tmp_path / name
        path.write_text(data if isinstance(data, str) else json.dumps(data, indent=2))
        return str(path)

    return write


def _dump_database() -> dict[str, list[tuple]]:
    with db.engine().connect() as conn:
        return {
            table.name: [tuple(row) for row in conn.execute(select(table).order_by(*table.primary_key.columns))]
            for table in SQLModel.metadata.sorted_tables
            if table.name not in _NOT_DUMPED
        }


@pytest.fixture
def dump(clean_db):
    """`dump()`: every row of every table (but the role policy), in primary key order."""
    return _dump_database
