"""The PostgreSQL keyword engine: weighted tsvector + GIN, BM25's weights, pg_trgm for typos.

Chosen automatically on PostgreSQL (DAILYPAPERS_SEARCH_ENGINE=tantivy keeps the file
index instead): every app server then shares one index, the database, so it scales out
with no file to copy. Same interface as keyword.KeywordIndex.

`ts_rank` knows nothing of how rare a word is, so "model" counts as much as "pruning":
known-item search reached an MRR@10 of 0.27 with it. Papers are ranked here instead by
BM25's inverse document frequency of each query word that they hold, from a table of
document frequencies (search_pglexeme) that `refresh_statistics()` recounts nightly.
"""

import contextlib
import math
import re
from dataclasses import dataclass

from django.db import connection, transaction

from dailypapers.folding import fold_accents

from .keyword import (
    ANALYZERS,
    BM25_K1,
    EXPANSION_BOOST,
    MIN_COVERAGE_WORDS,
    RESCORE_POOL,
    STOPWORDS,
    TITLE_COVERAGE,
    Hit,
    Split,
    author_names,
    every_word_needs,
    name_forms,
    other_number,
    typed_version_forms,
)
from .query import Clause

# The version of what a document holds. A release that changes it raises it: `serve` then
# has the worker rewrite the documents of an older format (tasks.py), in use meanwhile.
# 1: the name forms of the names joined to their version (keyword.name_forms).
# 2: the authors' words, as the tantivy engine reads them (author_words, for au:).
# 3: the text with its accents folded (folding.fold_accents), as are the queries' words.
# 4: TeX in titles and abstracts as words (keyword.paper_document, papers.tex.tex_words).
FORMAT = 4
UPSERT = """
INSERT INTO search_pgdocument
    (paper_id, title, document, title_document, published_at, categories, has_code,
     featured, format, author_words)
VALUES (%s, %s,
    setweight(to_tsvector('english', %s), 'A') || setweight(to_tsvector('english', %s), 'B')
    || setweight(to_tsvector('simple', %s), 'C'),
    to_tsvector('english', %s), %s, %s, %s, %s, %s, %s)
ON CONFLICT (paper_id) DO UPDATE SET title = EXCLUDED.title, document = EXCLUDED.document,
    title_document = EXCLUDED.title_document, published_at = EXCLUDED.published_at,
    categories = EXCLUDED.categories, has_code = EXCLUDED.has_code,
    featured = EXCLUDED.featured, format = EXCLUDED.format,
    author_words = EXCLUDED.author_words
"""
# Words in more than this share of the papers only rank (as keyword.COMMON_SHARE). Here
# they also have no part in which papers reach the second stage, so the tantivy engine's
# 5% cost known items 0.955 -> 0.932 and topics 0.470 -> 0.400 (300/150 queries, 78k).
COMMON_SHARE = 0.1
TITLE_POOL_BOOST = 1.0  # in the first stage, a word in the title counts (1 + this) times
TITLED_BOOST = 0.5  # a title that holds TITLE_COVERAGE of the typed words (Hit.titled)
TITLE_SIMILARITY_WEIGHT = 0.25  # a title typed with typos is found by trigrams
TYPO_PAPERS = 2  # a typed word in no more papers may be misspelt: titles are matched by trigrams
STALE_GROWTH = 0.2  # document frequencies are recounted once the index grew by this share
COUNT_KEY = ""  # the row of search_pglexeme that holds the number of documents
NAME_WORD = re.compile(r"[^\W_]+")  # the words of a name, as tantivy's simple tokenizer
COLUMNS = {"authors": "p.authors::text"}
ANALYZE_FROM = 100  # papers indexed at once from which the planner's statistics are renewed
ANALYZED_TABLES = ("papers_paper", "search_pgdocument", "search_pgvector", "search_paperembedding")


@dataclass
class Term:
    """A lexeme of the query, weighted by its rarity."""

    lexeme: str
    weight: float
    typed: bool  # from a word typed, not from an acronym's expansion or another form
    common: bool  # in more than COMMON_SHARE of the documents
    unknown: bool  # in at most TYPO_PAPERS documents: perhaps a typo
    phrase: bool = False  # `lexeme` is a tsquery of words side by side ("'qwen' <-> '3'")
    form: bool = False  # of another form of a typed word only (typed_version_forms)
    # Another spelling of a typed word that folding changed (also a `form`: never in the
    # whole): "typed", accents kept, as documents of a format before 3 hold it until the
    # worker rewrites them; "unstemmed", as the documents' authors hold it (the simple
    # configuration): english stems "Altintas", folded, to 'altinta', not "Altıntaş".
    spelling: str = ""


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
            rows = []
            for doc in add:
                # Accents folded, as tantivy's analyzers fold them; `title` is shown as is.
                title = fold_accents(_with_name_forms(doc["title"]))
                rows.append(
                    (doc["pk"], doc["title"], title,
                     fold_accents(_with_name_forms(doc["abstract"])),
                     fold_accents(doc["authors"]), title, doc["published_at"],
                     f" {' '.join(c.lower() for c in doc['categories'])} ",
                     bool(doc["has_code"]), bool(doc["featured"]), FORMAT,
                     _author_words(author_names(doc)))
                )  # fmt: skip
            if rows:
                cursor.executemany(UPSERT, rows)

    def outdated(self, paper_ids=None, *, limit=None):
        """The papers (of `paper_ids`, else all) whose documents are of an older FORMAT."""
        sql = "SELECT paper_id FROM search_pgdocument WHERE format < %s"
        params = [FORMAT]
        if paper_ids is not None:
            sql += " AND paper_id = ANY(%s)"
            params.append(list(paper_ids))
        sql += " ORDER BY paper_id"
        if limit is not None:
            sql += " LIMIT %s"
            params.append(limit)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return [pk for (pk,) in cursor.fetchall()]

    def count_outdated(self):
        """How many documents are of an older FORMAT (the worker rewrites them)."""
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM search_pgdocument WHERE format < %s", [FORMAT])
            return cursor.fetchone()[0]

    def clear(self):
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM search_pgdocument")

    def count(self):
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM search_pgdocument")
            return cursor.fetchone()[0]

    def search(
        self, parsed, filters, *, limit, sort="relevance", enough=None, page=None, every_word=False
    ):
        """(hits, total). As in the tantivy engine, common words ("model") only rank the
        papers that match a rarer word: ranking every paper that holds "model" took 2.8 s
        a query at 78k papers. When that leaves fewer than `enough` (default: limit),
        every word selects again, after the rarer words' matches when those fill `page`.
        every_word: only the papers that hold every word (count_every_word) match."""
        held = _every_word_tsquery(parsed) if every_word else None
        ranked = [c for c in parsed.should if c.text.lower() not in STOPWORDS] or parsed.should
        forms = typed_version_forms(ranked)  # "LLaDA 2.0": llada2; "Qwen3": "qwen 3"
        terms = _terms(ranked, forms)
        ranked = ranked + forms
        selecting = ranked
        if sort != "newest":
            selecting = [c for c in ranked if not all(t.common for t in terms.get(id(c), []))]
        first = []
        if selecting and len(selecting) < len(ranked):
            hits, total = self._search(parsed, filters, terms, selecting, limit, sort, held)
            if total >= (limit if enough is None else enough):
                return hits, total
            if total >= (limit if page is None else page):
                first = hits  # a page of keyword results: first (see KeywordIndex.search)
        hits, total = self._search(parsed, filters, terms, ranked, limit, sort, held)
        if first:
            held = {hit.pk for hit in first}
            hits = (first + [hit for hit in hits if hit.pk not in held])[:limit]
        return hits, total

    def _search(self, parsed, filters, terms, selecting, limit, sort, held=None):
        """Two stages, as in the tantivy engine. The GIN indexes find the papers that hold
        a selecting word, in the text or also in the title, and sum those words' weights;
        the best RESCORE_POOL of them are then scored on every word, from their documents.
        held: a tsquery that the papers must match too (_every_word_tsquery).
        """
        conditions, params = self._conditions(parsed, filters)
        if held:
            conditions.append("d.document @@ %s::tsquery")
            params.append(held)
        weights = _best_weights(terms)
        words = " ".join(clause.text for clause in parsed.should if not clause.expansion)
        found, found_params = _first_stage(parsed, terms, weights, words)
        chosen = {id(clause) for clause in selecting}
        selects = {t.lexeme for key, ts in terms.items() if key in chosen for t in ts}
        typed = sorted({t.lexeme for ts in terms.values() for t in ts if t.typed})
        needed = max(MIN_COVERAGE_WORDS, math.ceil(TITLE_COVERAGE * len(typed)))
        short = next(
            (t.lexeme for c in parsed.should if c.text == parsed.short_form
             for t in terms.get(id(c), [])),
            None,
        )  # fmt: skip
        newest = sort == "newest"
        # Hidden papers leave the index (services.index_papers), so the first stage joins
        # documents and papers only for filters (that took 120 ms at 78k papers); the
        # second stage drops any stray hidden paper.
        joins = ""
        if conditions or newest:
            joins = "JOIN search_pgdocument d ON d.paper_id = g.paper_id " \
                    "JOIN papers_paper p ON p.id = g.paper_id"  # fmt: skip
        if parsed.should:
            source = (
                f"(SELECT paper_id, sum(weight) AS weight FROM found GROUP BY paper_id) g {joins}"
            )
            ranking, pk = ("d.published_at DESC" if newest else "g.weight DESC"), "g.paper_id"
        else:
            # No words (a field or filter alone: au:"Fei Huang"): every paper is a candidate,
            # so documents and papers are read once, joined on their keys, and nothing else.
            # Through the general form, with statistics that took the tables for empty, the
            # planner nested three loops over the index: minutes on 429 papers.
            source = "search_pgdocument d JOIN papers_paper p ON p.id = d.paper_id"
            ranking, pk = ("d.published_at DESC" if newest else "d.paper_id"), "d.paper_id"
        sql = f"""
            WITH terms AS (
                SELECT * FROM unnest(
                    %s::text[], %s::tsquery[], %s::float8[], %s::bool[], %s::bool[]
                ) AS t(lexeme, query, weight, selecting, phrase)
            ),
            found AS ({found}),
            pool AS (
                SELECT {pk} AS paper_id, count(*) OVER () AS total
                FROM {source}
                WHERE {" AND ".join(conditions) or "true"}
                ORDER BY {ranking}, {pk}
                LIMIT %s
            )
            SELECT pool.paper_id,
                s.weight / %s + {TITLE_SIMILARITY_WEIGHT} * similarity(lower(d.title), lower(%s))
                + CASE WHEN s.in_title >= %s THEN {TITLED_BOOST} ELSE 0 END AS score,
                s.in_title >= %s AS titled, pool.total
            FROM pool JOIN search_pgdocument d ON d.paper_id = pool.paper_id
            JOIN papers_paper p ON p.id = pool.paper_id AND NOT p.hidden, LATERAL (
                -- BM25's saturation of a word's count (length is not normalised).
                SELECT coalesce(sum(t.weight * u.count * {BM25_K1 + 1} / (u.count + {BM25_K1})), 0)
                    AS weight,
                       count(*) FILTER (WHERE 'A' = ANY(u.weights)
                                        AND t.lexeme = ANY(%s::text[]))
                       -- A title with the acronym that the query spells out holds it all.
                       + %s * count(*) FILTER (WHERE 'A' = ANY(u.weights) AND t.lexeme = %s)
                           AS in_title
                FROM (SELECT lexeme, weights, coalesce(array_length(positions, 1), 1) AS count
                      FROM unnest(d.document)
                      -- A phrase (another form of a typed word) counts once, not in titles.
                      UNION ALL SELECT lexeme, '{{}}', 1 FROM terms
                      WHERE phrase AND d.document @@ query) u JOIN terms t USING (lexeme)
            ) s
            ORDER BY {"d.published_at DESC" if newest else "score DESC"}, pool.paper_id
            LIMIT %s
        """
        # Without typed words no title is "titled" (a count can never reach this).
        needed = needed if typed else len(weights) + 1
        phrases = {t.lexeme for ts in terms.values() for t in ts if t.phrase}
        # Another form of a typed word adds nothing to the whole that scores are shares of:
        # a form no paper holds ("synthesis3d" of "synthesis 3D") lowered every score.
        words_only = {t.lexeme for ts in terms.values() for t in ts if not t.form}
        whole = sum(w for lexeme, w in weights.items() if lexeme in words_only) or 1.0
        values = [
            list(weights),
            [lexeme if lexeme in phrases else _tsquery(lexeme) for lexeme in weights],
            list(weights.values()), [lexeme in selects for lexeme in weights],
            [lexeme in phrases for lexeme in weights],
            *found_params, *params, max(limit, RESCORE_POOL),
            whole, words, needed, needed, typed, needed, short,
            max(1, limit),
        ]  # fmt: skip
        with connection.cursor() as cursor:
            cursor.execute(sql, values)
            rows = cursor.fetchall()
        hits = [Hit(pk=pk, score=float(score), titled=titled) for pk, score, titled, _ in rows]
        return hits, rows[0][3] if rows else 0

    def count_every_word(self, parsed, filters, *, limit=None):
        """How many papers hold every word of the query (keyword.every_word_needs, with the
        lexemes of PostgreSQL's english configuration) and meet its phrases, fields,
        exclusions and filters, at most `limit`: one tsquery of ANDs on the document's GIN
        index. The count reads every row it counts (no index-only scan with GIN): 400 ms for
        the 30,721 papers with "large language models" at 78k papers."""
        conditions, params = self._conditions(parsed, filters)
        if held := _every_word_tsquery(parsed):
            conditions.insert(0, "d.document @@ %s::tsquery")
            params.insert(0, held)
        # Hidden papers leave the index (services.index_papers): papers are joined only
        # for the conditions that read them, as _search does.
        joins = "JOIN papers_paper p ON p.id = d.paper_id" if len(conditions) > bool(held) else ""
        where = " AND ".join(conditions) or "true"
        sql = f"SELECT 1 FROM search_pgdocument d {joins} WHERE {where}"
        if limit is not None:
            sql, params = f"{sql} LIMIT %s", [*params, limit]
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM ({sql}) counted", params)
            return cursor.fetchone()[0]

    def _conditions(self, parsed, filters):
        """([SQL condition on d (search_pgdocument) and p (papers_paper)], params)."""
        where, params = [], []
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
        for category in parsed.excluded_categories:
            where.append("d.categories NOT LIKE %s")
            params.append(_like(f" {category.lower()} "))
        if parsed.arxiv_ids:
            where.append("p.arxiv_id = ANY(%s)")
            params.append(list(parsed.arxiv_ids))
        if parsed.excluded_ids:
            where.append("NOT (p.arxiv_id = ANY(%s))")
            params.append(list(parsed.excluded_ids))
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
        return where, params

    def refresh_statistics(self):
        """Recount the documents that hold each lexeme (ts_stat reads every document).
        Returns the number of lexemes."""
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM search_pglexeme")
            cursor.execute(
                "INSERT INTO search_pglexeme (lexeme, papers) "
                "SELECT word, ndoc FROM ts_stat('SELECT document FROM search_pgdocument')"
            )
            lexemes = cursor.rowcount
            cursor.execute(
                "INSERT INTO search_pglexeme (lexeme, papers) "
                "SELECT %s, count(*) FROM search_pgdocument",
                [COUNT_KEY],
            )
        return lexemes

    def statistics_are_stale(self):
        """No count yet, or the index grew (or shrank) by STALE_GROWTH since the last one."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT (SELECT papers FROM search_pglexeme WHERE lexeme = %s), "
                "(SELECT count(*) FROM search_pgdocument)",
                [COUNT_KEY],
            )
            counted, documents = cursor.fetchone()
        return documents > 0 and (
            counted is None or abs(documents - counted) > STALE_GROWTH * counted
        )

    def _clause(self, clause):
        if clause.field == "authors":
            return _names_clause(clause.text)
        if clause.field:
            return _field_clause(clause.field, clause.text)
        function = "phraseto_tsquery" if clause.phrase else "plainto_tsquery"
        sql, params = _folded_or_typed(f"(d.document @@ {function}('english', %s))", clause.text)
        if (folded := fold_accents(clause.text)) != clause.text:
            # Or a name, as the documents' authors hold it: unstemmed (Term.spelling).
            sql, params = f"({sql} OR d.document @@ {function}('simple', %s))", [*params, folded]
        return sql, params


def _folded_or_typed(sql, text):
    """(SQL, params): `sql` (a condition on `text`, each %s) met by the text with its accents
    folded, as documents of FORMAT 3 hold it, or by the text as typed when folding changes
    it: documents of an older format hold the words unfolded until the worker rewrites
    them."""
    folded, places = fold_accents(text), sql.count("%s")
    if folded == text:
        return sql, [text] * places
    return f"({sql} OR {sql})", [folded] * places + [text] * places


# ti: and abs: match the phrase's stemmed words in order, within the title or within the
# abstract, as the tantivy engine's title and abstract fields do: a substring found "organ"
# for ti:gan, and missed "GANs". The title has its own tsvector (and GIN index); the
# abstract is the document's words of weight B (UPSERT), kept by ts_filter after the
# document's GIN index found the papers that hold them anywhere. The tsquery is never
# written out and parsed again: to_tsquery re-parses a lexeme, so 'multi-ag' (of
# "Multi-Agent") became the phrase of three words, and no title with a hyphen was found.
FIELD_MATCHES = {
    "title": "d.title_document @@ {query}",
    "abstract": "d.document @@ {query} AND ts_filter(d.document, '{{b}}') @@ {query}",
}
FIELD_QUERY = "phraseto_tsquery('english', %s)"


def _field_clause(field, text):
    """ti: or abs: `text`; nothing when it holds no word the index keeps (ti:"the")."""
    sql = f"(numnode({FIELD_QUERY}) > 0 AND {FIELD_MATCHES[field].format(query=FIELD_QUERY)})"
    return _folded_or_typed(sql, text)


def _names_clause(text):
    """au: as the tantivy engine reads it: the name's words side by side, whole words (its
    names analyzer: case and accents aside, "Jurgen" is "Jürgen"), within one author's
    name. Documents written before author_words (pg.FORMAT 2) are read as before, from
    the papers' authors, case aside, until the worker rewrites them."""
    words = ANALYZERS["names"].analyze(text)
    if not words:
        return "false", []  # au:!!! names nobody
    typed = NAME_WORD.findall(text) or words
    column = COLUMNS["authors"]
    pattern = "\\m" + "[^[:alnum:]]+".join(typed) + "\\M"
    return (
        f"(CASE WHEN d.author_words IS NULL THEN {column} ILIKE %s AND {column} ~* %s"
        " ELSE d.author_words LIKE %s END)",
        [_like(max(typed, key=len)), pattern, _like(f" {' '.join(words)} ")],
    )


def _author_words(names):
    """The authors' names as the tantivy engine's names analyzer reads them, one after
    another, each between spaces and apart from the next (" olafur sigurdsson | wei liu "):
    au: is then one LIKE on whole words, and the last name of one author and the first of
    the next are not side by side (keyword.author_names)."""
    names = (" ".join(ANALYZERS["names"].analyze(name)) for name in names)
    return f" {' | '.join(name for name in names if name)} "


def analyze_after_bulk(count):
    """Renew the planner's statistics of the tables searches read after `count` papers
    were indexed at once, when that is a tenth of them or more.

    Autovacuum does the same, but on its own schedule: until then the planner takes the new
    rows for an empty table, and chose nested loops that rescanned the whole index per
    paper (an author's papers took minutes on a few thousand papers). ANALYZE also counts
    the rows of the transaction it runs in, so a bulk write still open is measured."""
    if connection.vendor != "postgresql" or count < ANALYZE_FROM:
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = 'papers_paper'::regclass")
        (known,) = cursor.fetchone()
        if known > 0 and count < known / 10:
            return False
        tables = [t for t in ANALYZED_TABLES if _present_table(cursor, t)]
        cursor.execute(f"ANALYZE {', '.join(tables)}")
    return True


def _present_table(cursor, name):
    cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
    return cursor.fetchone()[0]


def _terms(clauses, forms=()):
    """{id(clause or form): [Term]}: each word's lexemes as PostgreSQL's english
    configuration makes them, weighted by BM25's inverse document frequency; an acronym's
    long form, added by search, at EXPANSION_BOOST. Unknown lexemes (newer than the last
    count) are taken as the rarest.

    forms: the other forms of the typed names with a version (keyword.typed_version_forms),
    which do not count as typed words: a name and number typed apart, joined ("llada2"),
    weighted as a word; a name typed joined to its number, as the phrase of the two
    ("'qwen' <-> '3'"), weighted as the word typed.

    Words are read with their accents folded, as documents hold them; a word that folding
    changes also has its other spellings (Term.spelling)."""
    joined = [form for form in forms if not isinstance(form, Split)]
    splits = [form for form in forms if isinstance(form, Split)]
    words = [*clauses, *joined, *[Clause(text=_split_text(split)) for split in splits]]
    if not words:
        return {}
    accented = [clause for clause in clauses if fold_accents(clause.text) != clause.text]
    spellings = [*(("typed", c) for c in accented), *(("unstemmed", c) for c in accented)]
    texts = [*(fold_accents(word.text) for word in words), *(c.text for c in accented),
             *(fold_accents(c.text) for c in accented)]  # fmt: skip
    configs = ["english"] * (len(words) + len(accented)) + ["simple"] * len(accented)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.i, l.lexeme, coalesce(s.papers, 0),
                (SELECT papers FROM search_pglexeme WHERE lexeme = %s)
            FROM unnest(%s::text[], %s::regconfig[]) WITH ORDINALITY AS c(text, config, i)
            CROSS JOIN LATERAL unnest(to_tsvector(c.config, c.text)) l
            LEFT JOIN search_pglexeme s ON s.lexeme = l.lexeme
            ORDER BY c.i
            """,
            [COUNT_KEY, texts, configs],
        )
        rows = cursor.fetchall()
        phrases = []
        if splits:
            cursor.execute(
                "SELECT phraseto_tsquery('english', t)::text FROM unnest(%s::text[]) "
                "WITH ORDINALITY AS u(t, i) ORDER BY i",
                [[fold_accents(_split_text(split)) for split in splits]],
            )
            phrases = [phrase for (phrase,) in cursor.fetchall()]
    terms = {}
    for i, lexeme, papers, documents in rows:
        spelling, word = ("", words[i - 1]) if i <= len(words) else spellings[i - len(words) - 1]
        mains = {t.lexeme for t in terms.get(id(word), []) if not t.spelling}
        if spelling and lexeme in mains:
            continue  # a spelling the word's own lexemes hold
        documents = documents or 1
        idf = math.log(1 + (documents - papers + 0.5) / (papers + 0.5))
        terms.setdefault(id(word), []).append(
            Term(
                lexeme=lexeme,
                weight=idf * (EXPANSION_BOOST if word.expansion else 1.0),
                typed=not word.expansion and i <= len(clauses),
                form=i > len(clauses),
                common=papers > COMMON_SHARE * documents,
                unknown=papers <= TYPO_PAPERS,
                spelling=spelling,
            )
        )
    for n, (split, phrase) in enumerate(zip(splits, phrases, strict=True)):
        typed = [t.weight for c in clauses if c.text == split.word
                 for t in terms.get(id(c), []) if not t.spelling]  # fmt: skip
        parts = [t.weight for t in terms.pop(id(words[len(words) - len(splits) + n]), [])]
        if "<" in phrase and typed and parts:  # two words side by side, at least
            # At most its rarest word's weight: "Qwen 3" ranks below "Qwen3" typed.
            terms[id(split)] = [
                Term(lexeme=phrase, weight=min(max(typed), max(parts)), typed=False,
                     common=False, unknown=False, phrase=True, form=True)
            ]  # fmt: skip
    return terms


def _every_word_tsquery(parsed):
    """The tsquery (text) that the papers holding every word of the query match, or None
    when no typed word has a lexeme (stop words, punctuation). Each word's forms
    (keyword.every_word_needs) are alternatives. A typed word of parts is held whole or by
    its parts side by side ('tool-us' | 'tool' <-> 'use'), an acronym's long form by all
    its lexemes (as the engine matches it), a name typed joined to its version by the
    phrase of the two ('qwen' <-> '3'), and any form by its words as written among the
    authors ('language': the document's authors are not stemmed, as in the tantivy engine;
    without the label of their weight, C, which made the GIN index recheck every row)."""
    needs, whole = every_word_needs(parsed)
    forms = {id(form): form for own in needs for form in own}
    if whole is not None:
        forms[id(whole)] = whole
    clauses = [form for form in forms.values() if not isinstance(form, Split)]
    terms = _terms(clauses, [form for form in forms.values() if isinstance(form, Split)])
    written = dict(zip(map(id, clauses), _as_written(clauses), strict=True))

    def holding(form):
        found = terms.get(id(form))
        if not found:
            return None
        if found[0].phrase:
            return f"({found[0].lexeme})"
        lexemes = list(dict.fromkeys(term.lexeme for term in found if not term.spelling))
        side_by_side, author_words, author_phrase = written[id(form)]
        either = _whole_or_parts(lexemes)
        parts = [_tsquery(lexeme) for lexeme in lexemes if "-" not in lexeme]
        if len(parts) > 1 and not form.expansion and side_by_side:
            either.append(f"({side_by_side})")
        elif parts:
            either.append("(" + " & ".join(parts) + ")")
        if len(lexemes) == 1 and (other := other_number(lexemes[0])):
            either.append(_tsquery(other))  # "llms" and "llm"
        if author := author_words if form.expansion else author_phrase:
            either.append(f"({author})")
        for spelling in ("typed", "unstemmed"):  # Term.spelling
            held = dict.fromkeys(term.lexeme for term in found if term.spelling == spelling)
            either += _whole_or_parts(list(held), joined=True)
        return "(" + " | ".join(either) + ")"

    required = []
    for own, *others in needs:
        if (typed := holding(own)) is None:
            continue  # no lexeme: nothing the document could hold
        required.append(" | ".join([typed, *filter(None, map(holding, others))]))
    if not required:
        return None
    every = " & ".join(f"({need})" for need in required)
    if whole is not None and (spelt := holding(whole)):
        every = f"({every}) | {spelt}"
    return every


def _whole_or_parts(lexemes, *, joined=False):
    """The tsqueries of the hyphenated words among `lexemes` (held whole), and with
    `joined`, the AND of the others."""
    either = [_tsquery(lexeme) for lexeme in lexemes if "-" in lexeme]
    parts = [_tsquery(lexeme) for lexeme in lexemes if "-" not in lexeme]
    if joined and parts:
        either.append("(" + " & ".join(parts) + ")")
    return either


def _as_written(clauses):
    """For each clause, tsqueries (text, or None) of its words: side by side in the text
    (its hyphens as spaces: "tool use" holds "tool-use"), and as the document's authors
    hold them (the simple configuration), each and side by side."""
    if not clauses:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT phraseto_tsquery('english', translate(t, '-', ' '))::text,"
            " plainto_tsquery('simple', t)::text, phraseto_tsquery('simple', t)::text"
            " FROM unnest(%s::text[]) WITH ORDINALITY AS u(t, i) ORDER BY i",
            [[fold_accents(clause.text) for clause in clauses]],
        )
        rows = cursor.fetchall()
    return [(phrase or None, *(words or None for words in author)) for phrase, *author in rows]


def _split_text(split):
    """The words of a name typed joined to its version, apart: "Qwen2.5" is "qwen 2.5" (as
    PostgreSQL reads "Qwen 2.5"), where the tantivy engine's parts are "qwen" and "2"."""
    name, typed = split.parts[0], split.word.lower()
    return f"{name} {typed[len(name) :]}" if typed.startswith(name) else " ".join(split.parts)


def _with_name_forms(text):
    """The text and, after it, its name forms (keyword.name_forms)."""
    forms = name_forms(text)
    return f"{text}\n{' '.join(forms)}" if forms else text


def _first_stage(parsed, terms, weights, words):
    """(SQL, params) of the first stage's (paper_id, weight) rows, one per word found."""
    if not parsed.should:
        return "SELECT paper_id, 0 AS weight FROM search_pgdocument", []
    sql = f"""
        SELECT d.paper_id, t.weight FROM terms t
        JOIN search_pgdocument d ON d.document @@ t.query WHERE t.selecting
        UNION ALL
        SELECT d.paper_id, t.weight * {TITLE_POOL_BOOST} FROM terms t
        JOIN search_pgdocument d ON d.title_document @@ t.query WHERE t.selecting
    """
    if not any(t.unknown for ts in terms.values() for t in ts if t.typed):
        return sql, []
    # Perhaps a misspelt title: its trigrams are a costly search (~80 ms at 78k papers).
    # The few titles found this way all go on to the second stage.
    sql += "UNION ALL SELECT paper_id, %s FROM search_pgdocument WHERE lower(title) %% lower(%s)"
    return sql, [sum(weights.values()), words]


def _tsquery(lexeme):
    """A tsquery of this lexeme as it is (already stemmed): quoted, quotes and backslashes
    doubled, as tsquery's input syntax wants."""
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def _best_weights(terms):
    """{lexeme: weight}: a lexeme of two words (typed and expanded) counts once, at its best."""
    weights = {}
    for term in (t for ts in terms.values() for t in ts):
        weights[term.lexeme] = max(weights.get(term.lexeme, 0.0), term.weight)
    return weights
