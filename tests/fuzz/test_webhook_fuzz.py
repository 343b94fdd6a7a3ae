"""Fuzzing both Vonage webhooks with generated requests: random methods, encodings (GET query,
form, multipart, JSON, garbage, wrong content types), fields, sizes and signatures.

For every request: no 5xx; nothing stored unless it carried a valid, fresh signature; anything stored
was answered 200; no error or traceback in the log. The field names come from Vonage's contract
(shared/vonage-openapi/sms.yml) when it is there. `make test` sends about 1,000 requests (half on
SQLite, half on PostgreSQL); GROUPSMS_LONG_TESTS=1 sends 10,000. Counts per status code are printed.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func
from sqlmodel import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from groupsms import db
from groupsms.messaging.signatures import sign_params
from groupsms.models import Delivery, InboundEvent, Message, OptOut
from groupsms.webhooks.vonage import routes

SECRET = "fuzz-webhook-secret"
LONG = os.environ.get("GROUPSMS_LONG_TESTS") == "1"
TOTAL = 10_000 if LONG else 1_000
BACKENDS = max(1, len(os.environ.get("GROUPSMS_TEST_BACKENDS", "sqlite,postgresql").split(",")))
PER_BACKEND = TOTAL // BACKENDS

SPEC = Path(__file__).resolve().parents[2].parent / "shared" / "vonage-openapi" / "sms.yml"
INBOUND_FIELDS = ["api-key", "msisdn", "to", "messageId", "text", "type", "keyword", "message-timestamp",
                  "concat", "concat-ref", "concat-total", "concat-part", "data", "udh"]
RECEIPT_FIELDS = ["msisdn", "to", "network-code", "messageId", "price", "status", "scts", "err-code",
                  "api-key", "client-ref", "message-timestamp"]
try:  # the contract's own field names, when shared/ is present
    import yaml

    _schemas = yaml.safe_load(SPEC.read_text())["components"]["schemas"]
    INBOUND_FIELDS = [f for f in _schemas["InboundMessage"]["properties"] if f not in ("timestamp", "nonce", "sig")]
    RECEIPT_FIELDS = [f for f in _schemas["DeliveryReceipt"]["properties"] if f not in ("timestamp", "nonce", "sig")]
except (ImportError, OSError, KeyError):
    pass

# The world's numbers (acme's main line, carla, dan) so some requests reach real groups.
BUSINESS = ["15125550100", "15125550101", "17375550100"]
HANDSETS = ["15125550111", "15125550112", "15125550199", "447911123456"]

_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
_value = st.one_of(
    _text,
    st.sampled_from(["", "true", "false", "STOP", "HELP", "START", "yes", "1", "2", "0", "-1", "nan",
                     "delivered", "failed", "expired", "rejected", "accepted", "buffered", "unknown",
                     "text", "unicode", "binary", "\x00", "a&b=c", "%00", "<script>x</script>"]),
    st.sampled_from(BUSINESS + HANDSETS),
    st.integers(-10, 10**6).map(str),
)


@dataclass
class Plan:
    kind: str  # "inbound" | "status"
    method: str
    encoding: str  # query | form | multipart | json | json-array | garbage
    content_type: str | None
    params: dict
    signing: str
    age: int
    grow: int  # repeat one value this many times (size limits)
    garbage: bytes


def _base(kind: str, draw) -> dict:
    message_id = draw(st.one_of(st.uuids().map(lambda u: u.hex[:16]), _text, st.just("fixed-id")))
    if kind == "inbound":
        params = {"msisdn": draw(st.sampled_from(HANDSETS)), "to": draw(st.sampled_from(BUSINESS)),
                  "messageId": message_id, "text": draw(_value), "type": "text"}
        if draw(st.booleans()):
            params.update({"concat": "true", "concat-ref": draw(_value), "concat-total": draw(_value),
                           "concat-part": draw(_value)})
    else:
        params = {"msisdn": draw(st.sampled_from(HANDSETS)), "to": draw(st.sampled_from(BUSINESS)),
                  "messageId": message_id, "status": draw(_value), "err-code": draw(_value),
                  "client-ref": draw(st.one_of(_text, st.integers(0, 50).map(lambda i: f"d{i}")))}
    return params


@st.composite
def plans(draw) -> Plan:
    kind = draw(st.sampled_from(["inbound", "status"]))
    params = _base(kind, draw)
    fields = INBOUND_FIELDS if kind == "inbound" else RECEIPT_FIELDS
    for name in draw(st.lists(st.sampled_from(fields), max_size=4)):
        params[name] = draw(_value)
    for name in draw(st.lists(st.sampled_from(list(params)), max_size=2)):
        params.pop(name, None)
    params.update(draw(st.dictionaries(_text.filter(bool), _value, max_size=3)))
    encoding = draw(st.sampled_from(["query", "form", "multipart", "json", "json", "json-array", "garbage"]))
    method = draw(st.sampled_from(["GET", "POST", "POST", "POST", "POST", "POST", "PUT", "DELETE", "HEAD", "OPTIONS"]))
    if encoding == "query" and draw(st.integers(0, 3)) > 0:
        method = "GET"
    content_type = draw(st.sampled_from([
        None, "text/plain", "application/xml", "application/json", "application/x-www-form-urlencoded",
        "multipart/form-data", "application/json; charset=utf-16", "application/octet-stream",
    ]))
    return Plan(
        kind=kind, method=method, encoding=encoding, content_type=content_type, params=params,
        signing=draw(st.sampled_from(["valid", "valid", "valid", "late", "none", "wrong-secret", "tampered",
                                      "garbage", "stale", "future", "other-method"])),
        age=draw(st.integers(0, 200)),
        grow=draw(st.sampled_from([1, 1, 1, 1, 100, 2_000, 70_000])),
        garbage=draw(st.binary(max_size=200)),
    )


def _signed(plan: Plan, now: float) -> tuple[dict, bool]:
    """The parameters to send, and whether they carry a valid, fresh signature."""
    params = {str(k): str(v) for k, v in plan.params.items()}
    if plan.grow > 1 and params:
        key = sorted(params)[0]
        # URLs are capped by the client (and by servers) near 64 KB; bodies go past our 64 KB limit.
        limit = 2_000 if plan.encoding == "query" else 20 * plan.grow
        params[key] = ((params[key] or "x") * plan.grow)[:limit]
    ages = {"valid": plan.age, "late": 20 * 60 + plan.age * 400, "stale": 24 * 3600 + 120 + plan.age,
            "future": -(6 * 60 + plan.age)}
    stamp = int(now) - ages.get(plan.signing, plan.age)
    if plan.signing == "none":
        return params, False
    params = {**params, "timestamp": str(stamp), "nonce": "fuzz"}
    if plan.signing == "garbage":
        return {**params, "sig": plan.garbage.hex()[:64] or "zz"}, False
    secret = "someone-else" if plan.signing == "wrong-secret" else SECRET
    method = "sha1" if plan.signing == "other-method" else "sha256"
    params["sig"] = sign_params(params, secret, method)
    if plan.signing == "tampered":
        params["msisdn"] = params.get("msisdn", "") + "9"
    return params, plan.signing in ("valid", "late")


def _multipart(params: dict) -> tuple[bytes, str]:
    boundary = "fuzzboundary7MA4YWxkTrZu0gW"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n' for k, v in params.items()]
    return ("".join(parts) + f"--{boundary}--\r\n").encode("utf-8"), f"multipart/form-data; boundary={boundary}"


def _send(client: TestClient, plan: Plan, params: dict):
    url = f"/webhooks/vonage/{plan.kind}"
    headers = {}
    if plan.encoding == "query":
        return client.request(plan.method, url, params=params), plan.method in ("GET", "HEAD")
    if plan.encoding == "form":
        body = "&".join(f"{_q(k)}={_q(v)}" for k, v in params.items()).encode()
        ctype, proper = "application/x-www-form-urlencoded", True
    elif plan.encoding == "multipart":
        body, ctype = _multipart(params)
        proper = True
    elif plan.encoding == "json":
        body, ctype, proper = json.dumps(params).encode(), "application/json", True
    elif plan.encoding == "json-array":
        body, ctype, proper = json.dumps(list(params.items())).encode(), "application/json", False
    else:
        body, ctype, proper = plan.garbage, plan.content_type or "application/json", False
    if (plan.content_type is not None and plan.encoding != "garbage"
            and plan.content_type.split(";")[0] != ctype.split(";")[0]):
        ctype, proper = plan.content_type, False  # the wrong content type for this body
    if ctype:
        headers["content-type"] = ctype
    return client.request(plan.method, url, content=body, headers=headers), proper and plan.method == "POST"


def _q(text: str) -> str:
    from urllib.parse import quote_plus

    return quote_plus(text)


def _rows() -> tuple[int, ...]:
    """Rows in every table a webhook can write to, in one round trip."""
    counts = [select(func.count()).select_from(m).scalar_subquery() for m in (InboundEvent, Message, Delivery, OptOut)]
    with db.engine().connect() as conn:
        return tuple(conn.execute(select(*counts)).one())


def test_generated_webhook_requests_never_fail_and_store_only_valid_signed_events(world, monkeypatch, caplog, capsys):
    from groupsms.services import groups
    from tests.services.conftest import pick

    monkeypatch.setenv("VONAGE_SIGNATURE_SECRET", SECRET)
    monkeypatch.setenv("VONAGE_SIGNATURE_METHOD", "sha256")
    monkeypatch.delenv("GROUPSMS_ALLOW_UNSIGNED_WEBHOOKS", raising=False)
    # A live group from acme's main line, so signed replies from carla and dan are relayed.
    groups.create_group(world.actors["ada"], world.numbers["main"], pick(world, "carla", "dan", "erin"))
    caplog.set_level(logging.WARNING)
    statuses: Counter = Counter()
    outcome: Counter = Counter()
    failures: list[str] = []

    with TestClient(Starlette(routes=routes), raise_server_exceptions=False) as client:

        @settings(max_examples=PER_BACKEND, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(plan=plans())
        def run(plan: Plan) -> None:
            params, signed_ok = _signed(plan, time.time())
            before = _rows()
            response, proper = _send(client, plan, params)
            after = _rows()
            statuses[response.status_code] += 1
            stored = after[0] > before[0]
            outcome["stored" if stored else "not stored"] += 1
            if response.status_code >= 500:
                failures.append(f"{response.status_code} for {plan!r}: {response.text[:200]}")
            if not (signed_ok and proper) and after != before:
                failures.append(f"rows {before} -> {after} from an invalid request {plan!r}")
            if stored and response.status_code != 200:
                failures.append(f"stored but answered {response.status_code}: {plan!r}")

        run()

    noisy = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    with capsys.disabled():  # the figures show in a plain `make test` run
        print(f"\nwebhook fuzz ({db.engine().dialect.name}): {sum(statuses.values())} requests; "  # noqa: T201
              f"by status {dict(sorted(statuses.items()))}; {dict(outcome)}; "
              f"{len(noisy)} error log records")
    assert not failures, failures[:5]
    assert not noisy, [f"{r.name}: {r.getMessage()}" for r in noisy[:5]]
    assert statuses[200] > 0 and statuses[401] > 0 and statuses[400] > 0  # every path was reached
