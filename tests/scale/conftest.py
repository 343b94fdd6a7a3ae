"""Scale-out tests: several app and worker processes sharing the machine's PostgreSQL and Redis."""

from __future__ import annotations

from tests.services.conftest import world  # noqa: F401  (fixture)
