"""Load file (format in the README): locations, users, business numbers and contacts, upserted by `ref`.

Two phases. First the whole document is validated, against itself and against the database, and
every error is collected, each naming the file, the entry and the field. Only a fully valid document
is then applied, in one transaction: a row is created or updated by its ref (the location by its ref,
the others by (location, ref)); rows not in the file are left as they are, and so are the fields an
entry leaves out (but for the required ones). One audit event is written per created or updated row.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy.exc import DataError, IntegrityError

from groupsms import config, db
from groupsms.loadfile.apply import _Applier, _db_reason
from groupsms.loadfile.checks import _check_database, _check_document, _Errors
from groupsms.loadfile.report import KINDS, LoadError, LoadReport

__all__ = ["KINDS", "LoadError", "LoadReport", "load_data", "load_file"]

# ---------------------------------------------------------------------------------------------
# Entry points.


def load_data(data: Any, source: str, *, provision: bool | None = None) -> LoadReport:
    """Validate `data` (a parsed load file) fully, then apply it in one transaction.

    Business numbers must be numbers of the provider account (`groupsms numbers sync`). With
    `provision` (default: in simulator mode, no VONAGE_API_KEY) the simulated account acquires the
    ones it lacks, so a demo or test file works out of the box."""
    if provision is None:
        provision = config.load().simulator_mode
    errors = _Errors(source)
    plans = _check_document(data, errors)
    report = LoadReport(source)
    try:
        with db.transaction() as s:
            _check_database(s, plans, errors, provision=provision)
            if errors.lines:
                raise LoadError(errors.lines)
            applier = _Applier(s, report, provision=provision)
            for plan in plans:
                applier.location(plan)
    except (IntegrityError, DataError) as err:  # at commit; flushes are caught per entry
        raise LoadError([f"{source}: the database refused the file: {_db_reason(err)}"]) from err
    return report


def load_file(path: str | Path) -> LoadReport:
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LoadError([f"{source}: no such file"]) from None
    except (OSError, UnicodeDecodeError) as err:
        raise LoadError([f"{source}: cannot read the file: {err}"]) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        where = f"line {err.lineno}, column {err.colno}"
        raise LoadError([f"{source}: invalid JSON at {where}: {err.msg}"]) from None
    return load_data(data, source)
