"""`dailypapers backup` then `restore` gives back exactly what was there (SQLite's online
backup API; pg_dump/pg_restore on PostgreSQL), and refuses files that are not backups."""

import os
import shutil
import sqlite3

import pytest
from django.conf import settings

DELETE_SOME = """
from dailypapers.papers.models import Paper
from django.contrib.auth import get_user_model
Paper.objects.filter(arxiv_id="2611.00001").delete()
get_user_model().objects.filter(username="bob").delete()
print("deleted")
"""


def test_it_backs_up_and_restores_a_sqlite_instance(instance, tmp_path):
    secret = instance.populate()
    before = instance.snapshot(secret)
    assert before["votes"] and before["token_works"] and before["deliveries"]
    backup = tmp_path / "copy.sqlite3"
    done = instance.run("backup", "--output", str(backup), "--no-progress")
    assert f"backed up to {backup}" in done.stdout
    db = sqlite3.connect(backup)
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert db.execute("PRAGMA journal_mode").fetchone() == ("delete",)  # one file, no -wal
    db.close()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["copy.sqlite3", "data"]

    instance.shell(DELETE_SOME)
    assert instance.snapshot(secret) != before
    assert "good sqlite backup" in instance.run("restore", str(backup), "--dry-run").stdout
    refused = instance.run("restore", str(backup), check=False, stdin="no\n")
    assert refused.returncode == 1 and "dailypapers: nothing was changed." in refused.stderr
    instance.run("restore", str(backup), "--yes", "--no-progress", "--no-reindex")
    assert instance.snapshot(secret) == before


def test_it_refuses_what_is_not_a_backup(instance, tmp_path):
    instance.run("migrate", "-v0")
    text = tmp_path / "notes.txt"
    text.write_text("not a database")
    other = tmp_path / "other.sqlite3"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    for path, message in [
        (text, "is not a readable SQLite database"),
        (other, "not one of dailypapers"),
        (tmp_path / "missing.sqlite3", "is not a file"),
    ]:
        done = instance.run("restore", str(path), "--yes", check=False)
        assert done.returncode == 1 and message in done.stderr, done.stderr
    existing = instance.run("backup", "--output", str(text), check=False)
    assert existing.returncode == 1 and "exists already" in existing.stderr


def test_a_backup_that_cannot_be_made_says_why_in_a_sentence(instance, tmp_path):
    never_migrated = instance.run("backup", "--no-progress", check=False)
    assert never_migrated.returncode == 1, never_migrated.stderr
    assert "is not set up (never migrated): there is nothing to back up" in never_migrated.stderr
    assert ".partial" not in never_migrated.stderr
    instance.run("migrate", "-v0")
    unwritable = instance.run("backup", "--output", "/proc/copy.sqlite3", check=False)
    assert unwritable.returncode == 1 and "Traceback" not in unwritable.stderr, unwritable.stderr
    assert "dailypapers: cannot write the backup /proc/copy.sqlite3" in unwritable.stderr


def test_it_backs_up_and_restores_a_postgresql_instance(instance, tmp_path, scratch_postgres):
    if shutil.which("pg_dump", path=settings.PG_BIN or None) is None:
        message = "pg_dump is not installed (set DAILYPAPERS_PG_BIN to the server's bin/)"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI has it: a skip there would hide a broken restore
        pytest.skip(message)
    instance.env["DATABASE_URL"] = scratch_postgres
    secret = instance.populate()
    before = instance.snapshot(secret)
    backup = tmp_path / "copy.pgdump"
    instance.run("backup", "--output", str(backup), "--no-progress")
    instance.shell(DELETE_SOME)
    assert instance.snapshot(secret) != before
    instance.run("restore", str(backup), "--yes", "--no-progress", "--no-reindex")
    assert instance.snapshot(secret) == before


OWNERS = """
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'")
    owners = sorted(row[0] for row in cursor.fetchall())
    cursor.execute("SELECT to_regclass('search_pgvector') IS NOT NULL")
    vectors = cursor.fetchone()[0]
print(owners, vectors)
"""
DROP_VECTORS = """
from django.db import connection
connection.cursor().execute("DROP TABLE IF EXISTS search_pgvector")
print("dropped")
"""
DROP_EXTENSION = """
from django.db import connection
connection.cursor().execute("DROP EXTENSION vector CASCADE")
print("dropped")
"""
WRITE = """
from django.contrib.auth import get_user_model
from dailypapers.papers.models import Paper
from dailypapers.papers.services import vote_cast
cy = get_user_model().objects.create_user("cy", "cy@example.org", "a pass phrase 3")
vote_cast(user=cy, paper=Paper.objects.get(arxiv_id="2611.00005"))
print(Paper.objects.get(arxiv_id="2611.00005").upvotes)
"""


def needs_pg_dump():
    if shutil.which("pg_dump", path=settings.PG_BIN or None) is None:
        message = "pg_dump is not installed (set DAILYPAPERS_PG_BIN to the server's bin/)"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI has it: a skip there would hide a broken restore
        pytest.skip(message)


def test_the_app_role_restores_and_a_superuser_restore_leaves_it_the_tables(
    instance, tmp_path, app_role_postgres
):
    """Production's set-up: the app's role is no superuser but owns its database, where a
    superuser created the vector extension once. A restore as that role must not touch the
    extension (only its owner may drop it); one as a superuser must leave the tables to the
    database's owner, not to itself, or the site can no longer read them."""
    needs_pg_dump()
    app_url, superuser_url = app_role_postgres
    role = app_url.split("//", 1)[1].split(":", 1)[0]
    instance.env["DATABASE_URL"] = app_url
    secret = instance.populate()
    before = instance.snapshot(secret)
    assert instance.shell(OWNERS) == f"['{role}'] True"  # migrate made the pgvector table
    # Left out of the backup and dropped before the superuser's restore: `search reindex`
    # makes it again there (pgvector.table_ready), as the role that owns the rest.
    instance.shell(DROP_VECTORS)
    backup = tmp_path / "copy.pgdump"
    instance.run("backup", "--output", str(backup), "--no-progress")

    instance.shell(DELETE_SOME)
    instance.run("restore", str(backup), "--yes", "--no-progress", "--no-reindex")
    assert instance.snapshot(secret) == before

    instance.shell(DELETE_SOME)
    instance.shell(DROP_VECTORS)  # deleting papers may have made it again
    instance.env["DATABASE_URL"] = superuser_url
    done = instance.run("restore", str(backup), "--yes", "--no-progress")
    instance.env["DATABASE_URL"] = app_url
    # Every table is the app role's, the pgvector one that `search reindex` made back included.
    assert instance.shell(OWNERS) == f"['{role}'] True"
    assert instance.snapshot(secret) == before
    assert instance.shell(WRITE) == "1"
    assert f"(tables owned by {role})" in done.stdout


def test_a_restore_says_which_extension_a_superuser_must_create_first(
    instance, tmp_path, app_role_postgres
):
    needs_pg_dump()
    app_url, superuser_url = app_role_postgres
    instance.env["DATABASE_URL"] = app_url
    instance.populate()
    backup = tmp_path / "copy.pgdump"
    instance.run("backup", "--output", str(backup), "--no-progress")
    instance.env["DATABASE_URL"] = superuser_url
    instance.shell(DROP_EXTENSION)
    instance.env["DATABASE_URL"] = app_url
    for args in (["--dry-run"], ["--yes", "--no-progress"]):
        done = instance.run("restore", str(backup), *args, check=False)
        assert done.returncode == 1, done.stdout
        assert "needs the PostgreSQL extension(s) vector" in done.stderr, done.stderr
        assert "CREATE EXTENSION IF NOT EXISTS vector" in done.stderr
    assert instance.shell("from dailypapers.papers.models import Paper\n"
                          "print(Paper.objects.count())") == "5"  # fmt: skip


def old_pg_tools(folder, error):
    """pg_dump and pg_restore that fail as ones older than the server or the archive do
    (pg_dump creates its --file before it gives up)."""
    folder.mkdir()
    for name in ("pg_dump", "pg_restore"):
        script = folder / name
        script.write_text(
            "#!/bin/sh\n"
            'for arg; do case "$arg" in --file=*) : > "${arg#--file=}";; esac; done\n'
            f'echo "{name}: error: {error}" >&2\n'
            "exit 1\n"
        )
        script.chmod(0o755)
    return str(folder)


def test_a_pg_restore_too_old_for_the_archive_says_so(instance, tmp_path, scratch_postgres):
    instance.env["DAILYPAPERS_PG_BIN"] = old_pg_tools(
        tmp_path / "bin", "unsupported version (1.16) in file header"
    )
    instance.env["DATABASE_URL"] = scratch_postgres
    archive = tmp_path / "new.pgdump"
    archive.write_bytes(b"PGDMP\x01\x10\x00\x04\x08\x01\x01")  # a format 1.16 header
    for args in (["--dry-run"], ["--yes", "--no-progress"]):
        done = instance.run("restore", str(archive), *args, check=False)
        assert done.returncode == 1, done.stdout
        assert "was written by a newer pg_dump than" in done.stderr, done.stderr
        assert "Point DAILYPAPERS_PG_BIN at the client programs of the server's version" in (
            done.stderr
        )
        assert "not a pg_dump archive" not in done.stderr


def test_a_failed_backup_leaves_no_partial_file(instance, tmp_path, scratch_postgres):
    instance.env["DAILYPAPERS_PG_BIN"] = old_pg_tools(
        tmp_path / "bin", "aborting because of server version mismatch"
    )
    instance.env["DATABASE_URL"] = scratch_postgres
    instance.run("migrate", "-v0")  # a database never migrated has nothing to back up
    done = instance.run("backup", "--no-progress", check=False)
    assert done.returncode == 1 and "server version mismatch" in done.stderr, done.stderr
    assert "Point DAILYPAPERS_PG_BIN" in done.stderr
    assert list((tmp_path / "data" / "backups").iterdir()) == []
