"""`groupsms send --key`: a script that reruns a send with the same key sends nothing new."""

from __future__ import annotations

import json

from sqlmodel import func, select

from groupsms import cli, db
from groupsms.models import Delivery, Message
from groupsms.services import groups
from tests.services.conftest import pick


def test_send_with_the_same_key_twice_prints_the_first_message_and_queues_nothing_more(
    world, database_url, monkeypatch, capsys
):
    monkeypatch.setenv("GROUPSMS_DATABASE_URL", database_url)
    gid = groups.create_group(world.actors["bo"], world.numbers["main"], pick(world, "carla", "dan"))
    argv = ["send", "--as", "bo@acme.test", "--group", str(gid), "--key", "nightly-reminder-2026-12-01", "Rent due"]
    assert cli.main(argv) == 0
    first = json.loads(capsys.readouterr().out)
    assert cli.main(argv) == 0
    assert json.loads(capsys.readouterr().out) == first
    with db.transaction() as s:
        assert s.exec(select(func.count()).select_from(Message)).one() == 1
        assert s.exec(select(func.count()).select_from(Delivery)).one() == 2
    assert cli.main(["send", "--as", "bo@acme.test", "--group", str(gid), "--key", "bad key", "x"]) == 1
    assert "Compose key must be 16 to 64 letters" in capsys.readouterr().err
