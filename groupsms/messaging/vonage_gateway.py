"""VonageGateway: the SmsGateway port over the official `vonage` SDK (v4) and its SMS API.

What the SDK does, read in vonage_http_client/http_client.py (1.5.x), and what we do about it:

- It builds `https://{rest_host}/sms/json` and nothing else: a stand-in (the simulator) must speak TLS,
  and `rest_host` may be "127.0.0.1:PORT".
- Its `requests.Session` keeps `trust_env=True`, so `REQUESTS_CA_BUNDLE` / `CURL_CA_BUNDLE` from the
  environment override `session.verify`. With a CA bundle we set `verify` to it and turn
  `trust_env` off on that session only: the bundle wins for Vonage requests, and the process
  environment (used by everything else) is left untouched. (That session then also ignores proxy
  variables: a CA bundle is for a stand-in on a known host.) Without one, requests' usual trust applies.
- Its HTTP client is not thread-safe (one mutable headers dict shared by every call, and one
  `last_response`): one SDK client per thread (`threading.local`).
- Duplicate SMS guard. `make_request` re-sends the whole request, up to `pool_maxsize` times (default
  10), whenever the connection drops with "RemoteDisconnected", which is exactly a server that read
  our POST and closed without answering, i.e. maybe accepted it. Its urllib3 `Retry(total=3)` does
  not retry a POST on a read error, but it does retry TLS errors raised mid-response ("other" errors).
  So `pool_maxsize=1` (one attempt in that loop; one connection per per-thread client is all we use)
  and `max_retries=0` (urllib3 retries nothing). A dropped or timed-out request is reported
  "ambiguous"; the outbox waits for a receipt before it sends again, and sends again at most once.
- `HttpClientOptions.timeout` only takes whole seconds; we set the client's float timeout after.
- Its request signing signs the empty (None) fields it then leaves out of the form, so signed sends
  fail: we always use Basic auth (api_key/api_secret) and never pass a signature secret here.
- `Sms.send` raises on a non-zero status and keeps the body only in the message text (one part) or the
  exception (several parts): we read the body from `http_client.last_response` instead.
"""

from __future__ import annotations

import math
import os
import ssl
import threading
import weakref
from decimal import Decimal, InvalidOperation
from typing import Any

import requests
from vonage import Auth, HttpClientOptions, Vonage
from urllib3.exceptions import MaxRetryError, NewConnectionError
from vonage_http_client.errors import HttpRequestError
from vonage_sms import SmsMessage

from groupsms.messaging.gateway import (
    AMBIGUOUS,
    FAILED,
    RETRY,
    SENT,
    THROTTLED,
    STATUS_NAMES,
    SendRequest,
    SendResult,
    SmsGateway,
    check_send_request,
    invalid_request,
    outcome_for_status,
)

DEFAULT_REST_HOST = "rest.nexmo.com"
_ERROR_TEXT_LIMIT = 300


def vonage_number(e164: str) -> str:
    """Vonage wants E.164 digits without the "+"."""
    return e164[1:] if e164.startswith("+") else e164


class VonageGateway:
    def __init__(
        self,
        api_key: str,
        api_secret: str,
        rest_host: str = DEFAULT_REST_HOST,
        ca_bundle: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        if not api_key or not api_secret:
            raise ValueError("VonageGateway needs an API key and an API secret")
        if not timeout or timeout <= 0:
            raise ValueError("timeout must be a positive number of seconds")
        if rest_host and ("/" in rest_host or not rest_host.strip()):
            raise ValueError(f"VONAGE_REST_HOST is a host[:port] (the SDK adds https://), got {rest_host!r}")
        if ca_bundle and not os.path.isfile(ca_bundle):
            raise ValueError(f"VONAGE_CA_BUNDLE {ca_bundle!r} is not a file")
        self.api_key = api_key
        self._api_secret = api_secret
        self.rest_host = rest_host or DEFAULT_REST_HOST
        self.ca_bundle = ca_bundle or None
        self.timeout = float(timeout)
        self._local = threading.local()
        self._clients: weakref.WeakSet[Vonage] = weakref.WeakSet()  # a dead thread's client just goes
        self._clients_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"VonageGateway(api_key={self.api_key!r}, rest_host={self.rest_host!r}, ca_bundle={self.ca_bundle!r})"

    # -- SDK client, one per thread ------------------------------------------------------------

    def _client(self) -> Vonage:
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._new_client()
            self._local.client = client
            with self._clients_lock:
                self._clients.add(client)
        return client

    def _new_client(self) -> Vonage:
        options = HttpClientOptions(
            rest_host=self.rest_host,
            timeout=max(1, math.ceil(self.timeout)),
            pool_connections=1,
            pool_maxsize=1,  # also the SDK's resend-on-RemoteDisconnected count: 1 = never resend
            max_retries=0,  # urllib3 must not retry a POST the server may have read
        )
        client = Vonage(Auth(api_key=self.api_key, api_secret=self._api_secret), options)
        http = client.http_client
        for attribute in ("_timeout", "_session"):
            if not hasattr(http, attribute):  # an SDK upgrade moved them: fail loudly, not silently
                raise RuntimeError(f"vonage HttpClient has no {attribute}; review VonageGateway")
        http._timeout = self.timeout
        if self.ca_bundle:
            http._session.verify = self.ca_bundle
            http._session.trust_env = False  # else REQUESTS_CA_BUNDLE from the environment wins
        return client

    def close(self) -> None:
        """Close every thread's HTTP session (idle connections); the gateway stays usable."""
        with self._clients_lock:
            clients = list(self._clients)
            self._clients.clear()
        for client in clients:
            client.http_client._session.close()
        self._local = threading.local()

    # -- sending --------------------------------------------------------------------------------

    def send(self, request: SendRequest) -> SendResult:
        problem = check_send_request(request)
        if problem:
            return invalid_request(problem)
        try:
            message = SmsMessage(
                to=vonage_number(request.to_e164),
                from_=vonage_number(request.from_e164),
                text=request.text,
                client_ref=request.client_ref,
                type="unicode" if request.unicode else "text",
            )
        except ValueError as exc:  # pydantic ValidationError: the SDK refuses the request itself
            return invalid_request(_short(str(exc)))

        client = self._client()
        http = client.http_client
        before = http.last_response
        error: Exception | None = None
        try:
            client.sms.send(message)
        except HttpRequestError as exc:
            return _http_error_result(exc.response)
        except requests.exceptions.RequestException as exc:
            return _transport_error_result(exc)
        except Exception as exc:  # SmsError / PartialFailureError (non-zero status), or anything else
            error = exc
        response = http.last_response
        if response is None or response is before:
            # The SDK failed before or after the request without an answer we can read.
            return SendResult(AMBIGUOUS, error_code="unexpected",
                              error_text=_short(f"{type(error).__name__}: {error}"))
        try:
            body = response.json()
        except ValueError:
            body = None
        return result_from_body(body)


def result_from_body(body: Any) -> SendResult:
    """A SendResult for an HTTP 200 body of the SMS API (one entry in `messages` per part)."""
    messages = body.get("messages") if isinstance(body, dict) else None
    if not isinstance(messages, list) or not messages or not all(isinstance(m, dict) for m in messages):
        # HTTP 200 that is not an SMS API answer (a proxy page? a cut-off body?): it may have been accepted.
        return SendResult(AMBIGUOUS, error_code="unexpected",
                          error_text=_short(f"unexpected response body: {body!r}"))
    accepted = [m for m in messages if str(m.get("status")) == "0" and m.get("message-id")]
    ids = tuple(str(m["message-id"]) for m in accepted)
    prices = tuple(_price(m.get("message-price")) for m in accepted)
    price = _total_price(prices)
    parts = len(messages)
    if len(accepted) == len(messages):
        return SendResult(SENT, message_ids=ids, price=price, part_prices=prices, parts_total=parts)
    refused = next(m for m in messages if str(m.get("status")) != "0")
    code = str(refused.get("status"))
    text = str(refused.get("error-text") or STATUS_NAMES.get(code, "Unknown status"))
    if accepted:
        # Some parts went out: resending would duplicate them, so this is final, and the ids stay.
        return SendResult(
            FAILED, message_ids=ids, price=price, part_prices=prices, parts_total=parts, error_code=code,
            error_text=f"partial failure: {len(accepted)} of {len(messages)} parts accepted; {text}",
        )
    return SendResult(
        outcome_for_status(code), error_code=code, error_text=text, parts_total=parts,
        retry_after=1.0 if code == "1" else None,  # the limit is per second
    )


def _http_error_result(response: requests.Response) -> SendResult:
    status = response.status_code
    text = _short(f"HTTP {status}: {response.text}")
    code = f"http-{status}"
    if status == 429:
        return SendResult(THROTTLED, error_code=code, error_text=text, retry_after=_retry_after(response))
    if status == 503:
        # Unavailable: refused before it was handled (maintenance, overload, an outage). Safe to resend.
        return SendResult(RETRY, error_code=code, error_text=text, retry_after=_retry_after(response))
    if status >= 500:
        # 500/502/504...: the provider (or a proxy in front of it) may have handled it before failing.
        return SendResult(AMBIGUOUS, error_code=code, error_text=text)
    return SendResult(FAILED, error_code=code, error_text=text)  # 401/403 credentials, other 4xx


def _transport_error_result(exc: requests.exceptions.RequestException) -> SendResult:
    """No HTTP answer. Only a request that never left (no connection, TLS refused) is safe to resend;
    once the POST was written the provider may have read and accepted it."""
    text = _short(str(exc))
    if isinstance(exc, requests.exceptions.ConnectTimeout) or _never_connected(exc):
        return SendResult(RETRY, error_code="connection", error_text=text)
    if isinstance(exc, requests.exceptions.Timeout):
        return SendResult(AMBIGUOUS, error_code="timeout", error_text=text)
    return SendResult(AMBIGUOUS, error_code="connection", error_text=text)


def _never_connected(exc: BaseException) -> bool:
    """Connection refused / unreachable, or a TLS handshake the client refused (untrusted certificate)."""
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, (NewConnectionError, ssl.SSLCertVerificationError)):
            return True
        if isinstance(current, MaxRetryError) and current.reason is not None:
            stack.append(current.reason)
        stack.extend(a for a in getattr(current, "args", ()) if isinstance(a, BaseException))
        for linked in (current.__cause__, current.__context__):
            if linked is not None:
                stack.append(linked)
    return False


def _retry_after(response: requests.Response) -> float | None:
    raw = response.headers.get("Retry-After", "")
    try:
        seconds = float(raw)
    except ValueError:
        return None  # an HTTP date: let the outbox's backoff decide
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def _price(raw) -> str | None:
    """The provider's decimal price string, or None when it is missing or not a number."""
    if raw in (None, ""):
        return None
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        return None
    return str(raw) if value.is_finite() else None


def _total_price(prices) -> str | None:
    known = [Decimal(p) for p in prices if p is not None]
    return str(sum(known, Decimal(0))) if known else None


def _short(text: str) -> str:
    return text if len(text) <= _ERROR_TEXT_LIMIT else text[: _ERROR_TEXT_LIMIT - 1] + "…"


def from_settings(settings, *, timeout: float = 10.0) -> SmsGateway:
    """The gateway the worker uses: Vonage (or the simulator standing in for it) per the settings."""
    if not settings.vonage_api_key or not settings.vonage_api_secret:
        raise ValueError(
            "VONAGE_API_KEY and VONAGE_API_SECRET must be set (without them, start `groupsms simulator` "
            "and use the variables it prints)"
        )
    return VonageGateway(
        settings.vonage_api_key,
        settings.vonage_api_secret,
        rest_host=settings.vonage_rest_host or DEFAULT_REST_HOST,
        ca_bundle=settings.vonage_ca_bundle,
        timeout=timeout,
    )
