"""The app as `make run-scaled` runs it, for a browser: `reflex run --env prod` on PostgreSQL with its
state in Redis and no outbox in the app, plus a second app process serving the Vonage webhooks.

Browser tests: run them in their own pytest process, under the shared lock (`make test` does)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import PG_ADMIN_URL, _pg_url
from tests.e2e.conftest import (  # noqa: F401  (fixtures)
    BIN, ROOT, WEBHOOK_SECRET, RunningApp, _cli, _free_port, _stop, _wait_until_serving, artifacts, browser,
    demo_logins, sign_in,
)

REDIS_URL = os.environ.get("GROUPSMS_TEST_SCALE_REDIS_URL", "redis://127.0.0.1:6379/9")


@pytest.fixture(scope="session")
def scaled_env() -> Iterator[dict[str, str]]:
    name = f"groupsms_scale_e2e_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    env = {**os.environ, "GROUPSMS_DATABASE_URL": _pg_url(name), "REFLEX_REDIS_URL": REDIS_URL,
           "GRANIAN_WORKERS": "1", "GROUPSMS_WORKER_IN_APP": "0",
           "GROUPSMS_SECRET_KEY": "scale-e2e-not-a-secret", "REFLEX_USE_NPM": "1",
           "REFLEX_CHECK_LATEST_VERSION": "false", "REFLEX_TELEMETRY_ENABLED": "false", "PYTHONUNBUFFERED": "1",
           "VONAGE_SIGNATURE_SECRET": WEBHOOK_SECRET, "VONAGE_SIGNATURE_METHOD": "sha256"}
    for variable in ("VONAGE_API_KEY", "VONAGE_API_SECRET"):
        env.pop(variable, None)
    try:
        _cli("db", "upgrade", env=env)
        _cli("demo", env=env)
        yield env
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def app_server(scaled_env, artifacts) -> Iterator[RunningApp]:
    """The app process the browser is connected to."""
    port = _free_port()
    url = f"http://localhost:{port}"
    log = artifacts / "scaled-server.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(BIN / "reflex"), "run", "--env", "prod", "--frontend-port", str(port)], cwd=ROOT, env=scaled_env,
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_until_serving(url, process, log)
        yield RunningApp(url=url, database_url=scaled_env["GROUPSMS_DATABASE_URL"], log=log)
    finally:
        _stop(process)


@pytest.fixture(scope="session")
def other_worker(scaled_env) -> Iterator[str]:
    """Another app process, serving the Vonage webhooks: its base URL."""
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "tests.soak.webhook_app", str(port)], cwd=ROOT,
                               env=scaled_env, stdin=subprocess.DEVNULL)
    try:
        from groupsms.simulator.testing import wait_until

        import socket

        def listening() -> bool:
            with socket.socket() as probe:
                return probe.connect_ex(("127.0.0.1", port)) == 0

        wait_until(listening, timeout=60, what="the webhook process")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=20)
