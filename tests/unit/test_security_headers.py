"""Security headers: CSP with the page's own inline-script hashes, frame protection, nosniff,
referrer and permissions policies on every response; HSTS only over HTTPS."""

from __future__ import annotations

import base64
import gzip
import hashlib

import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import TestClient

from groupsms.headers import SecurityHeaders, inline_script_hashes

PAGE = (b'<html><head><script>window.boot = 1;</script><script type="module" src="/assets/app.js">'
        b'</script></head><body><script>$RC("B:1","S:1")</script></body></html>')


def _sha(js: bytes) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(js).digest()).decode() + "'"


async def page(request):
    return HTMLResponse(PAGE)


async def gz_page(request):
    return Response(gzip.compress(PAGE), media_type="text/html", headers={"content-encoding": "gzip"})


async def etag_page(request):
    if request.headers.get("if-none-match") == '"v1"':
        return Response(status_code=304, headers={"etag": '"v1"'})
    return HTMLResponse(PAGE, headers={"etag": '"v1"'})


async def text(request):
    return PlainTextResponse("ok")


async def ws(websocket):
    await websocket.accept()
    await websocket.send_text("hi")
    await websocket.close()


@pytest.fixture
def make_client(monkeypatch):
    def make(**env: str) -> TestClient:
        for name in ("REFLEX_API_URL", "REFLEX_DEPLOY_URL", "GROUPSMS_TRUSTED_PROXIES"):
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setattr("groupsms.headers._app_urls", lambda: [v for k, v in env.items() if k.startswith("REFLEX_")])
        app = Starlette(routes=[Route("/login", page), Route("/gz", gz_page), Route("/etag", etag_page), Route("/webhooks/x", text),
                                WebSocketRoute("/_event", ws)])
        return TestClient(SecurityHeaders(app), base_url="http://testserver")
    return make


def test_pages_send_csp_and_frame_protection(make_client):
    response = make_client(REFLEX_API_URL="http://localhost:3000").get("/login")
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert _sha(b"window.boot = 1;") in csp and _sha(b'$RC("B:1","S:1")') in csp
    assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    assert "connect-src 'self' http://localhost:3000 ws://localhost:3000" in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert "camera=()" in response.headers["permissions-policy"]
    assert "strict-transport-security" not in response.headers
    assert response.text == PAGE.decode()


def test_pages_sent_by_the_servers_pathsend_extension_are_hashed(tmp_path):
    # Granian serves files with "http.response.pathsend" (no body messages pass the middleware).
    import asyncio

    path = tmp_path / "login.html"
    path.write_bytes(PAGE)
    sent = []

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html")]})
        await send({"type": "http.response.pathsend", "path": str(path)})

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/login", "headers": [], "client": ("10.0.0.9", 1)}
    asyncio.run(SecurityHeaders(app)(scope, None, send))
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.pathsend"]
    csp = dict(sent[0]["headers"])[b"content-security-policy"].decode()
    assert _sha(b"window.boot = 1;") in csp and "frame-ancestors 'none'" in csp


def test_a_revalidated_page_keeps_the_csp_it_was_cached_with(make_client):
    # A 304 carries no content type; a locked-down CSP on it would replace the cached page's policy.
    client = make_client()
    response = client.get("/etag")
    again = client.get("/etag", headers={"if-none-match": response.headers["etag"]})
    assert again.status_code == 304
    assert "content-security-policy" not in again.headers
    assert again.headers["x-content-type-options"] == "nosniff"


def test_an_injected_inline_script_is_not_in_the_policy():
    assert inline_script_hashes(PAGE + b"<script>evil()</script>")[-1] not in inline_script_hashes(PAGE)


def test_precompressed_pages_are_hashed_too(make_client):
    response = make_client().get("/gz", headers={"accept-encoding": "gzip, br, zstd"})
    assert _sha(b"window.boot = 1;") in response.headers["content-security-policy"]


def test_webhook_and_other_answers_get_a_locked_down_csp(make_client):
    response = make_client().post("/webhooks/x")
    assert response.headers["content-security-policy"].startswith("default-src 'none'")
    assert response.headers["x-content-type-options"] == "nosniff"


def test_hsts_is_sent_when_the_app_url_is_https(make_client):
    response = make_client(REFLEX_API_URL="https://chat.example.com").get("/login")
    assert response.headers["strict-transport-security"] == "max-age=31536000"
    assert "https://chat.example.com wss://chat.example.com" in response.headers["content-security-policy"]


def test_forwarded_proto_is_trusted_only_from_a_trusted_proxy(make_client):
    # TestClient's client address is "testclient", not an IP: it is no trusted proxy.
    forged = make_client().get("/login", headers={"x-forwarded-proto": "https"})
    assert "strict-transport-security" not in forged.headers


def test_forwarded_proto_from_the_loopback_proxy_turns_hsts_on(make_client):
    # GROUPSMS_TRUSTED_PROXIES defaults to loopback: a reverse proxy on the same machine.
    with TestClient(make_client().app, client=("127.0.0.1", 50000)) as local:
        assert "strict-transport-security" in local.get("/login", headers={"x-forwarded-proto": "https"}).headers
        assert "strict-transport-security" not in local.get("/login").headers


def test_the_event_websocket_handshake_carries_the_headers(make_client):
    with make_client().websocket_connect("/_event") as socket:
        assert socket.receive_text() == "hi"
        # Starlette's test client exposes the accept headers on the session.
        assert (b"x-content-type-options", b"nosniff") in socket.extra_headers
