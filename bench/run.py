"""groupsms against its floors: every figure beside what a bare program does on the same machine, in the
same run, on SQLite and on PostgreSQL. Prints one table and writes bench/results.json.

- ingest: signed inbound SMS per second (8 clients, kept-alive connections) into the app's webhook
  process, against a bare Starlette handler doing the same HMAC check and one INSERT;
- relay: a reply to a group of 9 until the provider accepted all 8 relays, provider latency 0 and 50 ms,
  one reply at a time and 10 replies a second; floor: a webhook that sends the 8 SMS itself, one after
  another (the sequential in-webhook sender of simple relays);
- fan-out: a 5,000-delivery backlog drained by one `groupsms worker` process: at GROUPSMS_SMS_RATE=30
  against a simulator that throttles above 30/s (achieved rate over a window, throttled answers), and
  unlimited against a bare loop of SDK sends to the same simulator;
- memory: resident size of the app's webhook process (with its outbox thread) and of the worker process;
- history (bench/history.py): the first render of a group of 50,000 messages and of a conversation list
  over 10,000 groups: the page's load handler's server time beside the bare SQL of the page, and the
  bytes of the state delta sent to the browser.

`python bench/run.py [sqlite|postgresql ...]`; `make bench` runs it first.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._world import build, database  # noqa: E402
from groupsms import db  # noqa: E402
from groupsms.domain import delivery as states  # noqa: E402
from groupsms.messaging import outbox  # noqa: E402
from groupsms.models import Delivery, Message  # noqa: E402
from groupsms.services import groups, messages  # noqa: E402
from groupsms.simulator import Simulator  # noqa: E402
from groupsms.simulator.webhooks import POST, WebhookSender  # noqa: E402

SECRET = "bench-webhook-secret"
BUSINESS = "+15125550100"
INGEST_REQUESTS = 400
RELAYS_ONE_BY_ONE = 20
RELAY_RATE, RELAY_SECONDS = 10, 3
BACKLOG = 5000
RATE, RATE_WINDOW = 30, 12.0
SDK_LOOP = 2000
RESULTS = ROOT / "bench" / "results.json"


# -- processes --------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_listening(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with {process.returncode}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"{process.args} is not listening on {port}")


class Server:
    def __init__(self, kind: str, env: dict[str, str]) -> None:
        self.port = free_port()
        self.process = subprocess.Popen([sys.executable, str(ROOT / "bench" / "_servers.py"), kind, str(self.port)],
                                        cwd=ROOT, env=env)
        wait_listening(self.port, self.process)

    def rss_mb(self) -> float:
        return rss_mb(self.process.pid)

    def stop(self) -> None:
        stop(self.process)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


# -- posting signed inbound SMS -------------------------------------------------------------------

_signer = WebhookSender(POST, SECRET, "sha256")
_local = threading.local()


def post_inbound(port: int, from_e164: str, text: str) -> float:
    """One signed inbound SMS (a form POST, as Vonage sends it) on this thread's kept-alive connection;
    returns seconds until the answer."""
    now = time.time()
    params = _signer.signed({
        "api-key": "bench", "msisdn": from_e164.lstrip("+"), "to": BUSINESS.lstrip("+"),
        "messageId": uuid.uuid4().hex[:16].upper(), "text": text, "type": "text", "keyword": text.split()[0].upper(),
        "message-timestamp": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now)),
    }, now=now)
    body = urlencode(params)
    connections = getattr(_local, "connections", None)
    if connections is None:
        connections = _local.connections = {}
    started = time.perf_counter()
    for attempt in range(2):
        conn = connections.get(port) or http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        connections[port] = conn
        try:
            conn.request("POST", "/webhooks/vonage/inbound", body=body,
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
            response = conn.getresponse()
            response.read()
            break
        except (http.client.HTTPException, OSError):
            conn.close()
            connections.pop(port, None)
            if attempt:
                raise
    if response.status != 200:
        raise RuntimeError(f"webhook answered {response.status}")
    return time.perf_counter() - started


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


# -- the measurements -------------------------------------------------------------------------------

def ingest(port: int) -> dict:
    senders = [f"+1737550{i:04d}" for i in range(INGEST_REQUESTS)]  # in no group: stored as Other texts
    for i in range(8):
        post_inbound(port, f"+1737551{i:04d}", "warm up")
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=8) as pool:
        latencies = list(pool.map(lambda s: post_inbound(port, s, f"Hello from {s}"), senders))
    elapsed = time.perf_counter() - started
    return {"per_s": len(latencies) / elapsed, "p50_ms": percentile(latencies, 0.5) * 1000,
            "p99_ms": percentile(latencies, 0.99) * 1000}


def _accepted_at(sim: Simulator, others: list[str], token: str) -> list[float]:
    return [m.received_at for e164 in others for m in sim.inbox(e164)[-40:] if token in m.text]


def relay(sim: Simulator, port: int, sender: str, others: list[str], latency: float, per_second: float | None) -> dict:
    """Seconds from posting a reply until the provider accepted its relay to every other participant."""
    sim.latency = latency
    tokens: dict[str, float] = {}

    def one(n: int) -> None:
        token = f"T{uuid.uuid4().hex[:10]}"
        tokens[token] = time.time()
        post_inbound(port, sender, f"Running late {token}")

    if per_second is None:
        for n in range(RELAYS_ONE_BY_ONE):
            one(n)
            token = list(tokens)[-1]
            with sim._changed:  # noqa: SLF001 - the simulator's own condition: woken on every accepted SMS
                sim._changed.wait_for(lambda: len(_accepted_at(sim, others, token)) >= len(others), timeout=30)
    else:
        count = int(per_second * RELAY_SECONDS)
        with ThreadPoolExecutor(max_workers=count) as pool:
            start = time.monotonic()
            for n in range(count):
                delay = start + n / per_second - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                pool.submit(one, n)
        with sim._changed:  # noqa: SLF001
            sim._changed.wait_for(lambda: all(len(_accepted_at(sim, others, t)) >= len(others) for t in tokens),
                                  timeout=60)
    latencies = []
    for token, posted in tokens.items():
        accepted = _accepted_at(sim, others, token)
        if len(accepted) < len(others):
            raise RuntimeError(f"reply {token}: {len(accepted)} of {len(others)} relays accepted")
        latencies.append(max(accepted) - posted)
    sim.latency = 0.0
    return {"p50_ms": percentile(latencies, 0.5) * 1000, "p99_ms": percentile(latencies, 0.99) * 1000}


def queue_backlog(number_id: int, message_id: int, count: int) -> None:
    with db.transaction() as s:
        s.add_all(Delivery(message_id=message_id, to_e164=f"+1737555{i:04d}", status=states.QUEUED,
                           priority=states.PRIORITY_TYPED, lane=outbox.lane(number_id, f"+1737555{i:04d}"))
                  for i in range(count))


def fan_out(sim: Simulator, env: dict[str, str], number_id: int, message_id: int, rate: float | None) -> dict:
    """A backlog of BACKLOG deliveries and one `groupsms worker`: sends per second as the provider saw them."""
    with db.transaction() as s:
        s.exec(Delivery.__table__.delete())  # type: ignore[attr-defined]
    queue_backlog(number_id, message_id, BACKLOG)
    sim.reset()
    sim.rate_limit = float(rate or 100_000)
    worker_env = {**env, "GROUPSMS_SMS_RATE": str(rate or 100_000)}
    worker = subprocess.Popen([sys.executable, "-m", "groupsms.cli", "worker"], cwd=ROOT, env=worker_env,
                              stdout=subprocess.DEVNULL)
    try:
        with sim._changed:  # noqa: SLF001
            if rate:
                sim._changed.wait_for(lambda: sim._stats["accepted"] > 0, timeout=60)  # noqa: SLF001
        if rate:
            time.sleep(RATE_WINDOW + 1)
            times = sorted(m.received_at for h in sim.handsets() for m in sim.inbox(h))
            window = [t for t in times if t <= times[0] + RATE_WINDOW]
            result = {"per_s": len(window) / RATE_WINDOW, "throttled": sim.stats()["throttled"]}
        else:
            with sim._changed:  # noqa: SLF001
                sim._changed.wait_for(lambda: sim._stats["accepted"] >= BACKLOG, timeout=300)  # noqa: SLF001
            times = sorted(m.received_at for h in sim.handsets() for m in sim.inbox(h))
            result = {"per_s": (len(times) - 1) / (times[-1] - times[0]), "throttled": sim.stats()["throttled"]}
        result["rss_mb"] = rss_mb(worker.pid)
        return result
    finally:
        stop(worker)
        sim.rate_limit = 100_000.0


def sdk_loop(env: dict[str, str]) -> float:
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "_servers.py"), "sdk-loop", str(SDK_LOOP)], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=300, check=True)
    return float(done.stdout.strip().splitlines()[-1])


# -- one backend ------------------------------------------------------------------------------------

def row(backend: str, measure: str, value: float, unit: str, floor: float | None, floor_name: str,
        target: str = "", met: bool | None = None) -> dict:
    ratio = value / floor if floor else None
    return {"backend": backend, "measure": measure, "value": round(value, 2), "unit": unit,
            "floor": round(floor, 2) if floor is not None else None, "floor_is": floor_name,
            "ratio": round(ratio, 3) if ratio is not None else None, "target": target, "met": met}


def run_backend(backend: str, sim: Simulator, bare_sdk: float) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        url, drop = database(backend, tmp)
        try:
            db.init(url)
            actor, number_id, contacts = build(9)
            gid = groups.create_group(actor, number_id, [(c, "primary") for c in contacts])
            members = [p.e164 for p in groups.get_group(actor, gid).participants]
            sender, others = members[0], members[1:]
            env = {**os.environ, **sim.env(), "GROUPSMS_DATABASE_URL": url, "GROUPSMS_RELAY_LIMIT_PER_MINUTE": "100000",
                   "GROUPSMS_SMS_RATE": "100000", "BARE_RELAY_TO": ",".join(others), "PYTHONUNBUFFERED": "1"}
            env.pop("REFLEX_REDIS_URL", None)  # one process: the in-memory rate limit and wake-up

            app = Server("app", env)
            bare = Server("bare-ingest", env)
            try:
                ours, floor = ingest(app.port), ingest(bare.port)
            finally:
                bare.stop()
            rows.append(row(backend, "ingest (signed inbound/s)", ours["per_s"], "/s", floor["per_s"],
                            "bare handler", ">= 0.50 of floor", ours["per_s"] >= 0.5 * floor["per_s"]))
            rows.append(row(backend, "ingest p50", ours["p50_ms"], "ms", floor["p50_ms"], "bare handler"))
            rows.append(row(backend, "ingest p99", ours["p99_ms"], "ms", floor["p99_ms"], "bare handler"))

            bare = Server("bare-relay", env)
            try:
                for latency in (0.0, 0.05):
                    for per_second in (None, RELAY_RATE):
                        mode = "1 at a time" if per_second is None else f"{RELAY_RATE}/s"
                        ours = relay(sim, app.port, sender, others, latency, per_second)
                        floor = relay(sim, bare.port, sender, others, latency, per_second)
                        label = f"relay 1->8, {latency * 1000:.0f} ms provider, {mode}"
                        for q in ("p50", "p99"):
                            target, met = "< floor", ours[f"{q}_ms"] < floor[f"{q}_ms"]
                            if q == "p99" and latency:
                                target, met = "<= 200 ms, < floor", ours["p99_ms"] <= 200 and met
                            rows.append(row(backend, f"{label} {q}", ours[f"{q}_ms"], "ms", floor[f"{q}_ms"],
                                            "sequential sender", target, met))
            finally:
                bare.stop()
            rows.append(row(backend, "memory: app process (webhooks + outbox thread)", app.rss_mb(), "MB", None, ""))
            app.stop()

            message_id = messages.send_message(actor, gid, "Open house on Saturday")  # the backlog's message
            limited = fan_out(sim, env, number_id, message_id, RATE)
            rows.append(row(backend, f"fan-out {BACKLOG} at rate {RATE} (sends/s)", limited["per_s"], "/s", RATE,
                            "configured rate", ">= 0.95, 0 throttled",
                            limited["per_s"] >= 0.95 * RATE and limited["throttled"] == 0))
            rows.append(row(backend, "fan-out at rate 30: throttled answers", limited["throttled"], "", None, "",
                            "0", limited["throttled"] == 0))
            unlimited = fan_out(sim, env, number_id, message_id, None)
            rows.append(row(backend, f"fan-out {BACKLOG} unlimited (sends/s)", unlimited["per_s"], "/s", bare_sdk,
                            "bare SDK loop", ">= 0.70 of floor", unlimited["per_s"] >= 0.7 * bare_sdk))
            rows.append(row(backend, "memory: worker process", unlimited["rss_mb"], "MB", None, ""))
        finally:
            drop()
    return rows


def print_table(rows: list[dict]) -> None:
    header = ["backend", "measure", "groupsms", "floor", "floor is", "ratio", "target", "met"]
    lines = [header]
    for r in rows:
        lines.append([r["backend"], r["measure"], f"{r['value']:.1f} {r['unit']}".strip(),
                      "" if r["floor"] is None else f"{r['floor']:.1f}", r["floor_is"],
                      "" if r["ratio"] is None else f"{r['ratio']:.2f}", r["target"],
                      "" if r["met"] is None else ("yes" if r["met"] else "NO")])
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for n, line in enumerate(lines):
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))


def main(backends: list[str]) -> None:
    from bench import history  # builds the app's page states in this process: only when run

    started = time.monotonic()
    load_at_start = [round(x, 2) for x in os.getloadavg()]
    sim = Simulator("bench-key", "bench-secret", SECRET, rate_limit=100_000).start()
    try:
        bare_sdk = sdk_loop({**os.environ, **sim.env()})
        sim.reset()
        rows = []
        for backend in backends:
            rows += run_backend(backend, sim, bare_sdk)
            sim.reset()
            rows += history.run_backend(backend)  # bench/history.py: first renders at size
    finally:
        sim.stop()
    print_table(rows)
    load = os.getloadavg()
    RESULTS.write_text(json.dumps({"generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                                   "cpus": os.cpu_count(), "load_average_at_start": load_at_start,
                                   "load_average_at_end": [round(x, 2) for x in load],
                                   "seconds": round(time.monotonic() - started, 1), "rows": rows}, indent=1) + "\n")
    # Other programs' load on the machine moves every figure: it is printed with them.
    print(f"\n{len(rows)} figures in {time.monotonic() - started:.0f} s on {os.cpu_count()} CPUs, load average "
          f"{load_at_start[0]:.1f} at start and {load[0]:.1f} at end; written to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main(sys.argv[1:] or ["sqlite", "postgresql"])
