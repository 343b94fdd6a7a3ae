"""Settings read from the environment (README: Configuration). Nothing secret lives in the repository."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = f"sqlite:///{ROOT / 'var' / 'groupsms.db'}"


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str
    vonage_api_key: str | None
    vonage_api_secret: str | None
    vonage_signature_secret: str | None
    vonage_signature_method: str
    vonage_rest_host: str
    vonage_ca_bundle: str | None
    sms_rate: float
    session_days: int
    # GROUPSMS_WORKER_CONCURRENCY: sends one outbox worker keeps in flight (default 8).
    worker_concurrency: int = 8
    # GROUPSMS_ALLOW_UNSIGNED_WEBHOOKS=1: accept unsigned webhooks when no signature secret is set
    # (local experiments only; logged loudly at start and on every unsigned request).
    allow_unsigned_webhooks: bool = False

    @property
    def simulator_mode(self) -> bool:
        return not self.vonage_api_key


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise SystemExit(f"{name} must be a number, got {raw!r}") from exc
    if value <= 0:
        raise SystemExit(f"{name} must be positive, got {raw!r}")
    return value


def _flag(name: str) -> bool:
    raw = (os.environ.get(name) or "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise SystemExit(f"{name} must be 1 or 0, got {raw!r}")


UNSIGNED_WEBHOOKS_WARNING = (
    "GROUPSMS_ALLOW_UNSIGNED_WEBHOOKS=1 and VONAGE_SIGNATURE_SECRET is not set: webhooks accept "
    "UNSIGNED requests, so anyone who can reach this app can forge replies, STOPs and receipts. "
    "Never run like this on a network others can reach."
)


def webhook_signing_problem(settings: Settings) -> str | None:
    """Why the app must not start with these settings, or None.

    A real Vonage key without VONAGE_SIGNATURE_SECRET would leave the webhooks unverifiable: forged
    replies would be relayed to every participant and forged STOPs would lock groups.
    """
    if settings.vonage_api_key and not settings.vonage_signature_secret and not settings.allow_unsigned_webhooks:
        return (
            "VONAGE_API_KEY is set but VONAGE_SIGNATURE_SECRET is not: the Vonage webhooks could not be "
            "verified. Set VONAGE_SIGNATURE_SECRET to the signature secret of your Vonage account "
            "(dashboard, API settings, signed webhooks) and VONAGE_SIGNATURE_METHOD to its method."
        )
    return None


def require_signed_webhooks(settings: Settings | None = None) -> Settings:
    """Refuse to start (SystemExit naming the variable) when webhooks could not be verified."""
    settings = settings or load()
    problem = webhook_signing_problem(settings)
    if problem:
        raise SystemExit(f"groupsms: refusing to start. {problem}")
    if settings.allow_unsigned_webhooks and not settings.vonage_signature_secret:
        import logging

        logging.getLogger("groupsms.webhooks").warning("!!! %s !!!", UNSIGNED_WEBHOOKS_WARNING)
    return settings


def load() -> Settings:
    env = os.environ.get
    return Settings(
        database_url=env("GROUPSMS_DATABASE_URL") or DEFAULT_DATABASE_URL,
        secret_key=env("GROUPSMS_SECRET_KEY") or "",
        vonage_api_key=env("VONAGE_API_KEY") or None,
        vonage_api_secret=env("VONAGE_API_SECRET") or None,
        vonage_signature_secret=env("VONAGE_SIGNATURE_SECRET") or None,
        vonage_signature_method=env("VONAGE_SIGNATURE_METHOD") or "sha256",
        vonage_rest_host=env("VONAGE_REST_HOST") or "rest.nexmo.com",
        vonage_ca_bundle=env("VONAGE_CA_BUNDLE") or None,
        sms_rate=_float("GROUPSMS_SMS_RATE", 30.0),
        session_days=int(_float("GROUPSMS_SESSION_DAYS", 14)),
        worker_concurrency=int(_float("GROUPSMS_WORKER_CONCURRENCY", 8)),
        allow_unsigned_webhooks=_flag("GROUPSMS_ALLOW_UNSIGNED_WEBHOOKS"),
    )
