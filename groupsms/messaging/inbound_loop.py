"""The inbound loop: its own thread, so a backlog of sends never delays webhook events.

It retries events whose processing failed (backoff and an attempt cap live in `inbound.py`) and
stores long texts whose missing parts waited out the timeout (E6). Several may run at once: each
event is locked while it is processed and processing is idempotent.
"""

from __future__ import annotations

import logging
import threading
import time

from groupsms.messaging import inbound

log = logging.getLogger(__name__)


class InboundLoop:
    def __init__(self, *, poll_seconds: float = 2.0, batch: int = 100, sweep_seconds: float = 15.0) -> None:
        self.poll_seconds = poll_seconds
        self.batch = batch
        # The long-text sweep reads every waiting part: often enough for a 10-minute timeout.
        self.sweep_seconds = sweep_seconds
        self._last_sweep = float("-inf")

    def run_once(self, *, sweep: bool = True) -> int:
        """Retry the due events and (sweep) flush expired long texts; returns how many were handled."""
        done = inbound.process_pending(limit=self.batch)
        if sweep:
            self._last_sweep = time.monotonic()
            done += inbound.flush_expired_parts()
        return done

    def run_forever(self, stop: threading.Event) -> None:
        log.info("inbound loop started")
        while not stop.is_set():
            try:
                sweep = time.monotonic() - self._last_sweep >= self.sweep_seconds
                if self.run_once(sweep=sweep) >= self.batch:
                    continue  # more are due: no pause
            except Exception:  # a database outage: try again after the pause
                log.exception("inbound loop error")
            stop.wait(self.poll_seconds)

    def start(self, stop: threading.Event) -> threading.Thread:
        thread = threading.Thread(target=self.run_forever, args=(stop,), name="groupsms-inbound", daemon=True)
        thread.start()
        return thread
