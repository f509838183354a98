"""`dailypapers export` then `import` moves a whole instance to another database (SQLite to
PostgreSQL, and SQLite to SQLite): members, passwords, tokens, votes, comments,
subscriptions, deliveries all survive; bad files and non-empty targets are refused."""

import pytest

from tests.backups.conftest import Instance


def move(source, target, tmp_path):
    secret = source.populate()
    before = source.snapshot(secret)
    dump = tmp_path / "instance.jsonl.gz"
    assert "exported" in source.run("export", str(dump), "--no-progress").stdout
    target.run("migrate", "-v0")
    dry = target.run("import", str(dump), "--dry-run", "--no-progress")
    assert "nothing was changed" in dry.stdout and "papers.Paper: 5" in dry.stdout
    done = target.run("import", str(dump), "--no-progress", "--no-reindex")
    assert "papers.Vote: 4" in done.stdout and "imported" in done.stdout
    assert target.snapshot(secret) == before
    # New rows get new ids after the imported ones (PostgreSQL's sequences were moved on).
    target.shell(
        "from django.contrib.auth import get_user_model; "
        "print(get_user_model().objects.create_user('newcomer').pk)"
    )
    return dump


@pytest.mark.slow  # a dozen CLI runs; CI runs it, and the PostgreSQL move below
def test_it_moves_an_instance_from_sqlite_to_sqlite(instance, tmp_path):
    target = Instance(tmp_path / "target")
    dump = move(instance, target, tmp_path)
    again = target.run("import", str(dump), "--no-progress", check=False)
    assert again.returncode == 1 and "has members or papers already" in again.stderr


def test_it_moves_an_instance_from_sqlite_to_postgresql(instance, tmp_path, scratch_postgres):
    move(instance, Instance(tmp_path / "target", database_url=scratch_postgres), tmp_path)


def test_it_refuses_a_file_that_is_not_an_export(instance, tmp_path):
    instance.run("migrate", "-v0")
    for text in ['{"model": "nothing.here", "pk": 1, "fields": {}}\n', "not json at all\n"]:
        bad = tmp_path / "bad.jsonl"
        bad.write_text(text)
        done = instance.run("import", str(bad), "--no-progress", check=False)
        assert done.returncode == 1 and "is not a dailypapers export" in done.stderr, text
