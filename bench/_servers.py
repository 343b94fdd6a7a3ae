"""Processes the benchmarks start (each its own process, as in production):

    python bench/_servers.py app PORT           the app's webhooks with its outbox worker, as `make run`
                                                runs them (messaging.runtime.start), sending to VONAGE_*
    python bench/_servers.py bare-ingest PORT   floor for ingest: one Starlette handler, the same HMAC
                                                check, one INSERT into the same database
    python bench/_servers.py bare-relay PORT    floor for relays: a webhook that checks the signature and
                                                sends to the 8 other numbers one after another (SDK)
    python bench/_servers.py sdk-loop N         floor for fan-out: N SDK sends in a loop; prints sends/s

GROUPSMS_DATABASE_URL, VONAGE_API_KEY/SECRET/REST_HOST/CA_BUNDLE and VONAGE_SIGNATURE_SECRET come from
the environment. BARE_RELAY_TO: the comma-separated numbers the bare relay sends to.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import uvicorn  # noqa: E402
from starlette.applications import Starlette  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import PlainTextResponse  # noqa: E402
from starlette.routing import Route  # noqa: E402

from groupsms import config, db  # noqa: E402
from groupsms.messaging.signatures import verify_params  # noqa: E402


def _serve(app, port: int) -> None:
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def app(port: int) -> None:
    from groupsms.messaging import runtime
    from groupsms.webhooks.vonage import routes

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        db.init()
        running = await asyncio.to_thread(runtime.start, f"http://127.0.0.1:{port}")
        try:
            yield
        finally:
            await asyncio.to_thread(running.stop)

    _serve(Starlette(routes=routes, lifespan=lifespan), port)


async def _signed_params(request: Request) -> dict[str, str] | None:
    params = dict(await request.form())
    settings = config.load()
    if verify_params(params, settings.vonage_signature_secret, settings.vonage_signature_method, now=time.time()):
        return None
    return params


def bare_ingest(port: int) -> None:
    from sqlalchemy import Column, Integer, MetaData, String, Table, Text

    metadata = MetaData()
    table = Table("bare_inbound", metadata, Column("id", Integer, primary_key=True),
                  Column("message_id", String(64), unique=True), Column("body", Text))
    engine = db.make_engine(config.load().database_url)
    metadata.create_all(engine)

    def insert(params: dict[str, str]) -> None:
        with engine.begin() as conn:
            conn.execute(table.insert().values(message_id=params["messageId"], body=params.get("text", "")))

    async def inbound(request: Request) -> PlainTextResponse:
        params = await _signed_params(request)
        if params is None:
            return PlainTextResponse("Unauthorized", status_code=401)
        await asyncio.to_thread(insert, params)
        return PlainTextResponse("ok")

    _serve(Starlette(routes=[Route("/webhooks/vonage/inbound", inbound, methods=["POST"])]), port)


def _sdk_client():
    from groupsms.messaging.vonage_gateway import from_settings

    return from_settings(config.load())._new_client()  # the SDK client, configured as the app's


def bare_relay(port: int) -> None:
    from vonage_sms import SmsMessage

    client = _sdk_client()
    recipients = [n for n in os.environ["BARE_RELAY_TO"].split(",") if n]

    def relay(params: dict[str, str]) -> None:
        for to in recipients:
            if to.lstrip("+") != params["msisdn"]:
                client.sms.send(SmsMessage(to=to.lstrip("+"), from_=params["to"], text=f"Them: {params['text']}"))

    async def inbound(request: Request) -> PlainTextResponse:
        params = await _signed_params(request)
        if params is None:
            return PlainTextResponse("Unauthorized", status_code=401)
        await asyncio.to_thread(relay, params)
        return PlainTextResponse("ok")

    _serve(Starlette(routes=[Route("/webhooks/vonage/inbound", inbound, methods=["POST"])]), port)


def sdk_loop(count: int) -> None:
    from vonage_sms import SmsMessage

    client = _sdk_client()
    client.sms.send(SmsMessage(to="17375559999", from_="15125550100", text="warm-up"))
    started = time.perf_counter()
    for i in range(count):
        client.sms.send(SmsMessage(to=f"1737556{i % 10000:04d}", from_="15125550100", text=f"Update {i}"))
    print(f"{count / (time.perf_counter() - started):.1f}", flush=True)


if __name__ == "__main__":
    kind, number = sys.argv[1], int(sys.argv[2])
    {"app": app, "bare-ingest": bare_ingest, "bare-relay": bare_relay, "sdk-loop": sdk_loop}[kind](number)
