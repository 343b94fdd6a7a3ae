"""Page states are driven directly (no browser): the service world of tests/services plus the app."""

from tests.services.conftest import world  # noqa: F401  (fixture re-export)
