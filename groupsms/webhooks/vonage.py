"""Vonage webhooks: `/webhooks/vonage/inbound` (an SMS to a business number) and
`/webhooks/vonage/status` (a delivery receipt).

Vonage sends GET query strings, POST forms or POST JSON. A request is verified (signature and
timestamp freshness when VONAGE_SIGNATURE_SECRET is set), validated, stored once, and only then
answered 200; a bad signature gets 401 and a malformed body 400, with nothing stored.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time

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


async def _params(request: Request) -> dict[str, str]:
    if request.method == "GET":
        params = dict(request.query_params)
    else:
        body = await request.body()
        if len(body) > MAX_BODY:
            raise _Malformed("body too large")
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype == "application/json":
            try:
                data = json.loads(body or b"null")
            except ValueError as exc:
                raise _Malformed("body is not JSON") from exc
            if not isinstance(data, dict):
                raise _Malformed("JSON body must be an object")
            params = data
        elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            params = dict(await request.form())
        else:
            raise _Malformed(f"unsupported content type {ctype or 'none'}")
    out = {}
    for key, value in params.items():
        if isinstance(value, bool):
            value = "true" if value else "false"
        if not isinstance(value, (str, int, float)):
            raise _Malformed(f"{key} must be a plain value")
        out[str(key)] = str(value)
    return out


async def _handle(request: Request, kind: str) -> PlainTextResponse:
    try:
        params = await _params(request)
    except _Malformed as exc:
        return PlainTextResponse(f"Bad request: {exc}", status_code=400)
    settings = config.load()
    if settings.vonage_signature_secret:
        reason = verify_params(
            params, settings.vonage_signature_secret, settings.vonage_signature_method, now=time.time()
        )
        if reason:
            log.warning("refused a %s webhook: %s", kind, reason)
            return PlainTextResponse(f"Unauthorized: {reason}", status_code=401)
    try:
        event_id, new = await asyncio.to_thread(inbound.record_event, kind, params)
    except inbound.BadEvent as exc:
        return PlainTextResponse(f"Bad request: {exc}", status_code=400)
    if new:
        # Stored: Vonage gets its 200 whatever happens next; a failure is retried from the store.
        await asyncio.to_thread(inbound.process_event, event_id)
    return PlainTextResponse("ok")


async def inbound_sms(request: Request) -> PlainTextResponse:
    return await _handle(request, inbound.INBOUND)


async def delivery_receipt(request: Request) -> PlainTextResponse:
    return await _handle(request, inbound.STATUS)


routes = [
    Route("/webhooks/vonage/inbound", inbound_sms, methods=["GET", "POST"]),
    Route("/webhooks/vonage/status", delivery_receipt, methods=["GET", "POST"]),
]
