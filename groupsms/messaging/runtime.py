"""Starting the messaging side: the gateway (Vonage, or the built-in simulator when no
VONAGE_API_KEY is set, E10), the rate limiter shared by every worker, the outbox worker thread and
the inbound loop thread (webhook retries, long texts whose parts never all came)."""

from __future__ import annotations

import logging
import os
import secrets
import threading
from dataclasses import dataclass, field

from groupsms import config
from groupsms.messaging.gateway import SmsGateway
from groupsms.messaging import outbox, webhook_out
from groupsms.messaging.inbound_loop import InboundLoop
from groupsms.messaging.ratelimit import LocalRateLimiter, RateLimiter, RedisRateLimiter
from groupsms.messaging.vonage_gateway import from_settings
from groupsms.messaging.worker import Worker

log = logging.getLogger(__name__)

_SIMULATOR = None  # the in-process simulator, when there is one (the Phones page reads it)


def simulator():
    """The built-in simulator of this process, or None when sending through Vonage.

    With GROUPSMS_SIMULATOR=external the simulator is another process shared by every worker
    (`groupsms simulator`, whose VONAGE_* variables this process was given): a client of it."""
    global _SIMULATOR
    if _SIMULATOR is None and os.environ.get("GROUPSMS_SIMULATOR") == "external":
        settings = config.load()
        if settings.vonage_api_key and settings.vonage_api_secret:
            from groupsms.simulator.remote import RemoteSimulator

            _SIMULATOR = RemoteSimulator(settings.vonage_rest_host, settings.vonage_api_key,
                                         settings.vonage_api_secret, settings.vonage_ca_bundle)
    return _SIMULATOR


# The sends are spaced this much under the provider's rate: the room lets a send that leaves a little
# late (a database turn, the network) do so without a second ever holding more than the rate.
SEND_HEADROOM = 0.03


def limiter_for(settings: config.Settings) -> RateLimiter:
    """One budget for all workers: in Redis when REFLEX_REDIS_URL is set (under this install's
    GROUPSMS_REDIS_PREFIX), else in this process."""
    url = os.environ.get("REFLEX_REDIS_URL")
    if url:
        return RedisRateLimiter(url, settings.sms_rate, headroom=SEND_HEADROOM)
    return LocalRateLimiter(settings.sms_rate, headroom=SEND_HEADROOM)


def start_simulator(app_webhook_base: str) -> config.Settings:
    """Start the simulator in this process and point the Vonage settings at it."""
    global _SIMULATOR
    from groupsms.simulator import Simulator

    secret = os.environ.get("VONAGE_SIGNATURE_SECRET") or secrets.token_hex(16)
    sim = Simulator("simulator-key", secrets.token_hex(12), secret, app_webhook_base=app_webhook_base,
                    dlr_delay=0.3).start()
    os.environ.update(sim.env())
    _SIMULATOR = sim
    log.info("no VONAGE_API_KEY: sending through the built-in simulator at %s", sim.rest_host)
    return config.load()


@dataclass
class Messaging:
    gateway: SmsGateway
    worker: Worker
    stop_event: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None
    inbound_thread: threading.Thread | None = None

    def stop(self) -> None:
        global _SIMULATOR
        if outbox.local_worker is self.worker:
            outbox.local_worker = None
        self.stop_event.set()
        for thread in (self.thread, self.inbound_thread):
            if thread:
                thread.join(timeout=15)
        if _SIMULATOR is not None:
            _SIMULATOR.stop()
            _SIMULATOR = None


def start(app_webhook_base: str, *, background: bool = True) -> Messaging:
    settings = config.load()
    if settings.simulator_mode:
        settings = start_simulator(app_webhook_base)
    gateway = from_settings(settings)
    worker = Worker(gateway, limiter=limiter_for(settings), concurrency=settings.worker_concurrency)
    running = Messaging(gateway, worker)
    if background:
        outbox.local_worker = worker  # deliveries queued in this process go out as their commit lands
        running.thread = threading.Thread(
            target=worker.run_forever, args=(running.stop_event,), name="groupsms-outbox", daemon=True
        )
        running.thread.start()
        running.inbound_thread = InboundLoop().start(running.stop_event)
        webhook_out.start(running.stop_event)  # outbound webhooks to CRMs
    return running
