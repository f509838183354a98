"""PostgreSQL only: what the PostgreSQL engine's BM25-like ranking needs.

- search_pglexeme: one row per lexeme of search_pgdocument with the number of documents
  that hold it, and one row under the empty lexeme with the number of documents
  (pg.refresh_statistics() recounts them all with ts_stat).
- The titles' own tsvector (a generated column, GIN): the first stage finds the papers
  whose titles hold a query word without reading their documents.

Nothing happens on SQLite.
"""

from django.db import migrations

from ._postgres import postgres_only

CREATE = [
    "CREATE TABLE IF NOT EXISTS search_pglexeme (lexeme text PRIMARY KEY, papers integer NOT NULL)",
    "ALTER TABLE search_pgdocument ADD COLUMN IF NOT EXISTS title_document tsvector "
    "GENERATED ALWAYS AS (to_tsvector('english', title)) STORED",
    "CREATE INDEX IF NOT EXISTS search_pgdocument_title_fts ON search_pgdocument "
    "USING gin (title_document)",
]
DROP = [
    "DROP TABLE IF EXISTS search_pglexeme",
    "ALTER TABLE search_pgdocument DROP COLUMN IF EXISTS title_document",
]


class Migration(migrations.Migration):
    dependencies = [("search", "0004_acronyms")]
    operations = [postgres_only(CREATE, DROP)]
