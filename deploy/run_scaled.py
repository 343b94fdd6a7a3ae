"""Scale-out on one machine: PostgreSQL, Redis, several app workers, several outbox workers, and (without
VONAGE_API_KEY) one Vonage simulator that every process sends through. `make run-scaled` runs it.

    python deploy/run_scaled.py [--port 3000] [--host 127.0.0.1] [--app-workers 2] [--workers 2]

Started in this order, stopped together (Ctrl+C, SIGTERM, or any one of them exiting stops the rest):
1. without VONAGE_API_KEY: `groupsms simulator`, whose VONAGE_* variables (URL, keys, signature secret,
   CA file) go into the environment of every other process, so all of them share one simulator;
2. `groupsms db upgrade` and `groupsms demo` (once);
3. `reflex run --env prod`, with GRANIAN_WORKERS app workers sharing the Redis state store, and
   GROUPSMS_WORKER_IN_APP=0: the app workers serve pages and webhooks and send nothing;
4. N `groupsms worker` processes draining the outbox under one Redis-held send rate.

Defaults: GROUPSMS_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/groupsms (the database
is created when missing) and REFLEX_REDIS_URL=redis://127.0.0.1:6379/0; set either to use others.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/groupsms"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def say(text: str) -> None:
    print(f"[run-scaled] {text}", flush=True)


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database named in `url` when it does not exist yet."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            found = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": parsed.database}).first()
            if not found:
                conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
                say(f"created database {parsed.database}")
    finally:
        admin.dispose()


def check_redis(url: str) -> None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        raise SystemExit(f"[run-scaled] Redis at {url} does not answer: {exc}") from None


def read_env_file(path: Path) -> dict[str, str]:
    """The `export NAME=value` lines `groupsms simulator --env-file` writes."""
    import shlex

    env = {}
    for line in path.read_text().splitlines():
        if line.startswith("export "):
            name, _, value = line[len("export "):].partition("=")
            env[name] = shlex.split(value)[0] if value else ""
    return env


class Supervisor:
    def __init__(self) -> None:
        self.children: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen:
        # Each child in its own process group: `reflex run` starts granian workers and the frontend
        # server under it, and a stop must reach all of them.
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, start_new_session=True)
        self.children.append((name, process))
        say(f"started {name} (pid {process.pid})")
        return process

    def exited(self) -> tuple[str, int] | None:
        for name, process in self.children:
            if process.poll() is not None:
                return name, process.returncode
        return None

    def stop_all(self) -> None:
        # Workers first (they finish the sends in flight), then the app, the simulator last.
        for name, process in reversed(self.children):
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 20
        for name, process in reversed(self.children):
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                say(f"{name} did not stop in time: killing it")
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait(timeout=10)
        say("everything stopped")


def run_once(command: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise SystemExit(f"[run-scaled] {' '.join(command)} failed with exit code {done.returncode}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="run_scaled", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT") or 3000))
    parser.add_argument("--host", default=os.environ.get("HOST") or "127.0.0.1")
    parser.add_argument("--app-workers", type=int, default=2, help="Reflex backend (granian) workers")
    parser.add_argument("--workers", type=int, default=2, help="`groupsms worker` processes")
    parser.add_argument("--concurrency", type=int, default=8, help="sends in flight per worker")
    args = parser.parse_args(argv)
    if args.app_workers < 1 or args.workers < 1:
        parser.error("--app-workers and --workers must be at least 1")

    env = dict(os.environ)
    env.setdefault("GROUPSMS_DATABASE_URL", DEFAULT_DATABASE_URL)
    env.setdefault("REFLEX_REDIS_URL", DEFAULT_REDIS_URL)
    env["GRANIAN_WORKERS"] = str(args.app_workers)
    env["GROUPSMS_WORKER_IN_APP"] = "0"
    env["PORT"] = str(args.port)
    env["PYTHONUNBUFFERED"] = "1"
    ensure_database(env["GROUPSMS_DATABASE_URL"])
    check_redis(env["REFLEX_REDIS_URL"])

    supervisor = Supervisor()
    stopping = []

    def on_signal(signum, _frame) -> None:  # noqa: ANN001
        stopping.append(signum)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    groupsms = str(BIN / "groupsms")
    try:
        if not env.get("VONAGE_API_KEY"):
            run_dir = ROOT / "var"
            run_dir.mkdir(exist_ok=True)
            env_file = run_dir / "simulator.env"
            env_file.unlink(missing_ok=True)
            supervisor.start("simulator", [
                groupsms, "simulator", "--", "--app-webhook-base", f"http://127.0.0.1:{args.port}",
                "--dlr-delay", "0.3", "--rate-limit", env.get("GROUPSMS_SMS_RATE") or "30",
                "--ca-dir", str(run_dir / "simulator-ca"), "--env-file", str(env_file),
            ], env)
            deadline = time.monotonic() + 30
            while not env_file.exists() or "VONAGE_API_KEY" not in env_file.read_text():
                if supervisor.exited() or stopping or time.monotonic() > deadline:
                    raise SystemExit("[run-scaled] the simulator did not start")
                time.sleep(0.1)
            env.update(read_env_file(env_file))
            # The app's Phones page reads the handsets of this one simulator through its control API.
            env["GROUPSMS_SIMULATOR"] = "external"
            say(f"one simulator for every process at https://{env['VONAGE_REST_HOST']}")
        run_once([groupsms, "db", "upgrade"], env)
        run_once([groupsms, "numbers", "sync"], env)  # the numbers the account (or simulator) owns
        run_once([groupsms, "demo"], env)
        supervisor.start("app", [
            str(BIN / "reflex"), "run", "--env", "prod", "--frontend-port", str(args.port),
            "--backend-host", args.host,
        ], env)
        for n in range(args.workers):
            supervisor.start(f"worker {n + 1}", [groupsms, "worker", "--concurrency", str(args.concurrency)], env)
        say(f"http://localhost:{args.port}: {args.app_workers} app workers, {args.workers} outbox workers "
            "(Ctrl+C stops everything)")
        while not stopping:
            gone = supervisor.exited()
            if gone:
                say(f"{gone[0]} exited with code {gone[1]}: stopping everything")
                return 1
            time.sleep(0.5)
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        supervisor.stop_all()


if __name__ == "__main__":
    raise SystemExit(main())
