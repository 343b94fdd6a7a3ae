"""SMS API signed webhooks: the `sig` parameter, as Vonage computes it, and its verification.

Vonage's algorithm ("Signing Messages"; the SDK's `vonage_http_client.Auth.sign_params`):

1. take every parameter except `sig` (the webhook carries `timestamp` and `nonce` among them);
2. in each value replace every "&" and "=" with "_";
3. sort by key and concatenate as "&key1=value1&key2=value2...";
4. method "md5hash" (the dashboard's legacy default): MD5 of that string followed by the secret;
   methods "md5", "sha1", "sha256", "sha512": HMAC of that string keyed by the secret;
5. hex digest: Vonage sends HMACs in upper case and md5hash in lower case; compare case-insensitively.

The SDK's `Auth.check_signature` only knows the HMAC methods and never looks at the timestamp, so a
captured webhook could be replayed forever: `verify_params` computes the digest of every method
itself and checks freshness. Vonage signs with the time it *started* pushing a webhook and retries it
for 24 hours, so a signed request stays acceptable for 24 hours (a replay inside that window is
harmless: events are stored once per messageId); one dated in the future, beyond a small clock skew,
is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping

HMAC_METHODS = ("md5", "sha1", "sha256", "sha512")
METHODS = ("md5hash", *HMAC_METHODS)

# Reasons `verify_params` gives (webhooks log them and answer 401).
MISSING_SIGNATURE = "missing signature"
MISSING_TIMESTAMP = "missing timestamp"
BAD_SIGNATURE = "bad signature"
STALE_TIMESTAMP = "stale timestamp"
FUTURE_TIMESTAMP = "timestamp in the future"

# Vonage retries a webhook for 24 hours, re-sending the signature of its first attempt.
MAX_AGE = 24 * 3600
# Our clock and Vonage's may disagree a little; a request dated further ahead is not Vonage's.
MAX_CLOCK_SKEW = 300

_HEX = re.compile(r"[0-9a-fA-F]+")
_UNIX_SECONDS = re.compile(r"[0-9]{1,12}")


def _check_method(method: str) -> str:
    if method not in METHODS:
        raise ValueError(f"unknown signature method {method!r}: use one of {', '.join(METHODS)}")
    return method


def signing_string(params: Mapping[str, object]) -> str:
    """The "&key=value..." string Vonage hashes (sig left out, "&" and "=" in values made "_")."""
    parts = []
    for key in sorted(k for k in params if k != "sig"):
        value = params[key]
        if isinstance(value, str):
            value = value.replace("&", "_").replace("=", "_")
        parts.append(f"&{key}={value}")
    return "".join(parts)


def sign_params(params: Mapping[str, str], secret: str, method: str = "sha256") -> str:
    """The `sig` value Vonage sends with these parameters (which must include `timestamp`)."""
    _check_method(method)
    data = signing_string(params).encode("utf-8")
    if method == "md5hash":
        return hashlib.md5(data + secret.encode("utf-8")).hexdigest()
    return hmac.new(secret.encode("utf-8"), data, getattr(hashlib, method)).hexdigest().upper()


def _signature_matches(params: Mapping[str, str], sig: str, secret: str, method: str) -> bool:
    # Vonage's digest of these params, compared in constant time as lower-case hex: what the SDK's
    # `Auth.check_signature` computes for the HMAC methods (tests/messaging/test_signatures.py checks
    # the two agree), without its copy and validation of the params on every call.
    expected = sign_params(params, secret, method)
    return hmac.compare_digest(sig.lower().encode("ascii"), expected.lower().encode("ascii"))


def verify_params(
    params: Mapping[str, str],
    secret: str,
    method: str,
    *,
    now: float,
    max_age: float = MAX_AGE,
    max_skew: float = MAX_CLOCK_SKEW,
) -> str | None:
    """None when `params` carry a valid, fresh signature; otherwise the reason.

    Fresh means `timestamp` (Unix seconds) is at most `max_age` before `now` and at most `max_skew`
    after it.
    """
    _check_method(method)
    sig = params.get("sig")
    if not sig:
        return MISSING_SIGNATURE
    timestamp = params.get("timestamp")
    if not timestamp:
        return MISSING_TIMESTAMP
    # Only hex can match; this also keeps non-ASCII text away from hmac.compare_digest (TypeError).
    if not isinstance(sig, str) or not _HEX.fullmatch(sig):
        return BAD_SIGNATURE
    if not _signature_matches(params, sig, secret, method):
        return BAD_SIGNATURE
    if not isinstance(timestamp, str) or not _UNIX_SECONDS.fullmatch(timestamp):
        return STALE_TIMESTAMP  # signed, but not a time we can show to be recent ("nan", "1e9", ...)
    age = now - int(timestamp)
    if age > max_age:
        return STALE_TIMESTAMP
    if -age > max_skew:
        return FUTURE_TIMESTAMP
    return None
