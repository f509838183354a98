"""PostgreSQL only: the weighted full-text documents of the PostgreSQL keyword engine.

A table of our own (papers' tables belong to the papers app): a tsvector with weights
A (title), B (abstract), C (authors), a GIN index, and a pg_trgm index on titles for
typo tolerance. Nothing happens on SQLite, which uses the tantivy engine.

No foreign key to papers_paper: Django's flush (tests, `dailypapers flush`) truncates the
tables of models only, and a reference from this unmanaged table would make it fail.
Deleted papers leave the index through the post_delete signal, and every query joins
papers_paper, so a stray row can never surface.
"""

from django.db import migrations

from ._postgres import postgres_only

CREATE = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    """CREATE TABLE IF NOT EXISTS search_pgdocument (
        paper_id bigint PRIMARY KEY,
        title text NOT NULL,
        document tsvector NOT NULL,
        published_at timestamptz NOT NULL,
        categories text NOT NULL,
        has_code boolean NOT NULL,
        featured boolean NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS search_pgdocument_fts ON search_pgdocument USING gin (document)",
    "CREATE INDEX IF NOT EXISTS search_pgdocument_trgm ON search_pgdocument "
    "USING gin (lower(title) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS search_pgdocument_published ON search_pgdocument (published_at)",
]
DROP = ["DROP TABLE IF EXISTS search_pgdocument"]


class Migration(migrations.Migration):
    dependencies = [("search", "0001_initial")]
    operations = [postgres_only(CREATE, DROP)]
