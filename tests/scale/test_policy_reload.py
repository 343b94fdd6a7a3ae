"""E9: a role permission edited through one process takes effect in every other worker process, at its
next check, through the policy version row (no restart, no message between the processes)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from groupsms.services import policy as policy_service

ROOT = Path(__file__).resolve().parents[2]
# A second worker: its own process and enforcer, answering "ROLE LOCATION OBJECT ACTION" lines.
OTHER_WORKER = """
import sys
from groupsms import db
from groupsms.access import policy
db.init(sys.argv[1])
for line in sys.stdin:
    role, location, obj, act = line.split()
    with db.transaction() as s:
        print(policy.ENFORCER.allowed(s, role, int(location), obj, act), flush=True)
"""


def test_e9_a_permission_edit_reaches_a_second_worker_process(world, database_url):
    other = subprocess.Popen([sys.executable, "-c", OTHER_WORKER, database_url], cwd=ROOT, text=True,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    location = world.locations["acme"]

    def other_allows() -> bool:
        other.stdin.write(f"user {location} contact write\n")
        other.stdin.flush()
        answer = other.stdout.readline().strip()
        assert answer in ("True", "False"), answer
        return answer == "True"

    try:
        assert other_allows()  # the default policy; the other worker has loaded its enforcer now
        assert policy_service.set_role_permission(world.actors["ada"], "user", "contact", "write", False)
        assert not other_allows()
        assert policy_service.set_role_permission(world.actors["ada"], "user", "contact", "write", True)
        assert other_allows()
    finally:
        other.stdin.close()
        other.wait(timeout=20)
