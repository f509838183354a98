"""`dailypapers check --deploy` and `migrate` say plainly when PostgreSQL lacks the vector
extension, which an ordinary role may not create, and give the one command that fixes it."""

import os
import subprocess
import sys

import pytest
from django.core.checks import run_checks

from tests.pg_roles import role_owning_a_database


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
    import psycopg

    with role_owning_a_database(django_db_blocker, "ord") as (name, role_url, superuser_url):
        env = {**os.environ, "DAILYPAPERS_DATA_DIR": str(tmp_path / "data")}
        env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        env["DATABASE_URL"] = role_url

        def run(*args, **extra):
            return subprocess.run(
                [sys.executable, "-m", "dailypapers", *args], env={**env, **extra},
                capture_output=True, text=True, timeout=300,
            )  # fmt: skip

        def as_superuser(sql):
            with psycopg.connect(superuser_url, autocommit=True) as admin:
                admin.execute(sql)

        yield name, run, as_superuser


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
