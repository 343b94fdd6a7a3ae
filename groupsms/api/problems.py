"""Errors as RFC 9457 problem details (`application/problem+json`).

Every problem has `type`, `title`, `status` and `detail`; a refused input also has `errors`, one per
field: `{"field": "participants[1]", "rule": "R3", "message": "..."}`, where `rule` is the product
rule that refused it (R1–R14, E1–E11) or the kind of check (`required`, `type`, `format`, ...).
A duplicate group (E11) also has `existing_group_id`; a rate limit answer carries `Retry-After`.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from groupsms.errors import (
    DuplicateGroup,
    Forbidden,
    GroupsmsError,
    NotAuthenticated,
    NotFound,
    ValidationError,
)

MEDIA_TYPE = "application/problem+json"
DOCS = "/api/v1/docs#problem-"

TITLES = {
    400: "Bad request", 401: "Unauthorized", 403: "Forbidden", 404: "Not found", 405: "Method not allowed",
    409: "Conflict", 413: "Payload too large", 415: "Unsupported media type", 422: "Unprocessable content",
    429: "Too many requests", 500: "Internal server error",
}
SLUGS = {
    400: "bad-request", 401: "unauthorized", 403: "forbidden", 404: "not-found", 405: "method-not-allowed",
    409: "duplicate", 413: "too-large", 415: "unsupported-media-type", 422: "invalid", 429: "rate-limited",
    500: "server-error",
}


class Problem(Exception):
    def __init__(self, status: int, detail: str, *, slug: str | None = None, headers: dict[str, str] | None = None,
                 **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.detail, self.slug, self.headers, self.extra = status, detail, slug, headers or {}, extra


def problem_response(status: int, detail: str, *, slug: str | None = None, headers: dict[str, str] | None = None,
                     **extra: Any) -> JSONResponse:
    body = {"type": DOCS + (slug or SLUGS.get(status, "error")), "title": TITLES.get(status, "Error"),
            "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _api_field(field: str) -> str:
    """Service field names are words ("primary phone"); the API's are its JSON keys."""
    return field.strip().replace(" ", "_") if field else ""


def _from_service(err: GroupsmsError) -> JSONResponse:
    if isinstance(err, NotAuthenticated):
        return problem_response(401, "The token is not valid (revoked, or its user is deactivated)",
                                headers={"WWW-Authenticate": "Bearer"})
    if isinstance(err, Forbidden):
        return problem_response(403, str(err))
    if isinstance(err, NotFound):
        return problem_response(404, str(err))
    if isinstance(err, DuplicateGroup):
        return problem_response(409, str(err), existing_group_id=err.group_id)
    if isinstance(err, ValidationError):
        errors = [{"field": _api_field(e.field), "rule": e.rule or "invalid", "message": e.message} for e in err.errors]
        return problem_response(422, str(err), errors=errors)
    return problem_response(400, str(err))


def _loc(loc: tuple) -> str:
    parts = [p for p in loc if p not in ("body", "query", "path", "header")]
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or (str(loc[-1]) if loc else "")


def install(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(_request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc.status, exc.detail, slug=exc.slug, headers=exc.headers, **exc.extra)

    @app.exception_handler(GroupsmsError)
    async def _service(_request: Request, exc: GroupsmsError) -> JSONResponse:
        return _from_service(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"field": _loc(tuple(e.get("loc", ()))), "rule": str(e.get("type", "invalid")),
                   "message": str(e.get("msg", "invalid"))} for e in exc.errors()]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors) or "The request is not valid"
        return problem_response(422, detail[:1000], errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:  # every method of the path, not only those of the first route matched
            headers["Allow"] = ", ".join(_allowed_methods(request))
        return problem_response(exc.status_code, str(exc.detail), headers=headers or None)


def _allowed_methods(request: Request) -> list[str]:
    from starlette.routing import Match

    methods: set[str] = set()
    for route in request.app.routes:
        match, _ = route.matches(request.scope)
        if match != Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return sorted(methods)
