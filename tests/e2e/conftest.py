"""Browser tests against the real app.

The app runs as `make run` runs it: `reflex run --env prod` in a subprocess (its own event loop,
granian workers, the production frontend build), on a free port, with a fresh SQLite database that
the `groupsms` CLI migrates and fills with the demo. Playwright drives Debian's chromium
(Playwright's own browser download cannot work on these machines).

Run them in their own pytest process: `make test` does (`pytest tests/e2e`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
BIN = Path(sys.executable).parent
CHROMIUM = os.environ.get("GROUPSMS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# The first start on a fresh machine installs the frontend packages and builds the frontend.
SERVER_START_TIMEOUT = float(os.environ.get("GROUPSMS_E2E_START_TIMEOUT", "600"))
EXPECT_TIMEOUT_MS = 15_000
WIDTHS = {"desktop": (1280, 800), "mobile": (375, 800)}  # a laptop and a phone
WEBHOOK_SECRET = "e2e-webhook-secret"


@dataclass(frozen=True)
class DemoLogin:
    email: str
    password: str
    name: str


@dataclass(frozen=True)
class RunningApp:
    url: str
    database_url: str
    log: Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _cli(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [str(BIN / "groupsms"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    if done.returncode != 0:
        pytest.fail(f"groupsms {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _tail(path: Path, lines: int = 60) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return ""


def _wait_until_serving(url: str, process: subprocess.Popen, log: Path) -> None:
    """Wait for the backend and the built frontend to answer, or fail with the server's log."""
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    ready = {"/ping": False, "/login": False}
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the app exited with code {process.returncode}:\n{_tail(log)}")
        for path, ok in ready.items():
            if ok:
                continue
            with contextlib.suppress(OSError, urllib.error.URLError):
                with urllib.request.urlopen(url + path, timeout=2) as response:
                    ready[path] = response.status == 200
        if all(ready.values()):
            return
        time.sleep(0.5)
    pytest.fail(f"the app did not answer within {SERVER_START_TIMEOUT:.0f} s:\n{_tail(log)}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    # `reflex run` starts granian workers in its process group: stop them all, gently first.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def app_server(tmp_path_factory, artifacts) -> Iterator[RunningApp]:
    data_dir = tmp_path_factory.mktemp("e2e-data")
    database_url = f"sqlite:///{data_dir / 'groupsms.db'}"
    env = {
        **os.environ,
        "GROUPSMS_DATABASE_URL": database_url,
        "GROUPSMS_SECRET_KEY": os.environ.get("GROUPSMS_SECRET_KEY") or "e2e-not-a-secret",
        "REFLEX_USE_NPM": "1",
        "REFLEX_CHECK_LATEST_VERSION": "false",
        "REFLEX_TELEMETRY_ENABLED": "false",
        "PYTHONUNBUFFERED": "1",
        # The app's built-in simulator and webhooks use this secret, so tests can post signed
        # inbound SMS as a handset would (`post_inbound`).
        "VONAGE_SIGNATURE_SECRET": WEBHOOK_SECRET,
        "VONAGE_SIGNATURE_METHOD": "sha256",
    }
    # Never send real SMS from a test run.
    for name in ("VONAGE_API_KEY", "VONAGE_API_SECRET"):
        env.pop(name, None)
    _cli("db", "upgrade", env=env)
    _cli("demo", env=env)

    port = _free_port()
    url = f"http://localhost:{port}"
    log = artifacts / "server.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(BIN / "reflex"), "run", "--env", "prod", "--frontend-port", str(port)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        started = time.monotonic()
        _wait_until_serving(url, process, log)
        print(f"\napp ready at {url} after {time.monotonic() - started:.1f} s")  # noqa: T201
        yield RunningApp(url=url, database_url=database_url, log=log)
    finally:
        _stop(process)


@pytest.fixture(scope="session")
def demo_admin() -> DemoLogin:
    from groupsms.demo import demo_logins

    login = next(d for d in demo_logins() if d["email"] == "admin@acme.test")
    return DemoLogin(email=login["email"], password=login["password"], name="Ada Admin")


@dataclass(frozen=True)
class DemoGroup:
    title: str
    number_label: str
    participant_count: int


@pytest.fixture(scope="session")
def demo_group(app_server: RunningApp, demo_admin: DemoLogin) -> DemoGroup:
    """A group created by the demo admin through the services, as the group dialog will."""
    from groupsms import db
    from groupsms.services import contacts, groups, sessions

    engine = db.init(app_server.database_url)
    try:
        _token, actor = sessions.sign_in(demo_admin.email, demo_admin.password)
        number = next(n for n in groups.picker_numbers(actor) if n.is_default)
        # Three contacts of its own: other tests add contacts and groups to the same database.
        people = [contacts.create_contact(actor, f"{first} Demogroup", f"+1802555{9100 + n:04d}")
                  for n, first in enumerate(("Hanna", "Ivo", "Jonas"))]
        gid = groups.create_group(actor, number.id, [(cid, "primary") for cid in people])
        return DemoGroup(groups.get_group(actor, gid).title, number.label, len(people))
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: `make test` installs it (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def context(browser: Browser, app_server: RunningApp) -> Iterator[BrowserContext]:
    context = browser.new_context(
        base_url=app_server.url, viewport={"width": 1280, "height": 800}
    )
    context.set_default_timeout(EXPECT_TIMEOUT_MS)
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    return context.new_page()


@pytest.fixture
def screenshot(artifacts: Path):
    """Save the page at desktop and phone widths: artifacts/<name>-desktop.png, <name>-mobile.png.

    `only="mobile"` (or `"desktop"`) saves just that width, for what exists at one width only (the
    phone's menu, the desktop navigation bar); a file of that name at the other width is removed, so
    no picture claims to show what it cannot. The page is put back to the size it had."""

    def take(page: Page, name: str, *, only: str | None = None) -> None:
        if only is not None and only not in WIDTHS:
            raise ValueError(f"only= takes one of {sorted(WIDTHS)}, not {only!r}")
        original = page.viewport_size
        for label, (width, height) in WIDTHS.items():
            target = artifacts / f"{name}-{label}.png"
            if only is not None and label != only:
                target.unlink(missing_ok=True)
                continue
            if page.viewport_size != {"width": width, "height": height}:
                page.set_viewport_size({"width": width, "height": height})
            page.screenshot(path=str(target), full_page=True)
        if original and page.viewport_size != original:
            page.set_viewport_size(original)

    return take


@pytest.fixture
def sign_in():
    """Fill and submit the sign-in form."""

    def submit(page: Page, email: str, password: str) -> None:
        page.goto("/login")
        button = page.get_by_role("button", name="Sign in")
        # Enabled once the page is connected to the backend (typing earlier could race hydration).
        expect(button).to_be_enabled()
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(password)
        button.click()

    return submit


@pytest.fixture
def post_inbound(app_server: RunningApp):
    """A handset texts a business number: a signed inbound webhook to the running app."""
    import json
    import uuid

    from groupsms.messaging.signatures import sign_params

    def post(from_e164: str, to_e164: str, text: str) -> None:
        params = {
            "msisdn": from_e164.lstrip("+"), "to": to_e164.lstrip("+"), "messageId": uuid.uuid4().hex[:16],
            "text": text, "type": "text", "timestamp": str(int(time.time())), "nonce": uuid.uuid4().hex,
        }
        params["sig"] = sign_params(params, WEBHOOK_SECRET, "sha256")
        request = urllib.request.Request(
            app_server.url + "/webhooks/vonage/inbound", data=json.dumps(params).encode(),
            headers={"content-type": "application/json"}, method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200, response.read()

    return post


@pytest.fixture(scope="session")
def demo_logins() -> dict[str, DemoLogin]:
    """Every demo login by email (acme's admin, full user, assigned-only user; birch's admin)."""
    from groupsms.demo import demo_logins as logins

    return {d["email"]: DemoLogin(d["email"], d["password"], d["name"]) for d in logins()}
