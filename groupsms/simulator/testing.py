"""Test helpers around the simulator: a stand-in app webhook receiver and condition waits."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TypeVar
from urllib.parse import parse_qs, urlsplit

T = TypeVar("T")


def wait_until(
    condition: Callable[[], T], timeout: float = 5.0, interval: float = 0.01, what: str = "condition"
) -> T:
    """Poll until `condition()` is truthy and return it; TimeoutError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


@dataclass(frozen=True)
class ReceivedWebhook:
    method: str
    path: str
    content_type: str
    query: dict[str, str]
    form: dict[str, str]  # form or JSON body, as strings
    raw_body: bytes

    @property
    def params(self) -> dict[str, str]:
        """What a Vonage webhook carries, whichever of GET / POST / POST-JSON it came as."""
        return {**self.query, **self.form}


class WebhookReceiver:
    """An HTTP server on 127.0.0.1 recording every request; answers `status` (200 by default)."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self._lock = threading.Condition()
        self._received: list[ReceivedWebhook] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def _record(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                url = urlsplit(self.path)
                content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip()
                if content_type == "application/json" and body:
                    form = {k: str(v) for k, v in json.loads(body).items()}
                else:
                    form = {k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
                query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
                with receiver._lock:
                    received = ReceivedWebhook(self.command, url.path, content_type, query, form, body)
                    receiver._received.append(received)
                    receiver._lock.notify_all()
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = _record

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def received(self, path: str | None = None) -> list[ReceivedWebhook]:
        with self._lock:
            return [r for r in self._received if path is None or r.path == path]

    def clear(self) -> None:
        with self._lock:
            self._received.clear()

    def wait_for(self, count: int, path: str | None = None, timeout: float = 5.0) -> list[ReceivedWebhook]:
        with self._lock:
            if not self._lock.wait_for(lambda: len(self.received(path)) >= count, timeout):
                raise TimeoutError(f"{len(self.received(path))} webhooks to {path or 'any path'}, expected {count}")
            return self.received(path)
