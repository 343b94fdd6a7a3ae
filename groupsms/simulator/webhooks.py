"""Webhooks the simulator sends to the app: delivery receipts and inbound SMS, signed like Vonage's."""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlencode

from groupsms.messaging.signatures import sign_params

log = logging.getLogger(__name__)

# Vonage's dashboard offers GET (query string), POST (form) and POST-JSON for SMS API webhooks.
GET, POST, POST_JSON = "GET", "POST", "POST-JSON"
WEBHOOK_METHODS = (GET, POST, POST_JSON)
DEFAULT_WEBHOOK_METHOD = GET  # the SMS API's long-standing default; the app accepts all three
STATUS, INBOUND = "status", "inbound"


@dataclass(frozen=True)
class WebhookRecord:
    kind: str  # "status" (delivery receipt) | "inbound"
    method: str  # GET | POST | POST-JSON
    url: str
    params: dict[str, str]
    http_status: int | None  # None when the app could not be reached
    error: str | None
    at: float = field(default_factory=time.time)

    @property
    def ok(self) -> bool:
        return self.http_status is not None and 200 <= self.http_status < 300


class WebhookSender:
    """Signs (when a signature secret is set) and sends one webhook; no proxies, loopback only."""

    def __init__(self, method: str, signature_secret: str | None, signature_method: str, timeout: float = 5.0):
        if method not in WEBHOOK_METHODS:
            raise ValueError(f"webhook method must be one of {', '.join(WEBHOOK_METHODS)}, got {method!r}")
        self.method = method
        self.signature_secret = signature_secret or None
        self.signature_method = signature_method
        self.timeout = timeout
        # An empty ProxyHandler: environment proxies must never see loopback webhooks.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def signed(self, params: dict[str, str], *, now: float | None = None) -> dict[str, str]:
        """The params as Vonage sends them: with timestamp, nonce and sig when signing is on."""
        params = dict(params)
        if self.signature_secret:
            params.setdefault("timestamp", str(int(now if now is not None else time.time())))
            params["nonce"] = str(uuid.uuid4())
            params["sig"] = sign_params(params, self.signature_secret, self.signature_method)
        return params

    def send(self, kind: str, url: str, params: dict[str, str]) -> WebhookRecord:
        if self.method == GET:
            request = urllib.request.Request(f"{url}{'&' if '?' in url else '?'}{urlencode(params)}", method="GET")
        elif self.method == POST:
            request = urllib.request.Request(
                url, data=urlencode(params).encode(), method="POST",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
        else:
            request = urllib.request.Request(
                url, data=json.dumps(params).encode(), method="POST", headers={"Content-Type": "application/json"},
            )
        request.add_header("User-Agent", "groupsms-vonage-simulator")
        status, error = None, None
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                response.read()
                status = response.status
        except urllib.error.HTTPError as exc:
            status, error = exc.code, f"HTTP {exc.code}"
        except (urllib.error.URLError, OSError) as exc:
            error = str(exc)
        record = WebhookRecord(kind, self.method, url, params, status, error)
        if not record.ok:
            log.warning("simulator %s webhook to %s failed: %s", kind, url, error)
        return record


class WebhookDispatcher:
    """A background thread that sends queued webhooks (delivery receipts) in order, after a delay."""

    def __init__(self, sender: WebhookSender, on_sent, stop: threading.Event, *,
                 retry_for: float = 0.0, retry_delay: float = 1.0) -> None:
        self._sender = sender
        self._retry_for = retry_for  # seconds after the first try during which a failed one is retried
        self._retry_delay = retry_delay
        self._on_sent = on_sent
        self._stop = stop
        self._queue: queue.Queue = queue.Queue()
        self._idle = threading.Condition()
        self._pending = 0
        self._thread = threading.Thread(target=self._run, name="vonage-simulator-webhooks", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def submit(self, kind: str, url: str, params: dict[str, str], delay: float) -> None:
        with self._idle:
            self._pending += 1
        due = time.monotonic() + delay
        self._queue.put((due, kind, url, params, due + self._retry_for))

    @property
    def pending(self) -> int:
        with self._idle:
            return self._pending

    def wait_idle(self, timeout: float) -> bool:
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def close(self, timeout: float = 2.0) -> None:
        self._queue.put(None)
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            due, kind, url, params, give_up_at = job
            retried = False
            try:
                if self._stop.wait(max(0.0, due - time.monotonic())):
                    continue  # stopping: drop what is left
                record = self._sender.send(kind, url, self._sender.signed(params))
                self._on_sent(record)
                if not record.ok and time.monotonic() + self._retry_delay <= give_up_at:
                    # Like Vonage: try again later (behind what is queued; receipts may then reorder).
                    self._queue.put((time.monotonic() + self._retry_delay, kind, url, params, give_up_at))
                    retried = True
            except Exception:  # never let one bad webhook kill the thread
                log.exception("simulator webhook failed")
            finally:
                if not retried:
                    with self._idle:
                        self._pending -= 1
                        self._idle.notify_all()
