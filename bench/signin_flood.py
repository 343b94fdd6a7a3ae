"""Webhook and signed-in request latency during a flood of 50 concurrent sign-ins.

One app process (uvicorn on a loopback port, in a thread) serves the Vonage inbound webhook, a
"signed-in page" route (the session lookup every page handler starts with) and a sign-in route that
runs exactly what the sign-in page runs (`sessions.sign_in_async`). 50 client threads sign in
without pause with random emails from random addresses (the worst case: a botnet, so the per-client
throttle does not help) while the main thread sends signed webhooks and page requests one at a time.

Printed: p50/p99 latency in ms with no flood and during the flood, on SQLite and PostgreSQL, for
today's sign-in and, for comparison, for hashing inside a transaction on the shared thread pool
(how sign-in used to work). Figures only: nothing is asserted.
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import statistics
import string
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402
import uvicorn  # noqa: E402
from starlette.applications import Starlette  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import PlainTextResponse  # noqa: E402
from starlette.routing import Route  # noqa: E402

from bench._world import build, database  # noqa: E402
from groupsms import db  # noqa: E402
from groupsms.errors import AuthError  # noqa: E402
from groupsms.messaging.signatures import sign_params  # noqa: E402
from groupsms.security import verify_password  # noqa: E402
from groupsms.services import sessions  # noqa: E402

FLOOD = 50
SAMPLES = 40
PHASE_SECONDS = 60.0  # a phase stops early when the app is this slow (the figures say so)
SECRET = "bench-webhook-secret"


async def _old_sign_in(email: str, password: str, client: str | None) -> None:
    """The former shape: the hash inside the transaction, on the pool every handler shares."""

    def work() -> None:
        with db.transaction() as s:
            sessions._check_throttles(s, email, client, sessions.utcnow())
            verify_password(None, password)

    await asyncio.to_thread(work)


def _app(mode: str) -> Starlette:
    from groupsms.webhooks.vonage import routes

    async def sign_in(request: Request) -> PlainTextResponse:
        form = await request.form()
        email, password, client = form["email"], form["password"], form["client"]
        try:
            if mode == "now":
                await sessions.sign_in_async(email, password, client)
            else:
                await _old_sign_in(email, password, client)
        except AuthError:
            return PlainTextResponse("refused", status_code=401)
        return PlainTextResponse("ok")

    async def page(request: Request) -> PlainTextResponse:
        actor = await asyncio.to_thread(sessions.actor_for_token, request.query_params["token"])
        return PlainTextResponse("ok" if actor else "signed out", status_code=200 if actor else 401)

    return Starlette(routes=[*routes, Route("/bench/sign-in", sign_in, methods=["POST"]),
                             Route("/bench/page", page)])


def _serve(app: Starlette) -> tuple[str, uvicorn.Server, threading.Thread]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="critical", lifespan="off",
                                            timeout_graceful_shutdown=5))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise SystemExit("the bench server did not start")
        time.sleep(0.01)
    return f"http://127.0.0.1:{sock.getsockname()[1]}", server, thread


def _random_email(rng: random.Random) -> str:
    return "".join(rng.choices(string.ascii_lowercase, k=10)) + "@flood.test"


def _flooder(base: str, stop: threading.Event, counts: list[int], seed: int) -> None:
    rng = random.Random(seed)
    with httpx.Client(timeout=300) as client:
        while not stop.is_set():
            ip = f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
            try:
                client.post(f"{base}/bench/sign-in", data={"email": _random_email(rng), "password": "guess-guess",
                                                             "client": ip})
            except httpx.HTTPError:
                return  # the server is shutting down
            counts[0] += 1


def _percentiles(ms: list[float]) -> str:
    ms = sorted(ms)
    if not ms:
        return "no samples"
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    return f"p50 {statistics.median(ms):7.1f}   p99 {p99:7.1f}"


def _measure(base: str, token: str, run: int) -> tuple[list[float], list[float], int]:
    """Latencies of webhooks and signed-in requests, and how many of them failed (not 200)."""
    hooks, pages, failed = [], [], 0
    deadline = time.monotonic() + PHASE_SECONDS
    with httpx.Client(timeout=300) as client:
        for i in range(SAMPLES):
            if time.monotonic() > deadline:
                break
            params = {"msisdn": "15125552000", "to": "15125550100", "messageId": f"bench-{run}-{i}",
                      "text": "hello", "type": "text", "timestamp": str(int(time.time())), "nonce": f"n{run}-{i}"}
            params["sig"] = sign_params(params, SECRET, "sha256")
            start = time.perf_counter()
            failed += client.post(f"{base}/webhooks/vonage/inbound", data=params).status_code != 200
            hooks.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            failed += client.get(f"{base}/bench/page", params={"token": token}).status_code != 200
            pages.append((time.perf_counter() - start) * 1000)
    return hooks, pages, failed


def run(backend: str, mode: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url, drop = database(backend, tmp)
        try:
            db.init(url)
            build(contacts=5)
            token, _ = sessions.sign_in("admin@bench.test", "bench-password")
            base, server, thread = _serve(_app(mode))
            try:
                quiet = _measure(base, token, 0)
                stop, counts = threading.Event(), [0]
                flood = [threading.Thread(target=_flooder, args=(base, stop, counts, i), daemon=True)
                         for i in range(FLOOD)]
                for t in flood:
                    t.start()
                time.sleep(1.0)  # let the flood build up before measuring
                started = time.perf_counter()
                busy = _measure(base, token, 1)
                elapsed = time.perf_counter() - started
                stop.set()
            finally:
                server.should_exit = True
                thread.join(timeout=20)
            label = (f"today ({sessions.HASH_WORKERS} hash workers)" if mode == "now"
                     else "hash in a transaction on the shared pool (before)")
            print(f"{backend:10s} {label}", flush=True)
            print(f"  no flood     webhook {_percentiles(quiet[0])}   signed-in page {_percentiles(quiet[1])}")
            print(f"  {FLOOD} sign-ins  webhook {_percentiles(busy[0])}   signed-in page {_percentiles(busy[1])}"
                  f"   ({len(busy[0])} samples, {busy[2]} failed; {counts[0] / max(elapsed, 0.001):.1f} sign-in tries/s)",
                  flush=True)
        finally:
            drop()


def main() -> None:
    os.environ["VONAGE_SIGNATURE_SECRET"] = SECRET
    os.environ["VONAGE_SIGNATURE_METHOD"] = "sha256"
    print(f"Latency in ms (up to {SAMPLES} webhooks and {SAMPLES} signed-in page requests, one at a time,"
          f" at most {PHASE_SECONDS:.0f} s per phase)", flush=True)
    modes = ["now", "before"] if "--compare" in sys.argv else ["now"]
    for backend in ["sqlite"] if "--sqlite-only" in sys.argv else ["sqlite", "postgresql"]:
        for mode in modes:
            run(backend, mode)


if __name__ == "__main__":
    main()
