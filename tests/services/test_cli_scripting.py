"""`groupsms group create` and `groupsms send`: the same services and refusals as the pages (README: Using it)."""

from __future__ import annotations

import argparse
import json

import pytest

from groupsms import cli
from groupsms.services import contacts


@pytest.fixture
def run(world, database_url, monkeypatch, capsys):
    monkeypatch.setenv("GROUPSMS_DATABASE_URL", database_url)

    def invoke(*argv: str) -> tuple[int, dict, str]:
        code = cli.main(list(argv))
        out, err = capsys.readouterr()
        return code, json.loads(out) if out.strip() else {}, err

    return invoke


def test_group_create_and_send_print_the_ids_as_json(run):
    code, out, _ = run("group", "create", "--as", "bo@acme.test", "--from", "(512) 555-0100",
                       "--participant", "carla", "--participant", "carla:secondary", "--participant", "dan")
    assert code == 0 and isinstance(out["group_id"], int)
    code, sent, _ = run("send", "--as", "bo@acme.test", "--group", str(out["group_id"]), "Open house moved to 4pm")
    assert code == 0 and isinstance(sent["message_id"], int)


@pytest.mark.parametrize(
    "argv, reason",
    [
        (["--from", "+15125550100", "--participant", "carla"], "at least 2 participants"),  # R2
        (["--from", "+15125550100", "--participant", "carla", "--participant", "ivy"], "DND enabled"),  # R3
        (["--from", "+15125550100", "--participant", "carla", "--participant", "jon"], "US/Canada"),  # R3
        (["--from", "+15125550101", "--participant", "carla", "--participant", "dan"], "Number not found"),  # R12
        (["--from", "+15125550100", "--participant", "carla", "--participant", "hal"], "Contact not found"),  # R11
        (["--from", "+15125550100", "--participant", "carla", "--participant", "nobody"], "'nobody' not found"),
        (["--from", "+17375550100", "--participant", "carla", "--participant", "dan"], "not found"),  # R14
    ],
)
def test_r2_r3_r11_r12_group_create_refuses_with_the_pages_reasons(run, argv, reason):
    code, _, err = run("group", "create", "--as", "bo@acme.test", *argv)
    assert code == 1 and reason in err


def test_r13_r10_send_refuses_with_the_reason(run, world):
    _, made, _ = run("group", "create", "--as", "dana@acme.test", "--from", "+15125550101",
                     "--participant", "carla", "--participant", "dan")
    code, _, err = run("send", "--as", "bo@acme.test", "--group", str(made["group_id"]), "hi")
    assert code == 1 and "(512) 555-0101" in err  # R13: Bo sees the group but not its number
    contacts.set_contact_dnd(world.actors["ada"], world.contacts["dan"], True)
    code, _, err = run("send", "--as", "dana@acme.test", "--group", str(made["group_id"]), "hi")
    assert code == 1 and "Dan Buyer enabled DND" in err  # R10
    code, _, err = run("send", "--as", "zed@birch.test", "--group", str(made["group_id"]), "hi")
    assert code == 1 and "Group not found" in err  # R14


def test_r9_there_is_no_command_to_change_members_or_the_number():
    commands = {" ".join(words) for words in cli.COMMANDS}
    # `numbers ...` gives provider numbers to locations; none takes a group, and `numbers unassign`
    # refuses a number a group uses (tests/services/test_provider_numbers.py).
    owner = {c for c in commands if c.startswith("numbers ")}
    assert owner == {"numbers sync", "numbers list", "numbers assign", "numbers unassign"}
    for words, command in cli.COMMANDS.items():
        if words[0] == "numbers" and command.arguments:
            parser = argparse.ArgumentParser()
            command.arguments(parser)
            assert not [a.dest for a in parser._actions if "group" in a.dest], words
    commands -= owner
    assert not {c for c in commands if any(w in c for w in ("member", "participant", "number", "edit"))}


def test_unknown_user_is_refused(run):
    code, _, err = run("send", "--as", "ghost@acme.test", "--group", "1", "hi")
    assert code == 1 and "no active user" in err
