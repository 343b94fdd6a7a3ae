"""Security headers on every response the app serves: pages, assets, the event websocket, webhooks.

In production (`reflex run --env prod`) Reflex 0.10.1 serves the built frontend from the backend on
one port (`reflex.utils.exec.get_frontend_mount`, mounted inside the backend app), so one ASGI
middleware given to `rx.App(api_transformer=[...])` covers everything the browser loads.

- Content-Security-Policy. Pages: scripts only from this origin plus the inline scripts of the
  page itself, allowed by their SHA-256 (Reflex's prerendered pages carry a few inline bootstrap
  scripts; their hashes are taken from the HTML as it is served, so a rebuild needs no config).
  `'unsafe-eval'` stays: Reflex runs `rx.call_script` / `rx.scroll_to` / `rx.set_value` through
  `eval`. Styles need `'unsafe-inline'` (Emotion inserts <style> tags, Radix sets style
  attributes). `frame-ancestors 'none'`: no other site can frame the app (clickjacking). Other
  responses (JSON, text, webhooks) get `default-src 'none'`.
- X-Frame-Options, X-Content-Type-Options, Referrer-Policy, Permissions-Policy, COOP everywhere.
- Strict-Transport-Security only when the app is served over HTTPS: the app's URL (REFLEX_API_URL
  or REFLEX_DEPLOY_URL) is https, the connection itself is TLS, or X-Forwarded-Proto says https
  *and* the request comes from a trusted proxy (GROUPSMS_TRUSTED_PROXIES, default loopback only).
  A client cannot turn HSTS on by sending the header itself from elsewhere.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import ipaddress
import os
import re
import zlib
from functools import lru_cache
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HSTS = "max-age=31536000"
STATIC_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    "cross-origin-opener-policy": "same-origin",
}
# JSON, text, webhook answers: nothing in them may load or run anything.
NON_HTML_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\ssrc=)[^>]*>(.*?)</script>", re.S | re.I)
_MAX_HTML = 2 * 1024 * 1024  # pages are a few KB; never buffer more than this to hash them


def _app_urls() -> list[str]:
    urls = [os.environ.get("REFLEX_API_URL", ""), os.environ.get("REFLEX_DEPLOY_URL", "")]
    try:
        import reflex as rx

        cfg = rx.config.get_config()
        urls += [cfg.api_url or "", cfg.deploy_url or ""]
    except Exception:  # noqa: BLE001 - no rxconfig (CLI, tests): the environment decides
        pass
    return [u for u in urls if u]


def app_url_is_https() -> bool:
    """Whether the app is meant to be reached over HTTPS (its configured URL says so)."""
    return any(u.lower().startswith("https://") for u in _app_urls())


def _origins(url: str) -> list[str]:
    """The http(s) and ws(s) forms of the origin of `url` (the frontend talks to the backend on both)."""
    parts = urlsplit(url)
    if not parts.netloc:
        return []
    secure = parts.scheme in ("https", "wss")
    return [f"{'https' if secure else 'http'}://{parts.netloc}", f"{'wss' if secure else 'ws'}://{parts.netloc}"]


def _trusted_proxies() -> list[ipaddress._BaseNetwork]:
    raw = os.environ.get("GROUPSMS_TRUSTED_PROXIES", "127.0.0.1,::1")
    nets = []
    for item in (p.strip() for p in raw.split(",")):
        if not item:
            continue
        try:
            nets.append(ipaddress.ip_network(item, strict=False))
        except ValueError as exc:
            raise SystemExit(f"GROUPSMS_TRUSTED_PROXIES: {item!r} is not an IP address or network") from exc
    return nets


@lru_cache(maxsize=64)
def _page_csp(script_hashes: tuple[str, ...], connect: str) -> str:
    scripts = " ".join(f"'sha256-{h}'" for h in script_hashes)
    return "; ".join([
        "default-src 'self'",
        f"script-src 'self' 'unsafe-eval' {scripts}".strip(),
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        f"connect-src 'self' {connect}".strip(),
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def inline_script_hashes(html: bytes) -> tuple[str, ...]:
    """Base64 SHA-256 of each inline <script> body, in the form CSP's 'sha256-…' expects."""
    seen: dict[str, None] = {}
    for match in _INLINE_SCRIPT.finditer(html):
        digest = base64.b64encode(hashlib.sha256(match.group(1)).digest()).decode("ascii")
        seen.setdefault(digest, None)
    return tuple(seen)


def _read_small(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(_MAX_HTML)
    except OSError:
        return b""


def _decoded(body: bytes, encoding: str) -> bytes | None:
    if encoding in ("", "identity"):
        return body
    try:
        if encoding == "gzip":
            return gzip.decompress(body)
        if encoding == "deflate":
            return zlib.decompress(body)
    except (OSError, zlib.error, EOFError):
        return None
    return None  # brotli/zstd: the request is sent without them (see _html_request_scope)


class SecurityHeaders:
    """ASGI middleware adding the headers above (pure ASGI: websockets and streaming pass through)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.app_https = app_url_is_https()
        self.proxies = _trusted_proxies()
        connect = []
        for url in _app_urls():
            connect += [o for o in _origins(url) if o not in connect]
        self.connect = " ".join(connect)

    def _is_https(self, scope: Scope) -> bool:
        if self.app_https or scope.get("scheme") in ("https", "wss"):
            return True
        client = scope.get("client")
        if not client:
            return False
        try:
            address = ipaddress.ip_address(client[0])
        except ValueError:
            return False
        if not any(address in net for net in self.proxies):
            return False
        for name, value in scope.get("headers", ()):
            if name == b"x-forwarded-proto":
                return value.split(b",")[0].strip().lower() == b"https"
        return False

    def _common(self, scope: Scope) -> list[tuple[bytes, bytes]]:
        headers = [(k.encode(), v.encode()) for k, v in STATIC_HEADERS.items()]
        if self._is_https(scope):
            headers.append((b"strict-transport-security", HSTS.encode()))
        return headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self.app(scope, receive, self._websocket_send(scope, send))
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Only gzip (or nothing) for pages, so their inline scripts can be read and hashed.
        scope = _html_request_scope(scope)
        common = self._common(scope)
        start: Message | None = None
        chunks: list[bytes] = []
        size = 0

        async def wrapped(message: Message) -> None:
            nonlocal start, size
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in _OURS]
                headers += common
                ctype = dict((k.lower(), v) for k, v in headers).get(b"content-type", b"")
                if message.get("status") == 304:
                    # The browser merges a 304's headers into the page it cached: a CSP here would
                    # replace that page's own (which already matches the unchanged body).
                    await send({**message, "headers": headers})
                    return
                if ctype.startswith(b"text/html"):
                    start = {**message, "headers": headers}
                    return  # held until the body is complete and hashed
                headers.append((b"content-security-policy", NON_HTML_CSP.encode()))
                await send({**message, "headers": headers})
                return
            if message["type"] == "http.response.body" and start is not None:
                chunks.append(message.get("body", b""))
                size += len(chunks[-1])
                if message.get("more_body", False) and size <= _MAX_HTML:
                    return
                body = b"".join(chunks)
                await send(self._with_page_csp(start, body))
                start = None
                chunks.clear()
                # Past _MAX_HTML the rest streams through unhashed (no real page is that big).
                await send({"type": "http.response.body", "body": body,
                            "more_body": message.get("more_body", False)})
                return
            if message["type"] == "http.response.pathsend" and start is not None:
                # Granian's pathsend extension: the server sends the file itself; hash it from disk.
                await send(self._with_page_csp(start, _read_small(message["path"])))
                start = None
            await send(message)

        await self.app(scope, receive, wrapped)

    def _with_page_csp(self, start: Message, body: bytes) -> Message:
        headers = dict((k.lower(), v) for k, v in start["headers"])
        html = _decoded(body, headers.get(b"content-encoding", b"").decode("latin-1").lower())
        hashes = inline_script_hashes(html) if html is not None else ()
        csp = _page_csp(hashes, self.connect)
        return {**start, "headers": [*start["headers"], (b"content-security-policy", csp.encode())]}

    def _websocket_send(self, scope: Scope, send: Send) -> Send:
        common = self._common(scope)

        async def wrapped(message: Message) -> None:
            if message["type"] == "websocket.accept":
                message = {**message, "headers": [*message.get("headers", []), *common]}
            await send(message)

        return wrapped


_OURS = {b"content-security-policy", b"strict-transport-security", *(k.encode() for k in STATIC_HEADERS)}


def _html_request_scope(scope: Scope) -> Scope:
    """Drop brotli/zstd from Accept-Encoding so precompressed pages come as gzip or plain."""
    headers = scope.get("headers", [])
    for i, (name, value) in enumerate(headers):
        if name == b"accept-encoding":
            kept = [p for p in value.split(b",") if p.split(b";")[0].strip().lower() in (b"gzip", b"identity", b"*")]
            new = list(headers)
            new[i] = (name, b",".join(kept))
            return {**scope, "headers": new}
    return scope
