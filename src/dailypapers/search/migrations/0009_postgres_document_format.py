"""PostgreSQL only: the documents of the PostgreSQL keyword engine carry their format.

- `format`: the version of what the row's document holds (pg.FORMAT), indexed. Rows from
  before are format 0: `serve` has the worker rewrite the documents of an older format
  (search/tasks.py: rewrite_outdated_keyword_documents), and search uses them meanwhile.
- `title_document` becomes a column that the engine writes (it was generated from the
  title): it holds the title's name forms too (keyword.name_forms). Its values are kept.

Nothing happens on SQLite.
"""

from django.db import migrations

from ._postgres import postgres_only

CREATE = [
    "ALTER TABLE search_pgdocument ALTER COLUMN title_document DROP EXPRESSION IF EXISTS",
    "ALTER TABLE search_pgdocument ADD COLUMN IF NOT EXISTS format smallint NOT NULL DEFAULT 0",
    "CREATE INDEX IF NOT EXISTS search_pgdocument_format ON search_pgdocument (format)",
]
DROP = [
    "DROP INDEX IF EXISTS search_pgdocument_format",
    "ALTER TABLE search_pgdocument DROP COLUMN IF EXISTS format",
    "ALTER TABLE search_pgdocument DROP COLUMN IF EXISTS title_document",
    "ALTER TABLE search_pgdocument ADD COLUMN title_document tsvector "
    "GENERATED ALWAYS AS (to_tsvector('english', title)) STORED",
    "CREATE INDEX IF NOT EXISTS search_pgdocument_title_fts ON search_pgdocument "
    "USING gin (title_document)",
]


class Migration(migrations.Migration):
    dependencies = [("search", "0008_unindexed_papers")]
    operations = [postgres_only(CREATE, DROP)]
