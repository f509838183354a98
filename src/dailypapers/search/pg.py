"""The PostgreSQL keyword engine: weighted tsvector + GIN, pg_trgm for typos.

Chosen automatically on PostgreSQL (DAILYPAPERS_SEARCH_ENGINE=tantivy keeps the file
index instead): every app server then shares one index, the database, so it scales out
with no file to copy. Same interface as keyword.KeywordIndex.
"""

import contextlib
import time

from django.db import connection

from .keyword import ANALYZERS, COMMON_SHARE, STOPWORDS, Hit

UPSERT = """
INSERT INTO search_pgdocument
    (paper_id, title, document, published_at, categories, has_code, featured)
VALUES (%s, %s,
    setweight(to_tsvector('english', %s), 'A') || setweight(to_tsvector('english', %s), 'B')
    || setweight(to_tsvector('simple', %s), 'C'),
    %s, %s, %s, %s)
ON CONFLICT (paper_id) DO UPDATE SET title = EXCLUDED.title, document = EXCLUDED.document,
    published_at = EXCLUDED.published_at, categories = EXCLUDED.categories,
    has_code = EXCLUDED.has_code, featured = EXCLUDED.featured
"""
TITLE_SIMILARITY_WEIGHT = 2.0  # a title typed with typos is found by trigrams
COMMON_LEXEMES_TTL = 600  # seconds between reads of the planner's lexeme statistics
# The lexemes in more than COMMON_SHARE of the documents, by the planner's statistics
# (ANALYZE keeps them): (read at, {lexeme}).
_common = (0.0, frozenset())
COLUMNS = {"title": "p.title", "abstract": "p.abstract", "authors": "p.authors::text"}


def _like(text):
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class PostgresKeywordIndex:
    def bulk(self):
        return contextlib.nullcontext(self)  # rows are written as they come

    def write(self, *, add=(), delete=()):
        with connection.cursor() as cursor:
            if delete:
                cursor.execute(
                    "DELETE FROM search_pgdocument WHERE paper_id = ANY(%s)", [list(delete)]
                )
            rows = [
                (doc["pk"], doc["title"], doc["title"], doc["abstract"], doc["authors"],
                 doc["published_at"], f" {' '.join(c.lower() for c in doc['categories'])} ",
                 bool(doc["has_code"]), bool(doc["featured"]))
                for doc in add
            ]  # fmt: skip
            if rows:
                cursor.executemany(UPSERT, rows)

    def clear(self):
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM search_pgdocument")

    def count(self):
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM search_pgdocument")
            return cursor.fetchone()[0]

    def search(self, parsed, filters, *, limit, sort="relevance"):
        """(hits, total). As in the tantivy engine, common words ("model") only rank the
        papers that match a rarer word: ts_rank on every paper holding "model" took 2.8 s
        a query at 78k papers. When that leaves too few, every word selects again."""
        ranked = [c for c in parsed.should if c.text.lower() not in STOPWORDS] or parsed.should
        common = _common_lexemes() if sort != "newest" else frozenset()
        selecting = [c for c in ranked if not _is_common(c, common)]
        if selecting and len(selecting) < len(ranked):
            hits, total = self._search(parsed, filters, ranked, selecting, limit, sort)
            if total >= limit:
                return hits, total
        return self._search(parsed, filters, ranked, ranked, limit, sort)

    def _search(self, parsed, filters, ranked, selecting, limit, sort):
        where, params = [], []
        words = " ".join(clause.text for clause in parsed.should if not clause.expansion)
        rank = "0"
        rank_params = []
        if parsed.should:
            # A selecting word must match, or the title by trigrams; all words rank.
            where.append("(d.document @@ q.selecting OR lower(d.title) %% lower(%s))")
            params.append(words)
            rank = f"ts_rank(d.document, q.query, 1) + {TITLE_SIMILARITY_WEIGHT} * " \
                   "similarity(lower(d.title), lower(%s))"  # fmt: skip
            rank_params.append(words)
        for clause in parsed.must:
            sql, values = self._clause(clause)
            where.append(sql)
            params += values
        for clause in parsed.must_not:
            sql, values = self._clause(clause)
            where.append(f"NOT {sql}")
            params += values
        for category in [*parsed.categories, *([filters.category] if filters.category else [])]:
            where.append("d.categories LIKE %s")
            params.append(_like(f" {category.lower()} "))
        if parsed.arxiv_ids:
            where.append("p.arxiv_id = ANY(%s)")
            params.append(list(parsed.arxiv_ids))
        if filters.published_after:
            where.append("d.published_at >= %s")
            params.append(filters.published_after)
        if filters.published_before:
            where.append("d.published_at <= %s")
            params.append(filters.published_before)
        if filters.has_code is not None:
            where.append("d.has_code = %s")
            params.append(bool(filters.has_code))
        if filters.featured_only:
            where.append("d.featured")
        if not where:
            return [], 0
        order = "d.published_at DESC" if sort == "newest" else "score DESC, d.paper_id"
        sql = f"""
            WITH q AS (SELECT ({_any_of(ranked)}) AS query, ({_any_of(selecting)}) AS selecting)
            SELECT d.paper_id, {rank} AS score, count(*) OVER () AS total
            FROM search_pgdocument d JOIN papers_paper p ON p.id = d.paper_id, q
            WHERE NOT p.hidden AND {" AND ".join(where)}
            ORDER BY {order} LIMIT %s
        """
        values = [c.text for c in ranked + selecting] + rank_params + params + [max(1, limit)]
        with connection.cursor() as cursor:
            cursor.execute(sql, values)
            rows = cursor.fetchall()
        total = rows[0][2] if rows else 0
        return [Hit(pk=pk, score=float(score)) for pk, score, _ in rows], total

    def _clause(self, clause):
        if clause.field:
            return f"{COLUMNS[clause.field]} ILIKE %s", [_like(clause.text)]
        function = "phraseto_tsquery" if clause.phrase else "plainto_tsquery"
        return f"(d.document @@ {function}('english', %s))", [clause.text]


def _any_of(clauses):
    return " || ".join(["plainto_tsquery('english', %s)"] * len(clauses)) or "''::tsquery"


def _is_common(clause, common):
    """Every stem of the word is a common lexeme (tantivy's English stemmer is Snowball's,
    as PostgreSQL's english configuration)."""
    stems = ANALYZERS["en"].analyze(clause.text)
    return bool(stems) and all(stem in common for stem in stems)


def _common_lexemes():
    """The lexemes in more than COMMON_SHARE of the documents, from pg_stats (the planner's
    most common elements of the tsvector column; empty until ANALYZE has run)."""
    global _common
    read_at, lexemes = _common
    if time.monotonic() - read_at < COMMON_LEXEMES_TTL:
        return lexemes
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT most_common_elems::text::text[], most_common_elem_freqs FROM pg_stats "
            "WHERE tablename = 'search_pgdocument' AND attname = 'document'"
        )
        row = cursor.fetchone()
    elements, frequencies = row if row and row[0] else ([], [])
    lexemes = frozenset(e for e, f in zip(elements, frequencies, strict=False) if f > COMMON_SHARE)
    _common = (time.monotonic(), lexemes)
    return lexemes
