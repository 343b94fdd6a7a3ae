"""Fail-closed startup: with a real Vonage key the app does not start without the webhook signature
secret, and the explicit opt-out for local experiments says so loudly."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from groupsms import config

ROOT = Path(__file__).resolve().parents[2]


def _import_app(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items()
            if k not in ("VONAGE_API_KEY", "VONAGE_SIGNATURE_SECRET", "GROUPSMS_ALLOW_UNSIGNED_WEBHOOKS")}
    base["GROUPSMS_DATABASE_URL"] = f"sqlite:///{tmp_path / 'app.db'}"
    return subprocess.run([sys.executable, "-c", "import groupsms.groupsms"], cwd=ROOT, env={**base, **env},
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


def test_app_refuses_to_start_with_vonage_key_and_no_signature_secret(tmp_path):
    done = _import_app(tmp_path, VONAGE_API_KEY="abcd1234", VONAGE_API_SECRET="s3cret")
    assert done.returncode != 0
    assert "refusing to start" in done.stderr and "VONAGE_SIGNATURE_SECRET" in done.stderr


def test_app_starts_with_vonage_key_and_signature_secret(tmp_path):
    done = _import_app(tmp_path, VONAGE_API_KEY="abcd1234", VONAGE_API_SECRET="s3cret",
                       VONAGE_SIGNATURE_SECRET="sig")
    assert done.returncode == 0, done.stderr


def test_app_starts_with_the_opt_out_and_warns_loudly(tmp_path):
    done = _import_app(tmp_path, VONAGE_API_KEY="abcd1234", GROUPSMS_ALLOW_UNSIGNED_WEBHOOKS="1")
    assert done.returncode == 0, done.stderr
    assert "UNSIGNED" in done.stderr and "GROUPSMS_ALLOW_UNSIGNED_WEBHOOKS" in done.stderr


def _settings(monkeypatch, **env: str) -> config.Settings:
    for name in ("VONAGE_API_KEY", "VONAGE_SIGNATURE_SECRET", "GROUPSMS_ALLOW_UNSIGNED_WEBHOOKS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return config.load()


def test_simulator_mode_needs_no_secret(monkeypatch):
    # Without a key the built-in simulator runs and signs with a secret of its own.
    assert config.webhook_signing_problem(_settings(monkeypatch)) is None


def test_require_signed_webhooks_names_the_variable(monkeypatch):
    with pytest.raises(SystemExit, match="VONAGE_SIGNATURE_SECRET"):
        config.require_signed_webhooks(_settings(monkeypatch, VONAGE_API_KEY="abcd1234"))


def test_opt_out_warns_at_start(monkeypatch, caplog):
    settings = _settings(monkeypatch, VONAGE_API_KEY="abcd1234", GROUPSMS_ALLOW_UNSIGNED_WEBHOOKS="1")
    with caplog.at_level(logging.WARNING):
        config.require_signed_webhooks(settings)
    assert any("UNSIGNED" in r.getMessage() for r in caplog.records)


def test_opt_out_flag_must_be_a_clear_yes_or_no(monkeypatch):
    with pytest.raises(SystemExit, match="GROUPSMS_ALLOW_UNSIGNED_WEBHOOKS"):
        _settings(monkeypatch, GROUPSMS_ALLOW_UNSIGNED_WEBHOOKS="maybe")
