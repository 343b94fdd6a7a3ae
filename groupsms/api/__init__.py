"""The REST API for CRMs, mounted at /api/v1 beside Vonage's webhooks (`groupsms.groupsms`).

Bearer tokens act as their user through the same services and access checks as the pages; errors are
RFC 9457 problem details; lists are cursor-paginated; the OpenAPI 3.1 document is at
/api/v1/openapi.json and a readable page of it at /api/v1/docs.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from groupsms.api import docs, problems, routes, subscriptions
from groupsms.api.schemas import ProblemDetail

PREFIX = "/api/v1"
_PROBLEM_CODES = {
    "400": "The body is not JSON",
    "401": "No token, or an unknown or revoked one",
    "403": "The token lacks a scope, or its user's role may not do this",
    "404": "Not found (or not the token's user's to see: the same answer)",
    "422": "The request is not valid: `errors` names each field and the rule",
    "429": "Past the token's rate limit: wait for Retry-After seconds",
}


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes,
                      servers=[{"url": PREFIX}])
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for model in (ProblemDetail,):
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/ProblemDetail"}}}
    for path, operations in doc.get("paths", {}).items():
        for op in operations.values():
            responses = op.setdefault("responses", {})
            codes = dict(_PROBLEM_CODES)
            if path == "/groups" and "requestBody" in op:
                codes["409"] = "An active group with exactly these numbers exists: existing_group_id names it"
            for code, description in codes.items():
                responses[code] = {"description": description, "content": problem}
            if code_429 := responses.get("429"):
                code_429["headers"] = {"Retry-After": {"schema": {"type": "integer"},
                                                       "description": "Seconds to wait"}}
    app.openapi_schema = doc
    return doc


def create_app() -> FastAPI:
    app = FastAPI(
        title="groupsms API", version="1",
        description="Group SMS chats for CRMs: business numbers, contacts by the CRM's own id, groups, "
        "messages with delivery status, texts waiting for routing, and signed outbound webhooks.",
        docs_url=None, redoc_url=None, openapi_url="/openapi.json",
    )
    problems.install(app)
    app.include_router(routes.router)
    app.include_router(subscriptions.router)
    app.include_router(docs.router)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


app = create_app()
