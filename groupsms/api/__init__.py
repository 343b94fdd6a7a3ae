"""The REST API for CRMs, mounted at /api/v1 beside Vonage's webhooks (`groupsms.groupsms`).

Bearer tokens act as their user through the same services and access checks as the pages; errors are
RFC 9457 problem details; lists are cursor-paginated; the OpenAPI 3.1 document is at
/api/v1/openapi.json and a readable page of it at /api/v1/docs.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI, Request
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


def _no_unknown_query_parameters(request: Request) -> None:
    """A misspelt (`?limt=5`) or repeated parameter is refused rather than silently ignored."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    known = {p.alias for p in _query_params(dependant)}
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        raise problems.Problem(422, f"Unknown query parameter {unknown[0][:40]!r}", errors=[
            {"field": name[:40], "rule": "unknown_parameter", "message": "This endpoint has no such parameter"}
            for name in unknown[:10]])
    repeated = sorted(k for k in set(request.query_params) if len(request.query_params.getlist(k)) > 1)
    if repeated:  # every parameter here is one value: which of two was meant is not guessed
        raise problems.Problem(422, f"Query parameter {repeated[0][:40]!r} is given more than once", errors=[
            {"field": name[:40], "rule": "repeated_parameter", "message": "Give this parameter once"}
            for name in repeated[:10]])


def _query_params(dependant) -> list:
    found = list(dependant.query_params)
    for sub in dependant.dependencies:
        found += _query_params(sub)
    return found


def create_app() -> FastAPI:
    app = FastAPI(
        title="groupsms API", version="1",
        description="Group SMS chats for CRMs: business numbers, contacts by the CRM's own id, groups, "
        "messages with delivery status, texts waiting for routing, and signed outbound webhooks.",
        docs_url=None, redoc_url=None, openapi_url="/openapi.json",
        dependencies=[Depends(_no_unknown_query_parameters)],
    )
    problems.install(app)
    app.include_router(routes.router)
    app.include_router(subscriptions.router)
    app.include_router(docs.router)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


app = create_app()


class Mounted:
    """ASGI: requests under /api/v1 go to the API (whatever their path holds: a Starlette `Mount`
    would pass a path with a newline in it to the app behind), everything else to `fallback`."""

    def __init__(self, fallback) -> None:
        self.fallback = fallback

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            root = scope.get("root_path", "")
            path = scope["path"][len(root):] if root and scope["path"].startswith(root) else scope["path"]
            if path == PREFIX or path.startswith(PREFIX + "/"):
                await app({**scope, "root_path": root + PREFIX}, receive, send)
                return
        await self.fallback(scope, receive, send)
