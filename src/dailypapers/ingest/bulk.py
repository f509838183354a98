"""Set-based writes for the upsert: a batch of papers reaches the database in a handful of
statements, whatever its size; never one round trip a row.

- PostgreSQL: rows are COPYed into a temporary table, then one INSERT ... SELECT ... ON
  CONFLICT or UPDATE ... FROM applies them. (Django's psycopg cursor binds parameters on
  the client, so an `executemany` sends a separate statement per row that the server
  parses and plans anew: 50,000 papers into a table of 130,000 took 50 s that way.)
- SQLite: `executemany`, which prepares the statement once and binds each row in C, for the
  paper rows; the author links go in as one JSON document that `json_each` unpacks, so the
  name -> id lookup happens inside SQLite.

Values arrive adapted (JSON as text, datetimes as the connection's adapter made them).
"""

import orjson
from django.db import connection

from dailypapers.papers.models import Author, Paper, PaperAuthor

STAGE = "ingest_stage"  # the temporary table of one statement's rows (PostgreSQL)


def quote(name):
    return connection.ops.quote_name(name)


def table(model):
    return quote(model._meta.db_table)


def postgres():
    return connection.vendor == "postgresql"


def select_papers(columns, arxiv_ids):
    """Rows (`columns`, in that order) of the stored papers among `arxiv_ids`: one query."""
    if not arxiv_ids:
        return []
    listed = ", ".join(quote(column) for column in columns)
    if postgres():
        where, param = "= ANY(%s)", list(arxiv_ids)
    else:
        where, param = "IN (SELECT value FROM json_each(%s))", _json(list(arxiv_ids))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {listed} FROM {table(Paper)} WHERE arxiv_id {where}", [param])
        return cursor.fetchall()


def insert_papers(columns, rows):
    """Insert paper rows (`columns` starts with arxiv_id); a paper that another ingest
    stored meanwhile is skipped. Returns {arxiv_id: id} of the papers inserted here."""
    listed = ", ".join(quote(column) for column in columns)
    conflict = "ON CONFLICT (arxiv_id) DO NOTHING"
    with connection.cursor() as cursor:
        if postgres():
            _stage(cursor, columns, rows)
            cursor.execute(
                f"INSERT INTO {table(Paper)} ({listed}) SELECT {listed} FROM {STAGE} "
                f"{conflict} RETURNING arxiv_id, id"
            )
            inserted = dict(cursor.fetchall())
            cursor.execute(f"DROP TABLE {STAGE}")
            return inserted
        # SQLite: the batch's transaction holds the write lock since it looked the papers
        # up, so no other writer can have stored one of them in between.
        placeholders = ", ".join(["%s"] * len(columns))
        cursor.executemany(
            f"INSERT INTO {table(Paper)} ({listed}) VALUES ({placeholders}) {conflict}", rows
        )
    return dict(select_papers(["arxiv_id", "id"], [row[0] for row in rows]))


def update_papers(columns, rows):
    """Rows are (paper id, *values of `columns`)."""
    with connection.cursor() as cursor:
        if postgres():
            _stage(cursor, ["id", *columns], rows)
            assignments = ", ".join(f"{quote(c)} = {STAGE}.{quote(c)}" for c in columns)
            cursor.execute(
                f"UPDATE {table(Paper)} SET {assignments} FROM {STAGE} "
                f"WHERE {table(Paper)}.id = {STAGE}.id"
            )
            cursor.execute(f"DROP TABLE {STAGE}")
            return
        assignments = ", ".join(f"{quote(c)} = %s" for c in columns)
        cursor.executemany(
            f"UPDATE {table(Paper)} SET {assignments} WHERE id = %s",
            [(*values, paper_id) for paper_id, *values in rows],
        )


def link_authors(authors_by_paper, *, replace=()):
    """Author rows for every name, and the papers' PaperAuthor rows in paper order.

    authors_by_paper: {paper id: [author names, in order]}; the old links of the papers in
    `replace` are deleted first."""
    author, links = table(Author), table(PaperAuthor)
    with connection.cursor() as cursor:
        if replace:
            _delete_links(cursor, replace)
        if postgres():
            rows = (
                (paper_id, position, name)
                for paper_id, names in authors_by_paper.items()
                for position, name in enumerate(names)
            )
            _stage(cursor, ["paper_id", "position", "name"], rows,
                   types="paper_id bigint, position smallint, name text")  # fmt: skip
            source = f"{STAGE} AS link"
            paper, position, name = "link.paper_id", "link.position", "link.name"
            params = []
        else:  # {"paper id": [name, ...]}: json_each gives the key and each name's index
            source = "json_each(%s) AS paper, json_each(paper.value) AS link"
            paper, position, name = "CAST(paper.key AS INTEGER)", "link.key", "link.value"
            params = [_json({str(paper_id): names for paper_id, names in authors_by_paper.items()})]
        # Sorted, so that two ingests at once take the name locks in the same order.
        cursor.execute(
            f"INSERT INTO {author} (name) SELECT DISTINCT {name} FROM {source} "
            f"WHERE true ORDER BY 1 ON CONFLICT (name) DO NOTHING",
            params,
        )
        cursor.execute(
            f"INSERT INTO {links} (paper_id, author_id, position) "
            f"SELECT {paper}, author.id, {position} FROM {source} "
            f"JOIN {author} AS author ON author.name = {name}",
            params,
        )
        if postgres():
            cursor.execute(f"DROP TABLE {STAGE}")


def _delete_links(cursor, paper_ids):
    paper_ids = list(paper_ids)
    if postgres():
        where, param = "= ANY(%s)", paper_ids
    else:
        where, param = "IN (SELECT value FROM json_each(%s))", _json(paper_ids)
    cursor.execute(f"DELETE FROM {table(PaperAuthor)} WHERE paper_id {where}", [param])


def _stage(cursor, columns, rows, *, types=None):
    """COPY `rows` into a fresh temporary table STAGE (PostgreSQL), whose columns take the
    paper table's types unless `types` says otherwise; dropped at the latest on commit."""
    listed = ", ".join(quote(column) for column in columns)
    if types is None:
        cursor.execute(
            f"CREATE TEMPORARY TABLE {STAGE} ON COMMIT DROP AS "
            f"SELECT {listed} FROM {table(Paper)} WITH NO DATA"
        )
    else:
        cursor.execute(f"CREATE TEMPORARY TABLE {STAGE} ({types}) ON COMMIT DROP")
    with cursor.cursor.copy(f"COPY {STAGE} ({listed}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _json(value):
    return orjson.dumps(value).decode()
