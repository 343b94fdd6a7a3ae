"""History at size: the first render of a group holding 50,000 messages and of a conversation list
over 10,000 groups, on SQLite and PostgreSQL.

The page states are driven as the browser drives them (a signed-in root state, the route set, the
real `load` handler); "server time" is the handler's wall time, "bytes" the JSON of the state delta
the first render sends to the browser. The floor beside the server time is the bare SQL the render
cannot do without: the newest page of messages with their deliveries (group), the newest page of
groups with their participants (list).

    .venv/bin/python bench/history.py [sqlite|postgresql ...]
"""

from __future__ import annotations

import asyncio
import inspect
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import reflex as rx  # noqa: E402
from reflex.istate.data import RouterData  # noqa: E402
from reflex_base.utils import format as rx_format  # noqa: E402
from sqlalchemy import insert, text  # noqa: E402

import groupsms.groupsms  # noqa: E402,F401  (builds the app: registers every page and state)
from bench._world import build, database  # noqa: E402
from groupsms import db, live  # noqa: E402
from groupsms.models import Delivery, Group, Message, Participant  # noqa: E402
from groupsms.pages.conversations import ConversationsState  # noqa: E402
from groupsms.pages.group_chat import GroupChatState  # noqa: E402
from groupsms.pages.session import SessionState  # noqa: E402
from groupsms.services import sessions  # noqa: E402

BIG_GROUP_MESSAGES = 50_000
LIST_GROUPS = 10_000
PEOPLE = 9
RUNS = 7
TARGET_MS, TARGET_KB = 300, 200


def _rows(table, values: list[dict], chunk: int = 5_000) -> list[int]:
    """Insert rows in chunks; the new ids in order."""
    ids: list[int] = []
    with db.engine().begin() as conn:
        for start in range(0, len(values), chunk):
            result = conn.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True),
                                  values[start:start + chunk])
            ids.extend(r[0] for r in result)
    return ids


def seed(actor, number_id: int, contacts: list[int]) -> int:
    """The big group (returned) with its messages and deliveries, and the list's other groups."""
    loc, user = actor.location_id, actor.user_id
    group_t, part_t = Group.__table__, Participant.__table__
    msg_t, del_t = Message.__table__, Delivery.__table__
    big = _rows(group_t, [{"location_id": loc, "business_number_id": number_id, "created_by_id": user,
                           "name": "12 Maple Ridge closing"}])[0]
    members = contacts[:PEOPLE]
    parts = _rows(part_t, [{"group_id": big, "contact_id": c, "which": "primary", "name": f"Client {i:04d}",
                            "e164": f"+1512555{2000 + i:04d}", "position": i} for i, c in enumerate(members)])
    bodies = [{"location_id": loc, "group_id": big, "business_number_id": number_id,
               "direction": "outbound" if i % 2 == 0 else "inbound",
               "sender_user_id": user if i % 2 == 0 else None,
               "sender_participant_id": None if i % 2 == 0 else parts[i % PEOPLE],
               "body": f"Message {i}: the inspection is on Thursday at {i % 12 + 1} pm, bring the keys",
               "status": "delivered", "routing": "routed"} for i in range(BIG_GROUP_MESSAGES)]
    ids = _rows(msg_t, bodies)
    deliveries = [{"message_id": mid, "participant_id": pid, "to_e164": f"+1512555{2000 + n:04d}",
                   "status": "delivered", "lane": f"{number_id}:{n}", "parts_total": 1, "parts_accepted": 1}
                  for k, mid in enumerate(ids) if k % 2 == 0 for n, pid in enumerate(parts)]
    _rows(del_t, deliveries, chunk=20_000)
    others = _rows(group_t, [{"location_id": loc, "business_number_id": number_id, "created_by_id": user,
                              "name": f"Listing {g}" if g % 3 == 0 else ""} for g in range(LIST_GROUPS - 1)])
    _rows(part_t, [{"group_id": gid, "contact_id": contacts[(g + j) % len(contacts)], "which": "primary",
                    "name": f"Client {(g + j) % len(contacts):04d}",
                    "e164": f"+1512555{2000 + (g + j) % len(contacts):04d}", "position": j}
                   for g, gid in enumerate(others) for j in range(3)], chunk=20_000)
    _rows(msg_t, [{"location_id": loc, "group_id": gid, "business_number_id": number_id, "direction": "inbound",
                   "body": f"Is the open house still on? ({g})", "status": "none", "routing": "routed"}
                  for g, gid in enumerate(others)], chunk=20_000)
    with db.engine().begin() as conn:
        conn.execute(text("ANALYZE"))  # fresh statistics, as a database that grew over time has
    return big


def _page_state(cls, token: str, path: str):
    root = rx.State(_reflex_internal_init=True)
    root.get_substate(SessionState.get_full_name().split(".")[1:]).session_token = token
    state = root.get_substate(cls.get_full_name().split(".")[1:])
    root.router = RouterData.from_router_data({"pathname": path, "asPath": path,
                                               "headers": {"host": "localhost"}, "query": {}})
    return root, state


async def _run(handler, state) -> None:
    result = handler.fn(state)
    if inspect.isasyncgen(result):
        async for _ in result:
            pass
    elif inspect.isawaitable(result):
        await result


def first_render(cls, token: str, path: str, shown: str) -> tuple[list[float], int, int]:
    """Server milliseconds of each run of the page's load, the bytes of the first delta, and how
    many items (`shown`: the state's list field) the page holds after it."""
    times, size, count = [], 0, 0
    for _ in range(RUNS):
        root, state = _page_state(cls, token, path)
        started = time.perf_counter()
        asyncio.run(_run(cls.event_handlers["load"], state))
        times.append((time.perf_counter() - started) * 1000)
        size = len(rx_format.json_dumps(root.get_delta()).encode())
        count = len(getattr(state, shown))
    if not count:
        raise SystemExit(f"{cls.__name__} showed nothing at {path}: the benchmark measured an empty page")
    return times, size, count


def _sql_floor(sql: str, params: dict) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        with db.engine().connect() as conn:
            conn.execute(text(sql), params).all()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


GROUP_FLOOR_SQL = """
SELECT m.id, m.body, m.status, d.status FROM
  (SELECT id, body, status FROM message WHERE group_id = :g ORDER BY created_at DESC, id DESC LIMIT 30) m
LEFT JOIN delivery d ON d.message_id = m.id
"""
LIST_FLOOR_SQL = """
SELECT g.id, g.name, p.name FROM
  (SELECT id, name FROM chat_group WHERE location_id = :loc ORDER BY last_activity_at DESC, id DESC LIMIT 50) g
JOIN participant p ON p.group_id = g.id
"""


def run_backend(backend: str) -> list[dict]:
    from bench.run import row  # one row format for the whole table

    async def no_live(*_args, **_kwargs) -> None:  # no app server: nothing to push to
        return None

    live.link = live.link_location = no_live
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        url, drop = database(backend, tmp)
        try:
            db.init(url)
            actor, number_id, contacts = build(200)
            started = time.monotonic()
            big = seed(actor, number_id, contacts)
            print(f"[history] {backend}: seeded {BIG_GROUP_MESSAGES:,} messages and {LIST_GROUPS:,} groups "
                  f"in {time.monotonic() - started:.0f} s", flush=True)
            token, _ = sessions.sign_in("admin@bench.test", "bench-password")
            for label, cls, path, shown, sql, params in (
                (f"history: open a group of {BIG_GROUP_MESSAGES:,} messages", GroupChatState, f"/groups/{big}",
                 "bubbles", GROUP_FLOOR_SQL, {"g": big}),
                (f"history: conversation list of {LIST_GROUPS:,} groups", ConversationsState, "/",
                 "groups", LIST_FLOOR_SQL, {"loc": actor.location_id}),
            ):
                times, size, count = first_render(cls, token, path, shown)
                print(f"[history] {backend}: {path} shows {count} {shown}, {size:,} bytes", flush=True)
                median, worst = statistics.median(times), max(times)
                floor = _sql_floor(sql, params)
                rows.append(row(backend, f"{label}, server p50", median, "ms", floor, "bare SQL of the page",
                                f"<= {TARGET_MS} ms", median <= TARGET_MS))
                rows.append(row(backend, f"{label}, server worst of {RUNS}", worst, "ms", floor,
                                "bare SQL of the page", f"<= {TARGET_MS} ms", worst <= TARGET_MS))
                rows.append(row(backend, f"{label}, bytes to the browser", size / 1024, "KB", None, "",
                                f"<= {TARGET_KB} KB", size / 1024 <= TARGET_KB))
        finally:
            drop()
    return rows


def main(backends: list[str]) -> None:
    from bench.run import print_table

    rows = [r for backend in backends for r in run_backend(backend)]
    print_table(rows)


if __name__ == "__main__":
    main(sys.argv[1:] or ["sqlite", "postgresql"])
