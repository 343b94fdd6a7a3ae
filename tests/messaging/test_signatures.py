"""Signed webhooks: the `sig` Vonage computes, verification, freshness, and the SDK's own check."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from vonage import Auth

from groupsms.messaging.signatures import (
    BAD_SIGNATURE,
    FUTURE_TIMESTAMP,
    HMAC_METHODS,
    METHODS,
    MISSING_SIGNATURE,
    MISSING_TIMESTAMP,
    STALE_TIMESTAMP,
    sign_params,
    signing_string,
    verify_params,
)

SECRET = "sig-secret-0123"
NOW = 1_700_000_000.0


def inbound(timestamp: float = NOW, **extra: str) -> dict[str, str]:
    params = {
        "msisdn": "15125550111", "to": "15125550100", "messageId": "0A0000000123ABCD1",
        "text": "see you at 5 & bring a=b", "type": "text", "keyword": "SEE",
        "message-timestamp": "2023-11-14 22:13:20", "timestamp": str(int(timestamp)),
        "nonce": "aaaaaaaa-bbbb-cccc-dddd-0123456789ab", "api-key": "abcd1234",
    }
    params.update(extra)
    return params


def signed(method: str = "sha256", **kw) -> dict[str, str]:
    params = inbound(**kw)
    params["sig"] = sign_params(params, SECRET, method)
    return params


def test_md5hash_matches_the_published_vector():
    # The vector from Vonage's own SDK tests: a=1, b=2, timestamp=1461605396, secret "secret".
    params = {"a": "1", "b": "2", "timestamp": "1461605396"}
    assert sign_params(params, "secret", "md5hash") == "6af838ef94998832dbfc29020b564830"


@pytest.mark.parametrize("method", HMAC_METHODS)
def test_hmac_is_over_the_sorted_ampersand_string_in_upper_case(method):
    params = {"b": "2", "a": "x&y=z", "timestamp": "1461605396", "sig": "ignored"}
    assert signing_string(params) == "&a=x_y_z&b=2&timestamp=1461605396"
    digest = hmac.new(b"secret", b"&a=x_y_z&b=2&timestamp=1461605396", getattr(hashlib, method)).hexdigest()
    assert sign_params(params, "secret", method) == digest.upper()


@pytest.mark.parametrize("method", METHODS)
def test_round_trip(method):
    assert verify_params(signed(method), SECRET, method, now=NOW) is None


@pytest.mark.parametrize("method", METHODS)
def test_signature_is_case_insensitive(method):
    params = signed(method)
    for sig in (params["sig"].lower(), params["sig"].upper()):
        assert verify_params({**params, "sig": sig}, SECRET, method, now=NOW) is None


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("tamper", [
    lambda p: p.update(text="see you at 6"),
    lambda p: p.update(msisdn="15125550199"),
    lambda p: p.update(extra="1"),
    lambda p: p.pop("keyword"),
    lambda p: p.update(nonce="another"),
])
def test_tampered_params_are_a_bad_signature(method, tamper):
    params = signed(method)
    tamper(params)
    assert verify_params(params, SECRET, method, now=NOW) == BAD_SIGNATURE


def test_wrong_secret_or_method_is_a_bad_signature():
    params = signed("sha256")
    assert verify_params(params, "other-secret", "sha256", now=NOW) == BAD_SIGNATURE
    assert verify_params(params, SECRET, "sha512", now=NOW) == BAD_SIGNATURE


@pytest.mark.parametrize("sig", ["zz", "é" * 64, "12 34", "0x" + "a" * 62])
def test_garbage_signatures_are_bad_not_errors(sig):
    assert verify_params({**signed(), "sig": sig}, SECRET, "sha256", now=NOW) == BAD_SIGNATURE


def test_missing_signature_and_timestamp():
    params = signed()
    unsigned = {k: v for k, v in params.items() if k != "sig"}
    assert verify_params(unsigned, SECRET, "sha256", now=NOW) == MISSING_SIGNATURE
    assert verify_params({**params, "sig": ""}, SECRET, "sha256", now=NOW) == MISSING_SIGNATURE
    unstamped = {k: v for k, v in inbound().items() if k != "timestamp"}
    unstamped["sig"] = sign_params(unstamped, SECRET, "sha256")
    assert verify_params(unstamped, SECRET, "sha256", now=NOW) == MISSING_TIMESTAMP


@pytest.mark.parametrize("age,reason", [
    (0, None), (299, None), (1200, None), (86_399, None), (86_401, STALE_TIMESTAMP),
    (-299, None), (-301, FUTURE_TIMESTAMP), (-86_400, FUTURE_TIMESTAMP),
])
def test_timestamp_may_be_a_day_old_but_not_from_the_future(age, reason):
    params = signed(timestamp=NOW - age)
    assert verify_params(params, SECRET, "sha256", now=NOW) == reason


def test_signed_retry_twenty_minutes_late_is_accepted():
    # Vonage keeps the signature (and timestamp) of its first attempt on every retry.
    assert verify_params(signed(timestamp=NOW - 20 * 60), SECRET, "sha256", now=NOW) is None


def test_signed_request_from_the_future_is_refused():
    assert verify_params(signed(timestamp=NOW + 3600), SECRET, "sha256", now=NOW) == FUTURE_TIMESTAMP


@pytest.mark.parametrize("timestamp", ["nan", "inf", "1e9", "-5", " 1700000000", "soon"])
def test_a_signed_timestamp_that_is_not_unix_seconds_is_stale(timestamp):
    params = inbound()
    params["timestamp"] = timestamp
    params["sig"] = sign_params(params, SECRET, "sha256")
    assert verify_params(params, SECRET, "sha256", now=NOW) == STALE_TIMESTAMP


def test_a_captured_webhook_cannot_be_replayed_after_a_day():
    params = signed()
    assert verify_params(params, SECRET, "sha256", now=NOW + 10) is None
    assert verify_params(params, SECRET, "sha256", now=NOW + 86_400 + 60) == STALE_TIMESTAMP


def test_verify_does_not_change_its_input():
    params = signed()
    before = dict(params)
    verify_params(params, SECRET, "sha256", now=NOW)
    assert params == before


def test_unknown_method_is_a_configuration_error():
    with pytest.raises(ValueError, match="md5hash"):
        sign_params(inbound(), SECRET, "sha384")
    with pytest.raises(ValueError):
        verify_params(signed(), SECRET, "plain", now=NOW)


# -- compatibility with the SDK's own implementation ------------------------------------------------

_keys = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=12)
_values = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=30)


@settings(max_examples=60, deadline=None)
@given(params=st.dictionaries(_keys.filter(lambda k: k not in ("sig", "timestamp")), _values, max_size=6),
       method=st.sampled_from(HMAC_METHODS))
def test_our_signer_and_the_sdk_agree(params, method):
    params = {**params, "timestamp": "1700000000"}
    auth = Auth(api_key="abcd1234", signature_secret=SECRET, signature_method=method)
    ours = sign_params(params, SECRET, method)
    assert ours == auth.sign_params(dict(params)).upper()
    assert auth.check_signature({**params, "sig": ours})  # the SDK accepts what we (and Vonage) send
    assert verify_params({**params, "sig": ours}, SECRET, method, now=1_700_000_000) is None


@settings(max_examples=60, deadline=None)
@given(params=st.dictionaries(_keys.filter(lambda k: k not in ("sig", "timestamp")), _values, max_size=6),
       method=st.sampled_from(HMAC_METHODS), tamper=st.sampled_from(["none", "value", "case", "digit"]))
def test_verify_params_accepts_exactly_what_the_sdk_accepts(params, method, tamper):
    params = {**params, "timestamp": "1700000000"}
    sig = sign_params(params, SECRET, method)
    if tamper == "value":
        params = {**params, "extra": "added after signing"}
    elif tamper == "case":
        sig = sig.lower()  # hex compares case-insensitively
    elif tamper == "digit":
        sig = ("0" if sig[0] != "0" else "1") + sig[1:]
    auth = Auth(api_key="abcd1234", signature_secret=SECRET, signature_method=method)
    sdk_accepts = auth.check_signature({**params, "sig": sig})
    assert sdk_accepts == (tamper in ("none", "case"))
    assert (verify_params({**params, "sig": sig}, SECRET, method, now=1_700_000_000) is None) == sdk_accepts
