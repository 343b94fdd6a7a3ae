"""Simulator: a Vonage SMS API stand-in (POST /sms/json over HTTPS) with simulated handsets.

It accepts what the real API accepts (form or JSON body; credentials in the body or Basic auth;
signed requests), answers in the shape of vonage-openapi/sms.yml, cuts long text into parts, throttles
above the per-key rate (status 1, as Vonage does: not HTTP 429), keeps an inbox per handset, sends
signed delivery receipts, and posts signed inbound SMS (E10: the Phones page replies through it).
Faults can be injected to test the gateway and the outbox: see `inject`.
"""

from __future__ import annotations

import random
import secrets
import shutil
import tempfile
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from groupsms.messaging.signatures import METHODS
from groupsms.simulator import texts
from groupsms.simulator.records import (
    ReceivedSms,
    SentSms,
    SmsRequestRecord,
    WebhookError,
)
from groupsms.simulator.server import SimulatorHTTPServer
from groupsms.simulator.sms_api import (
    HTTP_FAULT,
    POST_READ_FAULTS,
    PRE_READ_FAULTS,
    SmsApi,
)
from groupsms.simulator.tls import SimulatorCertificates
from groupsms.simulator.webhooks import (
    DEFAULT_WEBHOOK_METHOD,
    INBOUND,
    STATUS,
    WebhookDispatcher,
    WebhookRecord,
    WebhookSender,
)

__all__ = ["ReceivedSms", "SentSms", "Simulator", "SmsRequestRecord", "WebhookError"]


class Simulator(SmsApi):
    """One simulated Vonage account (more keys with `add_account`) and its handsets.

    `rate_limit` is send requests per second per API key (Vonage's default is 30). With
    `app_webhook_base` set, each accepted part gets a delivery receipt ("delivered") at
    `{base}/webhooks/vonage/status`, `dlr_delay` seconds later, sent as `webhook_method`
    (GET, POST or POST-JSON) and signed when `signature_secret` is set. `clock` (monotonic seconds)
    drives the rate limit, so tests can freeze it.
    """

    def __init__(
        self,
        api_key: str,
        api_secret: str,
        signature_secret: str | None,
        signature_method: str = "sha256",
        host: str = "127.0.0.1",
        port: int = 0,
        rate_limit: float = 30.0,
        app_webhook_base: str | None = None,
        *,
        webhook_method: str = DEFAULT_WEBHOOK_METHOD,
        dlr_delay: float = 0.0,
        latency: float = 0.0,
        fault_hold: float = 12.0,
        webhook_retry_for: float = 0.0,
        webhook_retry_delay: float = 1.0,
        price_per_part: str = "0.00750000",
        balance: str = "10.00000000",
        network: str = "310260",
        ca_dir: str | Path | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not texts.is_loopback_host(host):
            raise ValueError(f"the simulator listens on loopback addresses only, got {host!r}")
        if signature_method not in METHODS:
            raise ValueError(f"signature_method must be one of {', '.join(METHODS)}")
        if rate_limit <= 0:
            raise ValueError("rate_limit must be positive")
        self.api_key = api_key
        self.api_secret = api_secret
        self.signature_secret = signature_secret or None
        self.signature_method = signature_method
        self.host = host
        self.rate_limit = float(rate_limit)
        self.dlr_delay = dlr_delay
        self.latency = latency  # seconds each send request takes before its answer
        self.fault_hold = fault_hold
        self.price_per_part = Decimal(price_per_part)
        self.network = network
        self._requested_port = port
        self._ca_dir = Path(ca_dir) if ca_dir else None
        self._clock = clock
        self._app_webhook_base: str | None = None
        self.app_webhook_base = app_webhook_base

        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._accounts: dict[str, str] = {api_key: api_secret}
        self._initial_balance = Decimal(balance)
        self._balance = self._initial_balance
        self._id_prefix = secrets.token_hex(4).upper()
        self._next_id = 0
        self._concat_ref = secrets.randbelow(255)
        self._faults: deque[tuple[str, float | None]] = deque()
        # Random faults (inject_randomly): probability, kinds, hold, and the dice.
        self._random_faults: tuple[float, tuple[str, ...], float | None] | None = None
        self._dice = random.Random()
        self._request_fault = threading.local()  # a random post-read fault chosen for this request
        self._windows: dict[str, deque[float]] = defaultdict(deque)
        self._inboxes: dict[str, list[ReceivedSms]] = defaultdict(list)
        self._sent_by_handset: dict[str, list[SentSms]] = defaultdict(list)
        self._records: list[SmsRequestRecord] = []
        self._webhooks: list[WebhookRecord] = []
        self._stats = self._zero_stats()

        self._sender = WebhookSender(webhook_method, self.signature_secret, signature_method)
        # Vonage retries a webhook the app did not answer 2xx (for up to 24 hours); 0: never.
        self.webhook_retry_for = webhook_retry_for
        self.webhook_retry_delay = webhook_retry_delay
        self._stop = threading.Event()
        self._dispatcher: WebhookDispatcher | None = None
        self._server: SimulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._certs: SimulatorCertificates | None = None
        self._temp_dir: str | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> Simulator:
        if self._server is not None:
            raise RuntimeError("simulator already started")
        self._stop.clear()
        if self._ca_dir is None:
            self._temp_dir = tempfile.mkdtemp(prefix="vonage-simulator-")
        try:
            self._certs = SimulatorCertificates(self._ca_dir or Path(self._temp_dir))
            self._server = SimulatorHTTPServer((self.host, self._requested_port), self._certs.server_context(), self)
        except BaseException:
            if self._temp_dir:
                shutil.rmtree(self._temp_dir, ignore_errors=True)
                self._temp_dir = None
            raise
        self._dispatcher = WebhookDispatcher(self._sender, self._webhook_sent, self._stop,
                                             retry_for=self.webhook_retry_for, retry_delay=self.webhook_retry_delay)
        self._dispatcher.start()
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
            name=f"vonage-simulator:{self.port}", daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self._stop.set()  # releases held ("timeout") requests and pending webhooks
        server.shutdown()
        server.server_close()
        server.close_connections()
        if self._thread:
            self._thread.join(2.0)
        if self._dispatcher:
            self._dispatcher.close()
        if self._temp_dir:
            shutil.rmtree(self._temp_dir, ignore_errors=True)
            self._temp_dir = None

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("simulator not started")
        return self._server.server_address[1]

    @property
    def rest_host(self) -> str:
        """VONAGE_REST_HOST for this simulator: the SDK calls https://{rest_host}/sms/json."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def ca_bundle_path(self) -> str:
        if self._certs is None:
            raise RuntimeError("simulator not started")
        return str(self._certs.ca_path)

    @property
    def app_webhook_base(self) -> str | None:
        return self._app_webhook_base

    @app_webhook_base.setter
    def app_webhook_base(self, base: str | None) -> None:
        self._app_webhook_base = texts.check_loopback_url(base) if base else None

    def env(self) -> dict[str, str]:
        """The environment the app needs to send through this simulator (see the README's Configuration)."""
        env = {
            "VONAGE_API_KEY": self.api_key,
            "VONAGE_API_SECRET": self.api_secret,
            "VONAGE_REST_HOST": self.rest_host,
            "VONAGE_CA_BUNDLE": self.ca_bundle_path,
        }
        if self.signature_secret:
            env["VONAGE_SIGNATURE_SECRET"] = self.signature_secret
            env["VONAGE_SIGNATURE_METHOD"] = self.signature_method
        return env

    # -- configuration and fault injection ---------------------------------------------------------

    def add_account(self, api_key: str, api_secret: str) -> None:
        with self._lock:
            self._accounts[api_key] = api_secret

    def inject(self, kind: str, count: int = 1, *, hold: float | None = None) -> None:
        """Make the next `count` send requests fail in a given way (faults are used in order).

        - "http500" (any "httpNNN"): answer with that HTTP status, nothing accepted ("http429" adds
          Retry-After: 1);
        - "throttle": HTTP 200 with status 1 (Throttled), nothing accepted;
        - "timeout": hold the request `hold` seconds (default `fault_hold`), then accept it and answer
          (to a client that has usually given up: the message IS delivered);
        - "drop_after_read": read the whole request, accept and deliver it, close without answering
          (the case that makes duplicates possible);
        - "drop_before_read": close the connection before reading the request (nothing accepted).
        Holding one request never blocks the others (one thread per connection).
        """
        if kind not in PRE_READ_FAULTS + POST_READ_FAULTS and not HTTP_FAULT.fullmatch(kind):
            raise ValueError(f"unknown fault {kind!r}")
        if count < 1:
            raise ValueError("count must be at least 1")
        with self._lock:
            self._faults.extend([(kind, hold)] * count)

    def inject_randomly(self, probability: float, kinds: list[str] | tuple[str, ...] = (), *,
                        hold: float | None = None, seed: int | None = None) -> None:
        """Fail each send request with `probability` (0 turns it off), in one of `kinds` picked at
        random (see `inject` for what each does). Queued `inject` faults still come first."""
        if not 0 <= probability <= 1:
            raise ValueError("probability must be between 0 and 1")
        for kind in kinds:
            if kind not in PRE_READ_FAULTS + POST_READ_FAULTS and not HTTP_FAULT.fullmatch(kind):
                raise ValueError(f"unknown fault {kind!r}")
        if probability and not kinds:
            raise ValueError("name the kinds of fault to inject")
        with self._lock:
            self._random_faults = (probability, tuple(kinds), hold) if probability else None
            if seed is not None:
                self._dice.seed(seed)

    def _roll_fault(self) -> tuple[str, float | None] | None:
        with self._lock:
            if self._random_faults is None:
                return None
            probability, kinds, hold = self._random_faults
            if self._dice.random() >= probability:
                return None
            return self._dice.choice(kinds), hold

    def pending_faults(self) -> list[str]:
        with self._lock:
            return [kind for kind, _ in self._faults]

    def take_pre_read_fault(self) -> bool:
        """Called once per request, before it is read: whether to drop the connection now."""
        self._request_fault.fault = None
        with self._lock:
            if self._faults:
                if self._faults[0][0] in PRE_READ_FAULTS:
                    kind, _ = self._faults.popleft()
                    self._count_fault(kind)
                    return True
                return False
            rolled = self._roll_fault()
            if rolled is None:
                return False
            if rolled[0] in PRE_READ_FAULTS:
                self._count_fault(rolled[0])
                return True
            self._request_fault.fault = rolled  # applied once the request is read
            return False

    def _take_post_read_fault(self) -> tuple[str, float | None] | None:
        rolled, self._request_fault.fault = getattr(self._request_fault, "fault", None), None
        with self._lock:
            if rolled is not None:
                self._count_fault(rolled[0])
                return rolled
            if self._faults and self._faults[0][0] not in PRE_READ_FAULTS:
                fault = self._faults.popleft()
                self._count_fault(fault[0])
                return fault
            return None

    def _count_fault(self, kind: str) -> None:
        self._stats["faults"] += 1
        self._stats["faults_by_kind"][kind] = self._stats["faults_by_kind"].get(kind, 0) + 1

    # -- what tests and the Phones page read ------------------------------------------------------

    def inbox(self, e164: str) -> list[ReceivedSms]:
        with self._lock:
            return list(self._inboxes.get(e164, ()))

    def handsets(self) -> list[str]:
        """Every number that received or sent something."""
        with self._lock:
            return sorted(set(self._inboxes) | set(self._sent_by_handset))

    def accepted_by_client_ref(self) -> dict[str, int]:
        """How many times the provider accepted (and delivered to a handset) each client-ref."""
        with self._lock:
            counts: dict[str, int] = defaultdict(int)
            for inbox in self._inboxes.values():
                for sms in inbox:
                    if sms.client_ref is not None:
                        counts[sms.client_ref] += 1
            return dict(counts)

    def sent_from(self, e164: str) -> list[SentSms]:
        with self._lock:
            return list(self._sent_by_handset.get(e164, ()))

    def requests(self) -> list[SmsRequestRecord]:
        with self._lock:
            return [replace(r, params=dict(r.params)) for r in self._records]

    def webhooks(self, kind: str | None = None) -> list[WebhookRecord]:
        with self._lock:
            return [w for w in self._webhooks if kind is None or w.kind == kind]

    def stats(self) -> dict:
        with self._lock:
            stats = dict(self._stats, faults_by_kind=dict(self._stats["faults_by_kind"]))
            stats["balance"] = str(self._balance)
        stats["pending_webhooks"] = self._dispatcher.pending if self._dispatcher else 0
        return stats

    def reset(self) -> None:
        """Forget messages, requests, webhooks, faults, rate windows, counters, balance (not accounts)."""
        if self._dispatcher:
            self._dispatcher.wait_idle(5.0)
        with self._lock:
            self._faults.clear()
            self._random_faults = None
            self._windows.clear()
            self._inboxes.clear()
            self._sent_by_handset.clear()
            self._records.clear()
            self._webhooks.clear()
            self._stats = self._zero_stats()
            self._balance = self._initial_balance

    def wait_for_inbox(self, e164: str, count: int = 1, timeout: float = 5.0) -> list[ReceivedSms]:
        """The handset's inbox once it holds at least `count` messages; TimeoutError otherwise."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self._inboxes.get(e164, ())) >= count, timeout):
                raise TimeoutError(f"{e164} received {len(self._inboxes.get(e164, ()))} SMS, expected {count}")
            return list(self._inboxes[e164])

    def wait_for_requests(self, count: int, timeout: float = 5.0) -> list[SmsRequestRecord]:
        with self._changed:
            if not self._changed.wait_for(lambda: len(self._records) >= count, timeout):
                raise TimeoutError(f"{len(self._records)} requests arrived, expected {count}")
        return self.requests()

    def wait_for_webhooks(self, timeout: float = 5.0) -> list[WebhookRecord]:
        """Every queued delivery receipt sent (or given up); TimeoutError otherwise."""
        if self._dispatcher and not self._dispatcher.wait_idle(timeout):
            raise TimeoutError(f"{self._dispatcher.pending} webhooks still pending after {timeout}s")
        return self.webhooks()

    # -- handsets replying ----------------------------------------------------------------------

    def post_inbound(
        self,
        from_e164: str,
        to_e164: str,
        text: str,
        *,
        concat_parts: int = 1,
        part_order: list[int] | None = None,
        retry_for: float = 0.0,
    ) -> list[str]:
        """A handset texts a business number: post it (signed) to the app's inbound webhook.

        Long text goes as concatenated parts (concat-ref/part/total), as does any text when
        `concat_parts` > 1. `part_order` (1-based part numbers) posts the parts out of order, as
        networks sometimes deliver them. Each part the app does not answer 2xx is posted again (same
        messageId, as Vonage retries) for up to `retry_for` seconds. Returns the message ids in part
        order; raises WebhookError when the app does not answer 2xx to every part.
        """
        if not self._app_webhook_base:
            raise RuntimeError("set app_webhook_base to post inbound SMS")
        for number in (from_e164, to_e164):
            if not texts.is_vonage_number(texts.vonage_number(number)) or not number.startswith("+"):
                raise ValueError(f"not an E.164 number: {number!r}")
        if not text:
            raise ValueError("an SMS needs text")
        unicode = texts.needs_unicode(text)
        parts = texts.split_parts(text, unicode)
        if concat_parts > len(parts):
            parts = texts.split_even(text, concat_parts)
        order = part_order or list(range(1, len(parts) + 1))
        if sorted(order) != list(range(1, len(parts) + 1)):
            raise ValueError(f"part_order must be a permutation of 1..{len(parts)}")
        now = time.time()
        with self._lock:
            ids = [self._new_id() for _ in parts]
            self._concat_ref = (self._concat_ref + 1) % 256
            concat_ref = str(self._concat_ref)
        base = {
            "api-key": self.api_key,
            "msisdn": texts.vonage_number(from_e164),
            "to": texts.vonage_number(to_e164),
            "type": "unicode" if unicode else "text",
            "message-timestamp": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now)),
            "timestamp": str(int(now)),
        }
        url = f"{self._app_webhook_base}/webhooks/vonage/inbound"
        records = []
        for number in order:
            part = parts[number - 1]
            params = dict(base, messageId=ids[number - 1], text=part, keyword=texts.keyword(part))
            if len(parts) > 1:
                params.update({"concat": "true", "concat-ref": concat_ref,
                               "concat-total": str(len(parts)), "concat-part": str(number)})
            give_up_at = time.monotonic() + retry_for
            while True:
                record = self._sender.send(INBOUND, url, self._sender.signed(params, now=now))
                self._webhook_sent(record)
                if record.ok or time.monotonic() + self.webhook_retry_delay > give_up_at:
                    break
                if self._stop.wait(self.webhook_retry_delay):
                    break
            records.append(record)
        with self._changed:
            self._sent_by_handset[from_e164].append(SentSms(from_e164, to_e164, text, tuple(ids), now))
            self._changed.notify_all()
        if not all(r.ok for r in records):
            raise WebhookError(records)
        return ids

    def _webhook_sent(self, record: WebhookRecord) -> None:
        with self._changed:
            self._webhooks.append(record)
            key = ("dlr" if record.kind == STATUS else "inbound") + ("_sent" if record.ok else "_failed")
            self._stats[key] += 1
            self._changed.notify_all()

    def _new_id(self) -> str:
        with self._lock:
            self._next_id += 1
            return f"{self._id_prefix}{self._next_id:08X}"

    @staticmethod
    def _zero_stats() -> dict:
        return {
            "requests": 0, "accepted": 0, "parts": 0, "throttled": 0, "rejected": 0,
            "faults": 0, "faults_by_kind": {},
            "dlr_sent": 0, "dlr_failed": 0, "inbound_sent": 0, "inbound_failed": 0,
        }


