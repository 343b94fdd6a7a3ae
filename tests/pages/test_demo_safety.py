"""`make run` (the demo) listens on this machine only unless HOST says otherwise."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run_command(*make_args: str) -> str:
    out = subprocess.run(["make", "-n", "run", *make_args], cwd=ROOT, capture_output=True, text=True, check=True,
                         timeout=60)
    return next(line for line in out.stdout.splitlines() if "reflex\" run" in line or "reflex run" in line)


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_run_listens_on_localhost_unless_host_says_otherwise():
    assert "--backend-host 127.0.0.1" in _run_command()
    assert "--backend-host 0.0.0.0" in _run_command("HOST=0.0.0.0")


def test_bare_reflex_run_listens_on_localhost():
    import rxconfig

    assert rxconfig.config.backend_host == "127.0.0.1"
