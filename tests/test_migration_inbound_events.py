"""Upgrading keeps stored webhook events right: long-text parts joined before are marked joined
(the timeout sweep must not store them again) and events still unprocessed are due for a retry."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text

from groupsms import db, migrations

BEFORE = "e8517c28d465"


def test_upgrade_marks_parts_joined_before_and_makes_pending_events_due(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    command.upgrade(migrations.alembic_config(url), BEFORE)
    engine = db.make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO location (id, ref, name, created_at) VALUES (1, 'acme', 'Acme', "
                              "'2026-11-30 10:00:00')"))
            conn.execute(text("INSERT INTO business_number (id, location_id, ref, e164, label, is_default, sms_capable, "
                              "created_at) VALUES (1, 1, 'main', '+15125550100', 'Main', 1, 1, '2026-11-30 10:00:00')"))
            conn.execute(text(
                "INSERT INTO message (id, location_id, business_number_id, direction, routing, body, status, "
                "provider_ref, created_at) VALUES (7, 1, 1, 'inbound', 'unrouted', 'ab', 'none', "
                "'concat:15125550111:15125550100:42', '2026-11-30 10:00:00')"))
            for i, (key, processed) in enumerate([("15125550111:15125550100:42", "'2026-11-30 10:00:01'"),
                                                  ("15125550111:15125550100:42", "'2026-11-30 10:00:01'"),
                                                  ("15125550111:15125550100:43", "'2026-11-30 10:00:01'"),
                                                  (None, "NULL")], start=1):
                conn.execute(text(
                    "INSERT INTO inbound_event (id, kind, provider_message_id, concat_key, payload, received_at, "
                    f"processed_at) VALUES ({i}, 'inbound', 'm{i}', :key, '{{}}', '2026-11-30 10:00:00', "
                    f"{processed})"), {"key": key})
        engine.dispose()
        migrations.upgrade(url)
        engine = db.make_engine(url)
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT id, consumed_by_message_id, next_attempt_at FROM inbound_event "
                                     "ORDER BY id")).all()
        assert [(r[0], r[1]) for r in rows] == [(1, 7), (2, 7), (3, None), (4, None)]
        assert [r[2] is not None for r in rows] == [False, False, False, True]
    finally:
        engine.dispose()
