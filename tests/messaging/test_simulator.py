"""The Vonage simulator on its own: the send API, handsets, receipts, inbound posts, faults, lifecycle."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from groupsms.domain.segments import count_segments
from groupsms.messaging.gateway import SENT, SendRequest
from groupsms.messaging.signatures import sign_params, verify_params
from groupsms.messaging.vonage_gateway import VonageGateway
from groupsms.simulator import Simulator, WebhookError
from groupsms.simulator.testing import WebhookReceiver, wait_until
from groupsms.simulator.texts import split_parts

KEY, SECRET, SIGNATURE_SECRET = "abcd1234", "secret-0123456789", "sig-secret-0123"
BUSINESS, CARLA, DAN = "+15125550100", "+15125550111", "+15125550122"
STATUS_PATH, INBOUND_PATH = "/webhooks/vonage/status", "/webhooks/vonage/inbound"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def receiver():
    with WebhookReceiver() as app:
        yield app


@pytest.fixture(scope="module")
def shared_simulator(receiver):
    with Simulator(KEY, SECRET, SIGNATURE_SECRET, rate_limit=10_000, app_webhook_base=receiver.base_url) as sim:
        yield sim


@pytest.fixture
def sim(shared_simulator, receiver):
    shared_simulator.reset()
    receiver.clear()
    receiver.status = 200
    return shared_simulator


def api(sim: Simulator, *, data=None, json=None, auth=None, path="/sms/json", timeout=5.0) -> requests.Response:
    session = requests.Session()
    session.verify, session.trust_env = sim.ca_bundle_path, False
    with session:
        return session.post(f"https://{sim.rest_host}{path}", data=data, json=json, auth=auth, timeout=timeout)


def message(**extra) -> dict[str, str]:
    return {"api_key": KEY, "api_secret": SECRET, "from": "15125550100", "to": "15125550111",
            "text": "hello", **extra}


def first(response: requests.Response) -> dict:
    assert response.status_code == 200
    return response.json()["messages"][0]


# -- POST /sms/json ------------------------------------------------------------------------------


def test_form_body_with_credentials_in_the_body(sim):
    answer = first(api(sim, data=message()))
    assert answer["status"] == "0" and answer["to"] == "15125550111"
    [record] = sim.requests()
    assert (record.auth, record.api_key, record.content_type) == ("body", KEY, "application/x-www-form-urlencoded")
    assert sim.inbox(CARLA)[0].message_ids == (answer["message-id"],)


def test_json_body_with_basic_auth(sim):
    body = {k: v for k, v in message(**{"client-ref": "d-9"}).items() if k not in ("api_key", "api_secret")}
    answer = first(api(sim, json=body, auth=(KEY, SECRET)))
    assert answer["status"] == "0" and answer["client-ref"] == "d-9"
    [record] = sim.requests()
    assert (record.auth, record.api_key, record.api_secret) == ("basic", KEY, SECRET)
    assert record.content_type == "application/json"


@pytest.mark.parametrize("change,status,text", [
    ({"api_key": None}, "2", "Missing api_key"),
    ({"api_secret": None}, "2", "Missing api_secret"),
    ({"api_secret": "wrong"}, "4", "Bad Credentials"),
    ({"api_key": "nobody00"}, "4", "Bad Credentials"),
    ({"from": None}, "2", "Missing from param"),
    ({"to": None}, "2", "Missing to param"),
    ({"text": None}, "2", "Missing text param"),
    ({"to": "+15125550111"}, "3", "Invalid to param"),
    ({"client-ref": "x" * 41}, "3", "client-ref"),
    ({"type": "binary"}, "3", "type"),
    ({"text": "x" * 3201}, "12", "Message Too Long"),
])
def test_refused_requests_answer_the_documented_status(sim, change, status, text):
    data = {k: v for k, v in message(**change).items() if v is not None}
    answer = first(api(sim, data=data))
    assert answer["status"] == status and text in answer["error-text"]
    assert set(answer) == {"status", "error-text"}
    assert sim.inbox(CARLA) == [] and sim.stats()["rejected"] == 1


def test_signed_requests(sim):
    params = {k: v for k, v in message().items() if k != "api_secret"}
    params["timestamp"] = str(int(time.time()))
    good = {**params, "sig": sign_params(params, SIGNATURE_SECRET, "sha256")}
    assert first(api(sim, data=good))["status"] == "0"
    assert first(api(sim, data={**good, "text": "changed"}))["status"] == "14"
    assert first(api(sim, data={**good, "api_secret": SECRET}))["status"] == "32"
    assert sim.requests()[0].auth == "signature"


def test_unknown_endpoints_and_methods(sim):
    assert api(sim, path="/sms/xml", data=message()).status_code == 404
    session = requests.Session()
    session.verify, session.trust_env = sim.ca_bundle_path, False
    assert session.get(f"https://{sim.rest_host}/sms/json", timeout=5).status_code == 405


def test_type_text_shows_question_marks_for_characters_outside_gsm7(sim):
    first(api(sim, data=message(text="Café ☕ at 5")))
    assert sim.inbox(CARLA)[0].text == "Café ? at 5"  # é is GSM-7, the cup is not
    first(api(sim, data=message(text="Café ☕ at 5", type="unicode")))
    assert sim.inbox(CARLA)[1].text == "Café ☕ at 5"


def test_inboxes_are_per_handset(sim):
    first(api(sim, data=message(to="15125550111", text="to carla")))
    first(api(sim, data=message(to="15125550122", text="to dan")))
    assert [m.text for m in sim.inbox(CARLA)] == ["to carla"]
    assert [m.text for m in sim.inbox(DAN)] == ["to dan"]
    assert sim.handsets() == [CARLA, DAN]
    with pytest.raises(TimeoutError):
        sim.wait_for_inbox(DAN, 2, timeout=0.05)


def test_counters(sim):
    first(api(sim, data=message(text="y" * 200)))
    first(api(sim, data=message(api_secret="nope")))
    sim.inject("throttle")
    first(api(sim, data=message()))
    stats = sim.stats()
    assert {k: stats[k] for k in ("requests", "accepted", "parts", "rejected", "throttled", "faults")} == {
        "requests": 3, "accepted": 1, "parts": 2, "rejected": 1, "throttled": 1, "faults": 1}
    assert stats["balance"] == "9.98500000"


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from("abc xyz{}€[]^~|é\n0123ÄΩ"), max_size=700)
       | st.text(alphabet=st.sampled_from("ab ☕😀ж中"), max_size=300))
def test_parts_are_what_the_composer_predicts(text):
    info = count_segments(text)
    parts = split_parts(text, unicode=info.encoding == "UCS-2")
    assert "".join(parts) == text
    if text:
        assert len(parts) == info.segments


# -- delivery receipts ----------------------------------------------------------------------------


def test_each_part_gets_a_signed_delivery_receipt_by_get(sim, receiver):
    answer = api(sim, data=message(text="z" * 300, **{"client-ref": "d-42"})).json()
    ids = [m["message-id"] for m in answer["messages"]]
    hooks = receiver.wait_for(2, STATUS_PATH)
    assert {h.method for h in hooks} == {"GET"}
    receipts = [h.params for h in hooks]
    assert sorted(r["messageId"] for r in receipts) == sorted(ids)
    for receipt in receipts:
        assert receipt["status"] == "delivered" and receipt["client-ref"] == "d-42"
        assert receipt["msisdn"] == "15125550111" and receipt["to"] == "15125550100"
        assert receipt["err-code"] == "0" and receipt["api-key"] == KEY
        assert verify_params(receipt, SIGNATURE_SECRET, "sha256", now=time.time()) is None
    sim.wait_for_webhooks()
    assert sim.stats()["dlr_sent"] == 2


@pytest.mark.parametrize("method,content_type", [("POST", "application/x-www-form-urlencoded"),
                                                 ("POST-JSON", "application/json")])
def test_receipts_by_post_form_or_json(method, content_type):
    with WebhookReceiver() as app, Simulator(KEY, SECRET, SIGNATURE_SECRET, app_webhook_base=app.base_url,
                                             webhook_method=method, signature_method="md5hash") as sim:
        first(api(sim, data=message()))
        [hook] = app.wait_for(1, STATUS_PATH)
    assert (hook.method, hook.content_type, hook.query) == ("POST", content_type, {})
    assert verify_params(hook.form, SIGNATURE_SECRET, "md5hash", now=time.time()) is None


def test_no_receipt_when_not_requested_and_unsigned_without_a_secret():
    with WebhookReceiver() as app, Simulator(KEY, SECRET, None, app_webhook_base=app.base_url) as sim:
        first(api(sim, data=message(**{"status-report-req": "false"})))
        first(api(sim, data=message(text="with receipt")))
        sim.wait_for_webhooks()
        [hook] = app.received(STATUS_PATH)
    assert not {"sig", "nonce", "timestamp"} & set(hook.params)


def test_receipts_wait_for_their_delay():
    with WebhookReceiver() as app, Simulator(KEY, SECRET, None, app_webhook_base=app.base_url, dlr_delay=0.3) as sim:
        started = time.monotonic()
        first(api(sim, data=message()))
        app.wait_for(1, STATUS_PATH)
        assert time.monotonic() - started >= 0.3


def test_a_refused_receipt_is_counted(sim, receiver):
    receiver.status = 500
    first(api(sim, data=message()))
    sim.wait_for_webhooks()
    assert sim.stats()["dlr_failed"] == 1 and not sim.webhooks("status")[0].ok


# -- inbound SMS ----------------------------------------------------------------------------------


def test_post_inbound_single_part(sim, receiver):
    [message_id] = sim.post_inbound(CARLA, BUSINESS, "yes see you at 5")
    [hook] = receiver.received(INBOUND_PATH)
    params = hook.params
    assert params["messageId"] == message_id and params["msisdn"] == "15125550111" and params["to"] == "15125550100"
    assert (params["text"], params["type"], params["keyword"]) == ("yes see you at 5", "text", "YES")
    assert not {"concat", "concat-ref", "concat-part", "concat-total"} & set(params)
    assert verify_params(params, SIGNATURE_SECRET, "sha256", now=time.time()) is None
    assert [s.text for s in sim.sent_from(CARLA)] == ["yes see you at 5"]


def test_post_inbound_long_text_in_concatenated_parts(sim, receiver):
    text = "Running late, traffic on Mopac is terrible today. " * 4  # 200 GSM-7 characters: 2 parts
    ids = sim.post_inbound(CARLA, BUSINESS, text)
    hooks = receiver.received(INBOUND_PATH)
    assert len(ids) == len(hooks) == 2
    parts = sorted((h.params for h in hooks), key=lambda p: int(p["concat-part"]))
    assert {p["concat-ref"] for p in parts} == {parts[0]["concat-ref"]}
    assert [p["concat-total"] for p in parts] == ["2", "2"] and {p["concat"] for p in parts} == {"true"}
    assert [p["messageId"] for p in parts] == ids
    assert "".join(p["text"] for p in parts) == text


def test_post_inbound_forced_parts_out_of_order(sim, receiver):
    ids = sim.post_inbound(DAN, BUSINESS, "Привет, до встречи", concat_parts=3, part_order=[2, 3, 1])
    hooks = receiver.received(INBOUND_PATH)
    assert [h.params["concat-part"] for h in hooks] == ["2", "3", "1"]
    assert [h.params["messageId"] for h in hooks] == [ids[1], ids[2], ids[0]]
    assert {h.params["type"] for h in hooks} == {"unicode"}
    by_part = {h.params["concat-part"]: h.params["text"] for h in hooks}
    assert by_part["1"] + by_part["2"] + by_part["3"] == "Привет, до встречи"


def test_post_inbound_raises_when_the_app_refuses(sim, receiver):
    receiver.status = 401
    with pytest.raises(WebhookError, match="401"):
        sim.post_inbound(CARLA, BUSINESS, "hi")
    assert sim.stats()["inbound_failed"] == 1


def test_post_inbound_needs_an_app_and_numbers():
    simulator = Simulator(KEY, SECRET, None)
    with pytest.raises(RuntimeError):
        simulator.post_inbound(CARLA, BUSINESS, "hi")
    simulator.app_webhook_base = "http://127.0.0.1:9"
    with pytest.raises(ValueError):
        simulator.post_inbound("5125550111", BUSINESS, "hi")


# -- faults ---------------------------------------------------------------------------------------


def test_a_held_request_does_not_block_others():
    with Simulator(KEY, SECRET, None) as sim:  # its own: the held request must not land in another test
        sim.inject("timeout", hold=5.0)
        outcome: dict[str, object] = {}

        def slow() -> None:
            try:
                api(sim, data=message(text="slow"), timeout=0.2)
            except requests.exceptions.Timeout as exc:
                outcome["slow"] = exc

        thread = threading.Thread(target=slow)
        thread.start()
        wait_until(lambda: [r for r in sim.requests() if r.fault == "timeout"], what="the held request")
        started = time.monotonic()
        assert first(api(sim, data=message(text="fast")))["status"] == "0"
        assert time.monotonic() - started < 1.0
        thread.join(5)
        assert isinstance(outcome.get("slow"), requests.exceptions.Timeout)
        assert [m.text for m in sim.inbox(CARLA)] == ["fast"]  # the slow one is still held
    # stop() released the hold at once (the test did not wait 5 s)


def test_faults_are_used_in_order(sim):
    sim.inject("drop_before_read")
    sim.inject("http503", count=2)
    assert sim.pending_faults() == ["drop_before_read", "http503", "http503"]
    with pytest.raises(requests.exceptions.ConnectionError):
        api(sim, data=message())
    assert [api(sim, data=message()).status_code for _ in range(3)] == [503, 503, 200]
    assert sim.stats()["faults_by_kind"] == {"drop_before_read": 1, "http503": 2}


def test_drop_after_read_accepts_the_message(sim):
    sim.inject("drop_after_read")
    with pytest.raises(requests.exceptions.ConnectionError):
        api(sim, data=message())
    assert len(sim.inbox(CARLA)) == 1 and sim.requests()[0].http_status is None


def test_unknown_faults_are_refused(sim):
    with pytest.raises(ValueError):
        sim.inject("meteor")
    with pytest.raises(ValueError):
        sim.inject("http500", count=0)


# -- lifecycle ------------------------------------------------------------------------------------


def test_only_loopback_addresses():
    with pytest.raises(ValueError):
        Simulator(KEY, SECRET, None, host="0.0.0.0")
    with pytest.raises(ValueError):
        Simulator(KEY, SECRET, None, app_webhook_base="http://example.com")


def test_stop_is_prompt_and_cleans_up(tmp_path):
    simulator = Simulator(KEY, SECRET, None).start()
    ca = Path(simulator.ca_bundle_path)
    gateway = VonageGateway(KEY, SECRET, rest_host=simulator.rest_host, ca_bundle=str(ca))
    request = SendRequest(BUSINESS, CARLA, "hi", "d-1", False)
    assert gateway.send(request).outcome == SENT  # leaves a kept-alive connection open
    started = time.monotonic()
    simulator.stop()
    assert time.monotonic() - started < 1.5
    assert not ca.exists()
    with Simulator(KEY, SECRET, None, ca_dir=tmp_path) as kept:
        assert Path(kept.ca_bundle_path).parent == tmp_path
    assert (tmp_path / Path(kept.ca_bundle_path).name).exists()  # a chosen ca_dir is kept


def test_env_names_what_the_app_needs():
    with Simulator(KEY, SECRET, SIGNATURE_SECRET, signature_method="sha512") as sim:
        assert sim.env() == {
            "VONAGE_API_KEY": KEY, "VONAGE_API_SECRET": SECRET, "VONAGE_REST_HOST": sim.rest_host,
            "VONAGE_CA_BUNDLE": sim.ca_bundle_path, "VONAGE_SIGNATURE_SECRET": SIGNATURE_SECRET,
            "VONAGE_SIGNATURE_METHOD": "sha512",
        }
        assert sim.rest_host == f"127.0.0.1:{sim.port}"


def _read_until(stream, marker: str, timeout: float) -> list[str]:
    lines: list[str] = []
    done = threading.Event()

    def reader() -> None:
        for line in stream:
            lines.append(line.rstrip("\n"))
            if marker in line:
                done.set()
                return

    threading.Thread(target=reader, daemon=True).start()
    if not done.wait(timeout):
        raise TimeoutError(f"no {marker!r} in {lines}")
    return lines


def test_main_prints_the_variables_and_stops_on_ctrl_c(tmp_path):
    env_file = tmp_path / "vonage.env"
    process = subprocess.Popen(
        [sys.executable, "-m", "groupsms.simulator", "--env-file", str(env_file), "--api-key", KEY],
        stdout=subprocess.PIPE, text=True, cwd=REPO, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        lines = _read_until(process.stdout, "# Ready", timeout=20)
        exported = dict(line[len("export "):].split("=", 1) for line in lines if line.startswith("export "))
        assert set(exported) == {"VONAGE_API_KEY", "VONAGE_API_SECRET", "VONAGE_REST_HOST", "VONAGE_CA_BUNDLE",
                                 "VONAGE_SIGNATURE_SECRET", "VONAGE_SIGNATURE_METHOD"}
        assert exported["VONAGE_API_KEY"] == KEY and exported["VONAGE_REST_HOST"].startswith("127.0.0.1:")
        assert env_file.read_text().splitlines() == [line for line in lines if line.startswith("export ")]
        gateway = VonageGateway(exported["VONAGE_API_KEY"], exported["VONAGE_API_SECRET"],
                                rest_host=exported["VONAGE_REST_HOST"], ca_bundle=exported["VONAGE_CA_BUNDLE"])
        assert gateway.send(SendRequest(BUSINESS, CARLA, "hi", "d-1", False)).outcome == SENT
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
        assert "stopped" in process.stdout.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


# -- random faults and webhook retries ---------------------------------------------------------------


def test_random_faults_hit_about_the_given_share_of_requests(sim):
    sim.inject_randomly(0.2, ["http500", "throttle"], seed=11)
    statuses = [api(sim, data=message(**{"client-ref": f"r-{i}"})).status_code for i in range(200)]
    sim.inject_randomly(0)
    faults = sim.stats()["faults"]
    assert 20 <= faults <= 60 and set(sim.stats()["faults_by_kind"]) == {"http500", "throttle"}
    assert statuses.count(500) == sim.stats()["faults_by_kind"]["http500"]
    assert sum(sim.accepted_by_client_ref().values()) == 200 - faults
    with pytest.raises(ValueError, match="unknown fault"):
        sim.inject_randomly(0.1, ["nope"])


def test_a_receipt_the_app_refused_is_sent_again_until_it_answers(receiver):
    receiver.clear()
    receiver.status = 503
    with Simulator(KEY, SECRET, SIGNATURE_SECRET, app_webhook_base=receiver.base_url,
                   webhook_retry_for=30, webhook_retry_delay=0.05) as sim:
        first(api(sim, data=message(**{"client-ref": "d-9"})))
        receiver.wait_for(3, STATUS_PATH, timeout=10)  # refused, and tried again
        receiver.status = 200
        sim.wait_for_webhooks(timeout=10)
        records = sim.webhooks("status")
    receiver.clear()
    assert records[-1].ok and not any(r.ok for r in records[:-1]) and len(records) >= 3
    assert {r.params["client-ref"] for r in records} == {"d-9"}
