"""The keyword engine: a tantivy (Rust, BM25) index in a directory beside the database.

Chosen by measurement (issue 3, and bench/search_speed.py): at a million papers tantivy
answers OR-ed multi-term queries in ~12 ms where SQLite FTS5 needs 1.6 s, and it has
field boosts, phrases and fuzzy terms built in. The database stays the truth: the index
holds only what ranking and filtering need, results are read back from the database with
hidden papers excluded, so a lagging index can never show a hidden paper.
"""

import datetime as dt
import logging
import math
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import tantivy
from django.conf import settings

from .query import Clause, ParsedQuery

log = logging.getLogger(__name__)

SCHEMA_VERSION = 4
TITLE_COVERAGE = 0.8  # share of the query's words a title must hold for the bonus (bench-tuned)
COVERAGE_BOOST = 2.0
MIN_COVERAGE_WORDS = 1
MAX_COVERAGE_WORDS = 24
AUTHORS_BOOST = 1.0
EXACT_BOOST = 0.5  # unstemmed match on top of the stemmed one (bench-tuned)
FUZZY_BOOST = 0.06  # a fuzzy match scores a constant; kept far below a real term match
EXPANSION_BOOST = 0.3  # an acronym's long form, added to the query (acronyms.py; bench-tuned)
# A free word is ranked on title and abstract as one text (plain BM25, as bm25s does) and
# on the authors. Before, title and abstract were ranked apart with the title at a tenth,
# so a key word in the title hardly counted (known items 0.9585 -> 0.9597 with this alone).
FREE_FIELDS = ("text", "authors")
BULK_DOCS = 100_000  # documents buffered by bulk() between commits (~150 MB)
BULK_HEAP = 400_000_000  # bytes of the writer of a bulk commit, shared by its threads
# Ranked words only: they add noise to OR-ed queries (titles still see them, in coverage).
# The second line is the glue of topics asked in a reader's own words ("making diffusion
# LMs decode faster"): rare enough in small corpora to outweigh the words that matter.
STOPWORDS = frozenset(
    "a an and are as at be by for from has in is it its of on or that the to was were with"
    " we our this these via using"
    " make makes making made them their they how what which when why who into can do does".split()
)

_lock = threading.Lock()
_indexes = {}


@dataclass
class Hit:
    pk: int
    score: float


@dataclass
class Filters:
    published_after: dt.datetime | None = None
    published_before: dt.datetime | None = None
    category: str | None = None
    has_code: bool | None = None
    featured_only: bool = False


def index_dir():
    base = Path(getattr(settings, "SEARCH_DIR", "") or settings.DATA_DIR / "search")
    return base / f"keyword-v{SCHEMA_VERSION}"


def _analyzers():
    words = (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .filter(tantivy.Filter.stemmer("english"))
        .build()
    )
    names = (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .build()
    )
    return {"en": words, "names": names}


ANALYZERS = _analyzers()
FIELD_ANALYZER = {"title": "en", "abstract": "en", "text": "en", "authors": "names"}


def _schema():
    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("pk", stored=True, indexed=True, fast=True)
    builder.add_text_field("text", tokenizer_name="en")  # title and abstract: free words
    builder.add_text_field("title", tokenizer_name="en")  # ti:
    builder.add_text_field("abstract", tokenizer_name="en")  # abs:
    builder.add_text_field("authors", tokenizer_name="names")
    # Unstemmed title words: typos are corrected against what people type, not stems.
    builder.add_text_field("title_words", tokenizer_name="names", index_option="basic")
    # Unstemmed words: an exact word counts more than a word of the same stem.
    builder.add_text_field("text_words", tokenizer_name="names", index_option="freq")
    builder.add_text_field("category", tokenizer_name="raw")
    builder.add_text_field("arxiv_id", tokenizer_name="raw")
    builder.add_date_field("published", indexed=True, fast=True)
    builder.add_unsigned_field("has_code", indexed=True, fast=True)
    builder.add_unsigned_field("featured", indexed=True, fast=True)
    return builder.build()


class KeywordIndex:
    def __init__(self, path):
        path.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.schema = _schema()
        self.index = tantivy.Index(self.schema, path=str(path))
        self._pending = None  # the writes buffered by bulk(), while it runs
        self._pending_docs = 0
        for name, analyzer in ANALYZERS.items():
            self.index.register_tokenizer(name, analyzer)

    # --- writing -------------------------------------------------------------------
    @contextmanager
    def bulk(self):
        """Buffer writes and apply them BULK_DOCS at a time: for reindexing.

        A commit per batch of 2,000 re-merged the segments again and again: a million
        papers took 37 minutes, 7 this way. The writer is held only while a buffer is
        written, so other processes' writes (new papers) get in between."""
        self._pending, self._pending_docs = [], 0
        try:
            yield self
            self._flush()
        finally:
            self._pending = None

    def write(self, *, add=(), delete=()):
        """Replace the documents of `add` (dicts from paper_document) and drop `delete` pks."""
        if self._pending is None:
            self._apply([(add, delete)])
            return
        self._pending.append((add, delete))
        self._pending_docs += len(add) + len(delete)
        if self._pending_docs >= BULK_DOCS:
            self._flush()

    def clear(self):
        if self._pending is not None:
            self._flush()
        with self._writer() as writer:
            writer.delete_all_documents()

    def _flush(self):
        if self._pending:
            self._apply(self._pending, bulk=True)
        self._pending, self._pending_docs = [], 0

    def _apply(self, changes, *, bulk=False):
        with self._writer(bulk=bulk) as writer:
            for add, delete in changes:
                for pk in delete:
                    writer.delete_documents_by_term("pk", pk)
                for doc in add:
                    writer.delete_documents_by_term("pk", doc["pk"])
                    writer.add_document(self._document(doc))

    @contextmanager
    def _writer(self, *, bulk=False):
        """The index's writer, committed at the end of the block (rolled back on error).

        One writer per index across processes (a lock file): wait for another one."""
        # A bulk commit indexes on every core; a few papers need one thread.
        options = {"heap_size": BULK_HEAP if bulk else 50_000_000, "num_threads": 0 if bulk else 1}
        with _lock:
            for attempt in range(50):
                try:
                    writer = self.index.writer(**options)
                    break
                except ValueError:
                    time.sleep(0.1 * (attempt + 1))
            else:
                writer = self.index.writer(**options)
            try:
                yield writer
            except BaseException:
                writer.rollback()
                raise
            writer.commit()
            writer.wait_merging_threads()  # also frees the lock file
        self.index.reload()

    def _document(self, doc):
        document = tantivy.Document()
        document.add_integer("pk", doc["pk"])
        document.add_text("text", f"{doc['title']}\n{doc['abstract']}")
        document.add_text("title", doc["title"])
        document.add_text("abstract", doc["abstract"])
        document.add_text("authors", doc["authors"])
        document.add_text("title_words", doc["title"])
        document.add_text("text_words", f"{doc['title']}\n{doc['abstract']}")
        for category in doc["categories"]:
            document.add_text("category", category.lower())
        document.add_text("arxiv_id", doc["arxiv_id"])
        document.add_date("published", doc["published_at"])
        document.add_unsigned("has_code", int(doc["has_code"]))
        document.add_unsigned("featured", int(doc["featured"]))
        return document

    # --- reading -------------------------------------------------------------------
    def count(self):
        return self.index.searcher().num_docs

    def search(self, parsed: ParsedQuery, filters: Filters, *, limit, sort="relevance"):
        """(hits best first, total matches). Sort "newest" is done by the index itself."""
        query = self.build_query(parsed, filters)
        if query is None:
            return [], 0
        searcher = self.index.searcher()
        kwargs = {}
        if sort == "newest":
            kwargs = {"order_by_field": "published", "order": tantivy.Order.Desc}
        result = searcher.search(query, limit=max(1, limit), count=True, **kwargs)
        addresses = [address for _, address in result.hits]
        pks = searcher.fast_field_values("pk", addresses) if addresses else []
        scores = [score if sort != "newest" else 0.0 for score, _ in result.hits]
        return [
            Hit(pk=pk, score=float(sc)) for pk, sc in zip(pks, scores, strict=True)
        ], result.count

    def build_query(self, parsed: ParsedQuery, filters: Filters):
        Occur, Query = tantivy.Occur, tantivy.Query
        searcher = self.index.searcher()
        parts = []
        words = [c for c in parsed.should if c.text.lower() not in STOPWORDS] or parsed.should
        should = [q for c in words if (q := self._clause(c, searcher)) is not None]
        if should:
            parts.append((Occur.Must, Query.boolean_query([(Occur.Should, q) for q in should])))
            if (coverage := self._title_coverage(parsed, searcher)) is not None:
                parts.append((Occur.Should, coverage))
        elif parsed.should and not parsed.must:
            # Only unusable words (emoji, punctuation): nothing can match them.
            return None
        for clause in parsed.must:
            query = self._clause(clause, searcher, fuzzy=False)
            if query is not None:
                parts.append((Occur.Must, query))
        for clause in parsed.must_not:
            query = self._clause(clause, searcher, fuzzy=False)
            if query is not None:
                parts.append((Occur.MustNot, query))
        filter_parts = self._filters(parsed, filters)
        if not parts and not filter_parts:
            return None
        if not any(occur == Occur.Must for occur, _ in parts):
            parts.append((Occur.Must, Query.all_query()))
        return Query.boolean_query(parts + filter_parts)

    def _filters(self, parsed, filters):
        Occur, Query, schema = tantivy.Occur, tantivy.Query, self.schema
        parts = []
        categories = list(parsed.categories)
        if filters.category:
            categories.append(filters.category.lower())
        for category in categories:
            parts.append((Occur.Must, Query.term_query(schema, "category", category)))
        if parsed.arxiv_ids:
            ids = [Query.term_query(schema, "arxiv_id", i) for i in parsed.arxiv_ids]
            parts.append((Occur.Must, Query.boolean_query([(Occur.Should, q) for q in ids])))
        if filters.published_after or filters.published_before:
            parts.append((Occur.Must, Query.range_query(
                schema, "published", tantivy.FieldType.Date,
                filters.published_after or tantivy.MIN_DATETIME,
                filters.published_before or tantivy.MAX_DATETIME,
            )))  # fmt: skip
        if filters.has_code is not None:
            parts.append((Occur.Must, Query.term_query(schema, "has_code", int(filters.has_code))))
        if filters.featured_only:
            parts.append((Occur.Must, Query.term_query(schema, "featured", 1)))
        # Filters must not change relevance scores.
        return [(occur, Query.const_score_query(q, 0.0)) for occur, q in parts]

    def _clause(self, clause: Clause, searcher, *, fuzzy=True):
        Occur, Query, schema = tantivy.Occur, tantivy.Query, self.schema
        fields = (clause.field,) if clause.field else FREE_FIELDS
        per_field = []
        for name in fields:
            tokens = ANALYZERS[FIELD_ANALYZER[name]].analyze(clause.text)
            if not tokens:
                continue
            if len(tokens) == 1:
                query = Query.term_query(schema, name, tokens[0])
            else:
                query = Query.phrase_query(schema, name, tokens[:16])
            boost = AUTHORS_BOOST if name == "authors" else 1.0
            per_field.append(Query.boost_query(query, boost))
            if name == "text" and len(tokens) == 1:
                per_field += self._exact_or_fuzzy(tokens[0], clause.text, searcher, fuzzy)
        if not per_field:
            return None
        query = Query.boolean_query([(Occur.Should, q) for q in per_field])
        return Query.boost_query(query, EXPANSION_BOOST) if clause.expansion else query

    def _exact_or_fuzzy(self, stem, typed, searcher, fuzzy):
        """The unstemmed word's bonus, and title words one or two edits away from a typo."""
        Query, schema = tantivy.Query, self.schema
        words = ANALYZERS["names"].analyze(typed)
        if len(words) != 1:
            return []
        extra = [Query.boost_query(Query.term_query(schema, "text_words", words[0], "freq"),
                                   EXACT_BOOST)]  # fmt: skip
        if fuzzy and (typo := self._fuzzy(stem, words[0], searcher)) is not None:
            extra.append(Query.boost_query(typo, FUZZY_BOOST))
        return extra

    def _title_coverage(self, parsed, searcher):
        """A bonus for titles that contain most of the query's words (typos forgiven).

        A title typed from memory matches its paper's title almost word for word, while a
        list of keywords rarely covers any one title: this separates the two without a
        global title boost, which measurably hurts keyword queries (bench/search_quality).
        """
        Occur, Query, schema = tantivy.Occur, tantivy.Query, self.schema
        words = []
        for clause in parsed.should:
            if clause.expansion:
                continue
            for word in ANALYZERS["names"].analyze(clause.text):
                if word not in words:
                    words.append(word)
        if len(words) < MIN_COVERAGE_WORDS:
            return None
        per_word = []
        for word in words[:MAX_COVERAGE_WORDS]:
            options = [Query.term_query(schema, "title_words", word)]
            typo = searcher.doc_freq("title_words", word) <= 2  # a real word: no fuzzing
            if typo and len(word) >= 4 and not word.isdigit():
                distance = 1 if len(word) < 8 else 2
                options.append(Query.fuzzy_term_query(schema, "title_words", word, distance))
            per_word.append(Query.boolean_query([(Occur.Should, q) for q in options]))
        needed = max(1, math.ceil(TITLE_COVERAGE * len(per_word)))
        covered = Query.boolean_query([(Occur.Should, q) for q in per_word], needed)
        return Query.boost_query(covered, COVERAGE_BOOST)

    def _fuzzy(self, stem, word, searcher):
        """Title words within one or two edits of a word that (almost) no paper contains."""
        if len(word) < 4 or word.isdigit() or searcher.doc_freq("text", stem) > 2:
            return None
        distance = 1 if len(word) < 8 else 2
        return tantivy.Query.fuzzy_term_query(self.schema, "title_words", word, distance)


def get_index():
    """The keyword engine: PostgreSQL full-text on PostgreSQL, else the tantivy index."""
    from django.db import connection

    engine = getattr(settings, "SEARCH_ENGINE", "auto")
    if connection.vendor == "postgresql" and engine != "tantivy":
        from .pg import PostgresKeywordIndex

        return PostgresKeywordIndex()
    path = index_dir()
    index = _indexes.get(path)
    if index is None:
        with _lock:
            index = _indexes.get(path) or KeywordIndex(path)
            _indexes[path] = index
    return index


def paper_document(paper, *, featured):
    authors = paper.authors or []
    return {
        "pk": paper.pk,
        "title": paper.title,
        "abstract": paper.abstract,
        "authors": " ; ".join(a.get("name", "") for a in authors if isinstance(a, dict)),
        "categories": list(paper.categories or []) or [paper.primary_category],
        "arxiv_id": paper.arxiv_id,
        "published_at": paper.published_at,
        "has_code": bool(paper.github_repo),
        "featured": featured,
    }
