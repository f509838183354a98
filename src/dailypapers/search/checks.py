"""System checks of the search settings."""

from django.conf import settings
from django.core.checks import Error, Warning, register
from django.db import DatabaseError, connection

ENGINES = ("auto", "tantivy", "tantivy-follow")


@register()
def check_search_engine(app_configs, **kwargs):
    engine = getattr(settings, "SEARCH_ENGINE", "auto")
    if engine in ENGINES:
        return []
    return [
        Error(
            f"DAILYPAPERS_SEARCH_ENGINE={engine!r} is not a keyword engine.",
            hint=f"Use one of {', '.join(ENGINES)} (docs/search.md).",
            id="search.E001",
        )
    ]


@register("search", deploy=True)
def check_pgvector(app_configs, **kwargs):
    """`check --deploy`: on PostgreSQL, the vector extension that the vector index wants.

    Migrations enable it only when their role may (a superuser); otherwise they say so in one
    line among many and the vector index stays in memory, in every process.
    """
    mode = (getattr(settings, "SEARCH_VECTOR_INDEX", "auto") or "auto").strip().lower()
    if connection.vendor != "postgresql" or mode not in ("auto", "pgvector"):
        return []
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT (SELECT count(*) FROM pg_extension WHERE extname = 'vector'), "
                "(SELECT count(*) FROM pg_available_extensions WHERE name = 'vector')"
            )
            enabled, available = cursor.fetchone()
    except DatabaseError:
        return []  # no database to ask (a build step): nothing to say about it
    if enabled:
        return []
    database = connection.settings_dict["NAME"]
    hint = (
        f'As a superuser, once: psql -d {database} -c "CREATE EXTENSION vector"; then '
        f'dailypapers search reindex (docs/operations.md, "PostgreSQL").'
    )
    if not available:
        hint = (
            "Install pgvector for the server's PostgreSQL version first (e.g. the "
            "postgresql-18-pgvector package). " + hint
        )
    if mode == "pgvector":
        return [
            Error(
                "DAILYPAPERS_VECTOR_INDEX=pgvector, but the vector extension is not enabled "
                f"in the database {database}: searches and indexing will fail.",
                hint=hint,
                id="search.E002",
            )
        ]
    return [
        Warning(
            f"The vector extension (pgvector) is not enabled in the database {database}: the "
            "vector index is held in memory by every process instead of in PostgreSQL.",
            hint=hint,
            id="search.W001",
        )
    ]
