"""PostgreSQL only: `author_words`, the authors' names as the tantivy engine reads them
(lower case, accents folded, one name after another), that `au:` matches (pg.py). Rows
from before have none until the worker rewrites them (pg.FORMAT 2); `au:` reads their
authors as before meanwhile.

Nothing happens on SQLite.
"""

from django.db import migrations

from ._postgres import postgres_only

CREATE = ["ALTER TABLE search_pgdocument ADD COLUMN IF NOT EXISTS author_words text"]
DROP = [
    # Without their author_words the documents are of format 1 again: applied anew, this
    # migration has the worker write them again.
    "UPDATE search_pgdocument SET format = 1 WHERE format > 1",
    "ALTER TABLE search_pgdocument DROP COLUMN IF EXISTS author_words",
]


class Migration(migrations.Migration):
    dependencies = [("search", "0009_postgres_document_format")]
    operations = [postgres_only(CREATE, DROP)]
