"""FakeGateway: the SmsGateway port for unit tests, with scripted answers and a record of every send."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable

from groupsms.messaging.gateway import (
    SENT,
    SendRequest,
    SendResult,
    check_send_request,
    invalid_request,
)

Responder = Callable[[SendRequest], SendResult]


class FakeGateway:
    """Thread-safe fake provider.

    - `.sent` lists every SendRequest received, in order (including refused ones).
    - Answers come from the scripted queue first (`FakeGateway([r1, r2])` or `.script(r3)`), then from
      the `responder` callable if one was given, else "sent" with ids "fake-1", "fake-2", ...
    - A malformed request (not E.164, client_ref over 40 characters, ...) is answered "failed" as
      the Vonage adapter would, so unit tests catch what production would refuse.
    """

    def __init__(
        self,
        results: Iterable[SendResult] | Responder | None = None,
        *,
        responder: Responder | None = None,
    ) -> None:
        if callable(results):
            results, responder = None, results
        self._lock = threading.Lock()
        self._script: deque[SendResult] = deque(results or ())
        self._responder = responder
        self._sent: list[SendRequest] = []
        self._next_id = 0

    @property
    def sent(self) -> list[SendRequest]:
        with self._lock:
            return list(self._sent)

    def script(self, *results: SendResult) -> None:
        """Queue answers for the next sends, in order."""
        with self._lock:
            self._script.extend(results)

    def clear(self) -> None:
        with self._lock:
            self._sent.clear()
            self._script.clear()

    def send(self, request: SendRequest) -> SendResult:
        with self._lock:
            self._sent.append(request)
            problem = check_send_request(request)
            if problem:
                return invalid_request(problem)
            if self._script:
                return self._script.popleft()
            if self._responder is None:
                self._next_id += 1
                return SendResult(SENT, message_ids=(f"fake-{self._next_id}",), price="0.00750000")
            responder = self._responder
        return responder(request)  # outside the lock: a responder may block to simulate a slow provider
