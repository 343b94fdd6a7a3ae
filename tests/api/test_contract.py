"""Contract test: schemathesis generates requests for every operation of /api/v1/openapi.json and
checks every answer (status code, content type, headers, body) against the document, with a token of
each role and without one. GROUPSMS_LONG_TESTS=1 generates many more examples."""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from starlette.applications import Starlette

from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from groupsms import api
from tests.api.conftest import ROLES, auth

LONG = os.environ.get("GROUPSMS_LONG_TESTS") == "1"
EXAMPLES = 200 if LONG else 8

schema = schemathesis.openapi.from_asgi(f"{api.PREFIX}/openapi.json", api.Mounted(Starlette()))


def _excluded(case) -> list:
    excluded = [positive_data_acceptance]
    meta = case._meta  # noqa: SLF001
    negative = {loc for loc, info in (meta.components.items() if meta else ()) if info.mode.name == "NEGATIVE"}
    if ParameterLocation.HEADER in negative:
        # The test sets the Authorization header itself, so a case made negative by its headers
        # may not be negative any more when it is sent.
        excluded.append(negative_data_rejection)
    return excluded


@pytest.fixture
def role_tokens(world, monkeypatch):
    from groupsms.api.auth import LIMITER
    from groupsms.messaging import webhook_out
    from groupsms.services import api_tokens, groups
    from tests.services.conftest import pick

    monkeypatch.setenv("GROUPSMS_WEBHOOK_ALLOW_PRIVATE", "1")
    monkeypatch.setenv("GROUPSMS_API_RATE_PER_MINUTE", "100000")
    LIMITER.reset()
    webhook_out.forget_subscriptions()
    groups.create_group(world.actors["bo"], world.numbers["main"], pick(world, "carla", "dan"))
    emails = {"admin": "ada@acme.test", "full": "dana@acme.test", "assigned": "bo@acme.test",
              "other_location": "zed@birch.test"}
    tokens = {role: api_tokens.issue_token(email, role)[1] for role, email in emails.items()}
    tokens["none"] = ""
    yield tokens
    webhook_out.forget_subscriptions()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=not LONG,
          suppress_health_check=list(HealthCheck))
def test_every_answer_matches_the_openapi_document(case, role_tokens):
    for role in ROLES:
        response = case.call(headers=auth(role_tokens[role]))
        # Schema-valid is not always valid: a made-up cursor, an unknown phone number, a 2-person
        # group with an opted-out contact are refused with a 422 that names the field and the rule.
        case.validate_response(response, excluded_checks=_excluded(case))
