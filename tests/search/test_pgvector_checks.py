"""`dailypapers check --deploy` and `migrate` say plainly when PostgreSQL lacks the vector
extension, which an ordinary role may not create, and give the one command that fixes it."""

import os
import subprocess
import sys

import pytest
from django.core.checks import run_checks


def ids(**kwargs):
    return {problem.id for problem in run_checks(include_deployment_checks=True, **kwargs)}


def test_sqlite_and_the_memory_index_need_no_extension(settings, db):
    settings.SEARCH_VECTOR_INDEX = "memory"
    assert not {"search.W001", "search.E002"} & ids()
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        return
    settings.SEARCH_VECTOR_INDEX = "auto"
    assert not {"search.W001", "search.E002"} & ids()


@pytest.fixture
def ordinary_role(django_db_blocker, tmp_path):
    """A non-superuser role owning an empty database, no extension in it; a CLI runner."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        pytest.skip("needs PostgreSQL: runs when DATABASE_URL points at one (CI's second pass)")
    import psycopg
    from django.db import connection

    name = f"{connection.settings_dict['NAME']}_ord{os.getpid()}"
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_available_extensions WHERE name = 'vector'")
        if not cursor.fetchone()[0]:
            pytest.skip("needs the pgvector package in the PostgreSQL server")
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'DROP ROLE IF EXISTS "{name}"')
        cursor.execute(f"CREATE ROLE \"{name}\" LOGIN PASSWORD 'app-pass' NOSUPERUSER")
        cursor.execute(f'CREATE DATABASE "{name}" OWNER "{name}"')
    server = url.rsplit("/", 1)[0]
    env = {**os.environ, "DAILYPAPERS_DATA_DIR": str(tmp_path / "data")}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    env["DATABASE_URL"] = f"postgres://{name}:app-pass@{server.split('@', 1)[1]}/{name}"

    def run(*args, **extra):
        return subprocess.run(
            [sys.executable, "-m", "dailypapers", *args], env={**env, **extra},
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip

    def as_superuser(sql):
        with psycopg.connect(f"{server}/{name}", autocommit=True) as admin:
            admin.execute(sql)

    yield name, run, as_superuser
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'DROP ROLE IF EXISTS "{name}"')


def test_an_ordinary_role_is_told_to_have_a_superuser_create_the_extension(ordinary_role):
    name, run, as_superuser = ordinary_role
    command = f'psql -d {name} -c "CREATE EXTENSION vector"'
    migrate = run("migrate", "-v1")
    assert migrate.returncode == 0, migrate.stderr[-2000:]
    assert "WARNING: pgvector is not enabled (permission denied" in migrate.stdout
    assert command in migrate.stdout

    # (Other deploy checks speak too: a test instance is no production.)
    check = run("check", "--deploy")
    assert "(search.W001) The vector extension (pgvector) is not enabled" in check.stderr
    assert command in check.stderr and "dailypapers search reindex" in check.stderr
    strict = run("check", "--deploy", DAILYPAPERS_VECTOR_INDEX="pgvector")
    assert "(search.E002)" in strict.stderr, strict.stderr[-2000:]
    assert "search.W001" not in run("check", "--deploy", DAILYPAPERS_VECTOR_INDEX="memory").stderr

    as_superuser("CREATE EXTENSION vector")
    check = run("check", "--deploy")
    assert "System check identified" in check.stderr and "search.W001" not in check.stderr
    assert "Traceback" not in migrate.stderr + check.stderr
