"""PostgreSQL with pgvector only: the table that mirrors PaperEmbedding for HNSW search.

A no-op on SQLite and on PostgreSQL servers without the pgvector package; where the
extension cannot be enabled (no privilege) it says so and goes on: the vector index then
stays in memory (see search/pgvector.py, which creates the table later if the extension
is enabled afterwards). No foreign key, for the reasons given in 0002. The HNSW indexes
are partial, one per embedding contract, and built on first use.
"""

from django.db import migrations, transaction

CREATE_TABLE = """CREATE TABLE IF NOT EXISTS search_pgvector (
    paper_id bigint PRIMARY KEY,
    embedding_id bigint NOT NULL,
    contract varchar(64) NOT NULL,
    embedding vector NOT NULL
)"""


def _fetch(cursor, sql):
    cursor.execute(sql)
    return cursor.fetchone()[0]


def forwards(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        if not _fetch(cursor, "SELECT count(*) FROM pg_available_extensions WHERE name = 'vector'"):
            return
        try:
            with transaction.atomic(using=connection.alias):
                cursor.execute("CREATE EXTENSION IF NOT EXISTS vector")
        except Exception as exc:
            reason = str(exc).strip().splitlines()[0]
            name = connection.settings_dict["NAME"]
            print(
                f"\n\n  WARNING: pgvector is not enabled ({reason}).\n"
                f"  The vector index stays in memory, in every process. To keep it in "
                f"PostgreSQL, a superuser runs once:\n"
                f'      psql -d {name} -c "CREATE EXTENSION vector"\n'
                f"  then: dailypapers search reindex (docs/operations.md, \"PostgreSQL\"; "
                f"`dailypapers check --deploy` reminds of it)\n"
            )
            return
        cursor.execute(CREATE_TABLE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP TABLE IF EXISTS search_pgvector")


class Migration(migrations.Migration):
    dependencies = [("search", "0002_postgres_documents")]
    operations = [migrations.RunPython(forwards, backwards)]
