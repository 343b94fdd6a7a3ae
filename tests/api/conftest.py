"""The API served in-process (FastAPI's TestClient) over the service tests' world, with a token
per role: admin Ada, full-access Dana, assigned-only Bo, and Zed of another location."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from starlette.applications import Starlette

from tests.services.conftest import World, fake, pick, webhooks, worker, world  # noqa: F401 (fixtures)

ROLES = ("admin", "full", "assigned", "other_location", "none")
USER_OF = {"admin": "ada", "full": "dana", "assigned": "bo", "other_location": "zed"}


@pytest.fixture
def client():
    from groupsms import api
    from groupsms.api.auth import LIMITER
    from groupsms.messaging import webhook_out

    LIMITER.reset()
    webhook_out.forget_subscriptions()
    mounted = api.Mounted(Starlette())  # as groupsms.groupsms mounts it
    with TestClient(mounted, base_url="http://testserver/api/v1") as c:
        yield c
    webhook_out.forget_subscriptions()


@pytest.fixture
def tokens(world) -> dict[str, str]:
    """A token without scope limits per role ("none": no token at all)."""
    from groupsms.services import api_tokens

    out = {role: api_tokens.issue_token(f"{ref}@{'birch' if ref == 'zed' else 'acme'}.test", f"{role} token")[1]
           for role, ref in USER_OF.items()}
    out["none"] = ""
    return out


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}
