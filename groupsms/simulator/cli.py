"""`groupsms simulator`: run the Vonage simulator until Ctrl+C and print the app's VONAGE_* variables."""

from __future__ import annotations

import argparse
import os
import secrets
import shlex
import signal
import sys
import threading
from pathlib import Path

from groupsms.messaging.signatures import METHODS
from groupsms.simulator.webhooks import DEFAULT_WEBHOOK_METHOD, WEBHOOK_METHODS


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="groupsms simulator",
        description="Run a Vonage SMS API simulator on a loopback address (HTTPS with a throwaway CA).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port (default: any free port)")
    parser.add_argument("--api-key", default=None, help="API key to accept (default: random)")
    parser.add_argument("--api-secret", default=None, help="API secret to accept (default: random)")
    parser.add_argument("--signature-secret", default=None, help="webhook signature secret (default: random)")
    parser.add_argument("--signature-method", default="sha256", choices=METHODS)
    parser.add_argument("--rate-limit", type=float, default=30.0, help="send requests per second per key (30)")
    parser.add_argument("--app-webhook-base", default=None,
                        help="the app's base URL for /webhooks/vonage/{status,inbound}, e.g. http://127.0.0.1:8000")
    parser.add_argument("--webhook-method", default=DEFAULT_WEBHOOK_METHOD, choices=WEBHOOK_METHODS)
    parser.add_argument("--dlr-delay", type=float, default=0.5, help="seconds before each delivery receipt (0.5)")
    parser.add_argument("--ca-dir", default=None, help="directory for the CA file (default: a temporary one)")
    parser.add_argument("--env-file", default=None, help="also write the variables to this file (shell syntax)")
    return parser


def main(argv: list[str] | None = None) -> int:
    from groupsms.simulator.core import Simulator

    args = build_parser().parse_args(argv)
    try:
        simulator = Simulator(
            api_key=args.api_key or secrets.token_hex(4),
            api_secret=args.api_secret or secrets.token_hex(8),
            signature_secret=args.signature_secret or secrets.token_hex(16),
            signature_method=args.signature_method,
            host=args.host,
            port=args.port,
            rate_limit=args.rate_limit,
            app_webhook_base=args.app_webhook_base,
            webhook_method=args.webhook_method,
            dlr_delay=args.dlr_delay,
            ca_dir=args.ca_dir,
        )
        simulator.start()
    except (ValueError, OSError, RuntimeError) as exc:
        print(f"groupsms simulator: {exc}", file=sys.stderr)
        return 2

    stopping = threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    try:
        lines = [f"export {name}={shlex.quote(value)}" for name, value in simulator.env().items()]
        if args.env_file:
            path = Path(args.env_file)
            path.write_text("\n".join(lines) + "\n")
            os.chmod(path, 0o600)  # it holds the simulator's secrets
        print(f"# Vonage simulator on https://{simulator.rest_host}. Start the app with:", flush=True)
        print("\n".join(lines), flush=True)
        print("# Ready (Ctrl+C stops it)", flush=True)
        while not stopping.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        simulator.stop()
    print("# Vonage simulator stopped", flush=True)
    return 0
