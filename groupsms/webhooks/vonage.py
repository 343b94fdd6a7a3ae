"""Vonage webhooks: `/webhooks/vonage/inbound` (an SMS to a business number) and
`/webhooks/vonage/status` (a delivery receipt).

Vonage sends GET query strings, POST forms or POST JSON. A request is verified (signature, and a
timestamp at most 24 hours old and not from the future), validated, stored once and processed in the
same transaction, and only then answered 200; a bad signature gets 401 and a malformed body 400,
with nothing stored. What the fields mean is read in one place, `messaging/vonage_inbound.py`, which turns them into the
provider-neutral events the rest of groupsms processes (`messaging/transport.py`).

Fail closed: without VONAGE_SIGNATURE_SECRET every request is refused (401), unless
GROUPSMS_ALLOW_UNSIGNED_WEBHOOKS=1 says this is a local experiment (then each unsigned request is
logged as a warning). The app does not even start with a real VONAGE_API_KEY and no secret.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from urllib.parse import unquote_plus

from python_multipart.multipart import parse_options_header
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from groupsms import config
from groupsms.messaging import inbound
from groupsms.messaging.signatures import verify_params

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024


class _Malformed(ValueError):
    pass


async def _body(request: Request) -> bytes:
    """The body, read no further than MAX_BODY (a huge upload is refused without buffering it)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise _Malformed("body too large")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise _Malformed("body too large")
        chunks.append(chunk)
    body = b"".join(chunks)
    request._body = body  # noqa: SLF001 - lets request.form() parse what was already read
    return body


URLENCODED = b"application/x-www-form-urlencoded"
MAX_FIELDS = 1000  # Starlette's request.form() refuses more


def _urlencoded(body: bytes) -> dict[str, str]:
    """A form body's fields, read as Starlette's `request.form()` reads them (python-multipart's
    query-string parser: fields split at "&", empty ones skipped, a name without "=" has the value
    "", the bytes taken as Latin-1 and then percent-decoded as UTF-8; a repeated name keeps its last
    value), without the parser's per-byte callbacks."""
    fields = [field for field in body.split(b"&") if field]
    if len(fields) > MAX_FIELDS:
        raise _Malformed(f"form body is malformed: Too many fields. Maximum number of fields is {MAX_FIELDS}.")
    out = {}
    for field in fields:
        name, _, value = field.partition(b"=")
        out[unquote_plus(name.decode("latin-1"))] = unquote_plus(value.decode("latin-1"))
    return out


async def _params(request: Request) -> dict[str, str]:
    if request.method == "GET":
        params = dict(request.query_params)
    else:
        body = await _body(request)
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype == "application/json":
            try:
                data = json.loads(body or b"null")
            except (ValueError, RecursionError) as exc:  # RecursionError: "[[[[..." nested too deep
                raise _Malformed("body is not JSON") from exc
            if not isinstance(data, dict):
                raise _Malformed("JSON body must be an object")
            params = data
        elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            if parse_options_header(request.headers.get("content-type"))[0] == URLENCODED:
                params = _urlencoded(body)  # what Vonage sends: read here, as request.form() would
            else:
                try:
                    params = dict(await request.form())
                except HTTPException as exc:  # Starlette's own 400 for a malformed multipart body
                    raise _Malformed(f"form body is malformed: {exc.detail}") from exc
        else:
            raise _Malformed(f"unsupported content type {ctype or 'none'}")
    out = {}
    for key, value in params.items():
        if isinstance(value, bool):
            value = "true" if value else "false"
        if not isinstance(value, (str, int, float)):
            raise _Malformed(f"{str(key)[:40]} must be a plain value")
        key, value = str(key), str(value)
        # No column can hold NUL (PostgreSQL refuses it) and Vonage never sends one.
        if "\x00" in key or "\x00" in value:
            raise _Malformed(f"{key[:40]!r} contains a NUL character")
        out[key] = value
    return out


NO_SECRET = "VONAGE_SIGNATURE_SECRET is not set, so webhooks cannot be verified"


async def _handle(request: Request, kind: str) -> PlainTextResponse:
    if request.method not in ("GET", "POST"):  # Starlette adds HEAD to GET routes; Vonage never sends it
        return PlainTextResponse("Method not allowed: use GET or POST", status_code=405)
    settings = config.load()
    secret = settings.vonage_signature_secret
    if not secret and not settings.allow_unsigned_webhooks:
        # Defence in depth: startup refuses this configuration with a real key; never fail open.
        log.warning("refused a %s webhook: %s", kind, NO_SECRET)
        return PlainTextResponse(f"Unauthorized: {NO_SECRET}", status_code=401)
    try:
        params = await _params(request)
    except _Malformed as exc:
        return PlainTextResponse(f"Bad request: {exc}", status_code=400)
    if secret:
        reason = verify_params(params, secret, settings.vonage_signature_method, now=time.time())
        if reason:
            log.warning("refused a %s webhook: %s", kind, reason)
            return PlainTextResponse(f"Unauthorized: {reason}", status_code=401)
    else:
        log.warning("accepting an UNSIGNED %s webhook: %s", kind, config.UNSIGNED_WEBHOOKS_WARNING)
    try:
        # Stored and processed in one transaction (one thread hop). Stored, Vonage gets its 200
        # whatever happens next: a processing that failed is retried from the store.
        await asyncio.to_thread(inbound.receive, kind, params)
    except inbound.BadEvent as exc:
        return PlainTextResponse(f"Bad request: {exc}", status_code=400)
    return PlainTextResponse("ok")


async def inbound_sms(request: Request) -> PlainTextResponse:
    return await _handle(request, inbound.INBOUND)


async def delivery_receipt(request: Request) -> PlainTextResponse:
    return await _handle(request, inbound.STATUS)


routes = [
    Route("/webhooks/vonage/inbound", inbound_sms, methods=["GET", "POST"]),
    Route("/webhooks/vonage/status", delivery_receipt, methods=["GET", "POST"]),
]
