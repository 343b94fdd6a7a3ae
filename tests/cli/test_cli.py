"""The `groupsms` command line: dispatch, exit codes, `db upgrade`."""

from __future__ import annotations

from sqlalchemy.engine import make_url

from groupsms import cli


def test_cli_help_exits_zero(capsys):
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in ("db", "load", "demo"):
        assert command in out


def test_cli_usage_errors_exit_two(capsys):
    assert cli.main([]) == 2
    assert cli.main(["no-such-command"]) == 2
    assert cli.main(["db"]) == 2
    assert cli.main(["load"]) == 2
    assert "usage: groupsms" in capsys.readouterr().err


def test_cli_commands_are_registered_by_their_words():
    assert set(cli.COMMANDS) >= {("db", "upgrade"), ("load",), ("demo",)}
    assert all(cli.COMMANDS[words].help for words in cli.COMMANDS)


def test_db_upgrade_never_prints_the_password(clean_db, database_url, monkeypatch, capsys):
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":  # trust auth: the password is accepted and ignored
        url = url.set(password="s3cret-pw")
    monkeypatch.setenv("GROUPSMS_DATABASE_URL", url.render_as_string(hide_password=False))

    assert cli.main(["db", "upgrade"]) == 0

    out = capsys.readouterr().out
    assert out.startswith("Database is at the latest schema (")
    assert "s3cret-pw" not in out
    assert url.database in out


def test_load_into_an_unmigrated_database_says_what_to_do(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GROUPSMS_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    path = tmp_path / "one.json"
    path.write_text('{"locations": [{"ref": "x", "name": "X"}]}')

    assert cli.main(["load", str(path)]) == 1

    err = capsys.readouterr().err
    assert "database error" in err and "groupsms db upgrade" in err
