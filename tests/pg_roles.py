"""A database owned by an ordinary PostgreSQL role, as docs/operations.md sets production up."""

import contextlib
import os

import pytest


@contextlib.contextmanager
def role_owning_a_database(django_db_blocker, suffix):
    """A non-superuser role and a database it owns, both named after the test database and
    `suffix`: yields (name, the role's URL, a superuser's URL of that database). Skips
    without PostgreSQL (CI's second pass) or the pgvector package in the server."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        pytest.skip("needs PostgreSQL: runs when DATABASE_URL points at one (CI's second pass)")
    from django.db import connection

    name = f"{connection.settings_dict['NAME']}_{suffix}{os.getpid()}"
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_available_extensions WHERE name = 'vector'")
        if not cursor.fetchone()[0]:
            pytest.skip("needs the pgvector package in the PostgreSQL server")
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'DROP ROLE IF EXISTS "{name}"')
        cursor.execute(f"CREATE ROLE \"{name}\" LOGIN PASSWORD 'app-pass' NOSUPERUSER")
        cursor.execute(f'CREATE DATABASE "{name}" OWNER "{name}"')
    server = url.rsplit("/", 1)[0]
    try:
        yield (
            name,
            f"postgres://{name}:app-pass@{server.split('@', 1)[1]}/{name}",
            f"{server}/{name}",
        )
    finally:
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            cursor.execute(f'DROP ROLE IF EXISTS "{name}"')
