"""Scale-out tests: several app and worker processes sharing the machine's PostgreSQL and Redis."""

from __future__ import annotations

import os

from tests.services.conftest import world  # noqa: F401  (fixture)

# The browser test (e2e/) starts `reflex run` and drives Chromium: it runs in its own pytest process,
# under the shared browser-test lock, when GROUPSMS_SCALE_BROWSER_TESTS=1 (`make test` and
# `make test-e2e` do), never inside the fast suite.
collect_ignore = [] if os.environ.get("GROUPSMS_SCALE_BROWSER_TESTS") == "1" else ["e2e"]
