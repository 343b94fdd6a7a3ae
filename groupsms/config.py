"""Settings read from the environment (DESIGN §4). Nothing secret lives in the repository."""

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
    )
