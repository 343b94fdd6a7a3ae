"""The fuzz tests use the service tests' small world (two locations, numbers, contacts)."""

from tests.services.conftest import world  # noqa: F401 - a fixture, registered by import
