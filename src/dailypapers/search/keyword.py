"""The keyword engine: a tantivy (Rust, BM25) index in a directory beside the database.

Chosen by measurement (bench/search_speed.py): at a million papers tantivy
answers OR-ed multi-term queries in ~12 ms where SQLite FTS5 needs 1.6 s, and it has
field boosts, phrases and fuzzy terms built in. The database stays the truth: the index
holds only what ranking and filtering need, results are read back from the database with
hidden papers excluded, so a lagging index can never show a hidden paper.
"""

import datetime as dt
import json
import logging
import math
import os
import re
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import tantivy
from django.conf import settings
from django.db import connection
from rapidfuzz import process
from rapidfuzz.distance import OSA

from dailypapers.papers.models import Paper
from dailypapers.papers.tex import tex_words

from .acronyms import typed_as_acronym
from .query import Clause, ParsedQuery

log = logging.getLogger(__name__)

# 7: each author a value of "authors" (au: phrases within a name)
# 8: TeX in titles and abstracts as words (papers.tex.tex_words): "Dual-Head Optimization"
SCHEMA_VERSION = 8
TITLE_COVERAGE = 0.8  # share of the query's words a title must hold for the bonus (bench-tuned)
COVERAGE_BOOST = 2.0
TITLE_IDF_POWER = 0.5  # idf damped: the rarest word of a topic is often its aspect ("faster")
MIN_COVERAGE_WORDS = 1
MAX_COVERAGE_WORDS = 24
# The coverage bonus is computed on this many of the best plain matches (second stage): in
# the tantivy query it cost 4x a plain union at 1M papers (it scored every title).
RESCORE_POOL = 300
PROXIMITY_POOL = 30  # the best of those that get the bonus of the query's pairs (Proximity)
PROXIMITY_BOOST = 1.0  # a pair of adjacent query words held side by side: its rarer idf x this
# Words in more than this share of the papers ("model", "learning") do not decide which
# papers match, only how they rank: tantivy-py scores every document of every posting
# list (no top-k pruning), and one such word costs ~10 ms at 1M papers (build_query).
COMMON_SHARE = 0.05
# When every word is common, a paper must hold them all (fewer to score; at 1M papers
# "Efficient Model Compression" 33 -> 20 ms), unless even the rarest word is in more than
# this share: then tantivy's seeks cost more than the union (Large Language Models 22 -> 30).
AND_SHARE = 0.25
BM25_K1, BM25_B = 1.2, 0.75  # tantivy's
AUTHORS_BOOST = 1.0
# The parts of a hyphenated word, besides its compound: they find the papers that write
# the words apart, and rank them below those with the compound. Bench-tuned: at 0.3 known
# items 0.9846 -> 0.9833, at 0.1 0.9836 (the parts outscored a known item's other words).
PART_BOOST = 0.05
EXACT_BOOST = 0.5  # unstemmed match on top of the stemmed one (bench-tuned)
# An unstemmed word in at least this share of the papers that hold its stem is a boost of
# the stem (KeywordIndex._word). 0.8 cost hybrid P@10 0.007, 0.6 known items 0.003.
FOLD_SHARE = 0.9
FUZZY_BOOST = 0.06  # a fuzzy match scores a constant; kept far below a real term match
# An acronym's long form, added to the query (acronyms.py; bench-tuned), unless the acronym
# was typed in capitals: then both forms are one word (KeywordIndex._synonyms).
EXPANSION_BOOST = 0.3
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
TANTIVY_LOCK_FILES = frozenset({".tantivy-meta.lock", ".tantivy-writer.lock"})


def _forget_after_fork():
    """A forked server worker (granian, gunicorn) opens the index anew: the parent's
    reader reloads through a watcher thread, and threads do not survive a fork, so an
    inherited index would never see another process's commits again."""
    global _lock
    _lock = threading.Lock()
    _indexes.clear()
    _close_inherited_tantivy_locks()


def _close_inherited_tantivy_locks():
    """Close the lock files that a parent's tantivy thread held at the fork.

    tantivy locks with flock(), which belongs to the open file, not to a process: a child
    forked while the parent's reload thread held the meta lock keeps that lock for its
    whole life, though no thread of the child will ever release it. Its own open of the
    index then waits on it forever, and so does the parent's next commit. Linux only
    (/proc); elsewhere a server does not fork from a parent that searched."""
    fds = Path("/proc/self/fd")
    if not fds.is_dir():
        return
    for fd in fds.iterdir():
        try:
            held = os.readlink(fd)
        except OSError:  # closed meanwhile, or the listing's own descriptor
            continue
        if Path(held).name in TANTIVY_LOCK_FILES:
            os.close(int(fd.name))


os.register_at_fork(after_in_child=_forget_after_fork)


@dataclass
class Hit:
    pk: int
    score: float
    titled: bool = False  # the title holds most of the query's words (TitleCoverage)
    proximity: float = 0.0  # the part of `score` that is the Proximity bonus


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
    # Hyphenated words as one token ("vision-languag"): a typed compound is then one term
    # query, where a phrase of its parts cost up to 70 ms at 1M papers (see _clause).
    compounds = (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.regex(r"[^\W_]+(?:-[^\W_]+)+"))
        .filter(tantivy.Filter.remove_long(60))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .filter(tantivy.Filter.stemmer("english"))
        .build()
    )
    return {"en": words, "names": names, "compounds": compounds}


ANALYZERS = _analyzers()
STOP_STEMS = frozenset(stem for word in STOPWORDS for stem in ANALYZERS["en"].analyze(word))
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
    builder.add_text_field("compounds", tokenizer_name="compounds", index_option="freq")
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

    @property
    def buffering(self):
        """Within bulk(): a reindex or a refill."""
        return self._pending is not None

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
        text = f"{doc['title']}\n{doc['abstract']}"
        title = _with_name_forms(doc["title"])
        text_with_forms = _with_name_forms(text)
        document.add_text("text", text_with_forms)
        document.add_text("title", title)
        document.add_text("abstract", _with_name_forms(doc["abstract"]))
        for name in author_names(doc):  # one value each: a phrase stays within a name
            document.add_text("authors", name)
        document.add_text("title_words", title)
        document.add_text("text_words", text_with_forms)
        document.add_text("compounds", text)
        for category in doc["categories"]:
            document.add_text("category", category.lower())
        document.add_text("arxiv_id", doc["arxiv_id"])
        document.add_date("published", doc["published_at"])
        document.add_unsigned("has_code", int(doc["has_code"]))
        document.add_unsigned("featured", int(doc["featured"]))
        return document

    def refresh_statistics(self):
        """Nothing to recount: tantivy keeps its document frequencies as it indexes (the
        PostgreSQL engine recounts its own)."""
        return None

    def statistics_are_stale(self):
        return False

    def outdated(self, paper_ids=None, *, limit=None):
        """No document is of an older format: a new format is a new index (SCHEMA_VERSION)."""
        return []

    def count_outdated(self):
        return 0

    # --- reading -------------------------------------------------------------------
    def searcher(self):
        return self.index.searcher()

    def count(self):
        return self.index.searcher().num_docs

    def search(
        self, parsed, filters, *, limit, sort="relevance", enough=None, page=None, every_word=False
    ):
        """(hits best first, total matches). Sort "newest" is done by the index itself.

        Two stages for relevance: the index ranks the matches with plain term queries,
        then the best RESCORE_POOL get their title-coverage bonus here.

        enough: when the rarer words match fewer papers than this (default: limit), the
        common words select papers too (see build_query). A page needs a page of papers,
        the hybrid a pool; the fallback, a search of every word, cost up to 22 ms at 1M
        papers for 6% of the queries when a page asked for the whole pool of 300.

        page: the page a keyword search would show (default: limit). When the rarer words
        match a page of papers, those come first, ranked as that page ranks them, and the
        papers the fallback adds follow: the hybrid widens the keyword results, it does
        not replace them. Ranked together, a paper without the rare word ("MLLMs") but
        with the common ones in its title took the first places from the known item.

        every_word: only the papers that hold every word of the query (count_every_word)
        match, ranked as usual."""
        searcher = self.index.searcher()
        coverage = TitleCoverage.of(parsed, searcher) if sort == "relevance" else None
        fetch = max(1, max(limit, RESCORE_POOL) if coverage else limit)
        kwargs = {}
        if sort == "newest":
            kwargs = {"order_by_field": "published", "order": tantivy.Order.Desc}
        narrow = sort != "newest"
        query, narrowed = self.build_query(parsed, filters, narrow=narrow, every_word=every_word)
        if query is None:
            return [], 0
        result = searcher.search(query, limit=fetch, count=True, **kwargs)
        first = []
        if narrowed and result.count < (limit if enough is None else enough):
            if result.count >= (limit if page is None else page):
                first = self._ranked(parsed, searcher, result, sort, coverage)
            query, _ = self.build_query(parsed, filters, narrow=False, every_word=every_word)
            result = searcher.search(query, limit=fetch, count=True, **kwargs)
        hits = self._ranked(parsed, searcher, result, sort, coverage)
        if first:
            held = {hit.pk for hit in first}
            hits = first + [hit for hit in hits if hit.pk not in held]
        return (hits[: max(1, limit)] if coverage else hits), result.count

    def _ranked(self, parsed, searcher, result, sort, coverage):
        """The result's hits, best first, with their bonuses when `coverage`."""
        addresses = [address for _, address in result.hits]
        pks = searcher.fast_field_values("pk", addresses) if addresses else []
        scores = [score if sort != "newest" else 0.0 for score, _ in result.hits]
        hits = [Hit(pk=pk, score=float(sc)) for pk, sc in zip(pks, scores, strict=True)]
        if coverage:
            hits = coverage.rescore(hits)
            if proximity := Proximity.of(parsed, searcher):
                hits = proximity.rescore(hits)
        return hits

    def build_query(self, parsed: ParsedQuery, filters: Filters, *, narrow=True, every_word=False):
        """(the first stage's query, whether it was narrowed), or (None, False).

        Free words are (boosted) term queries, summed. Narrowed: when the query also has
        rarer words, a paper must match one of those, and the common words only add to
        its score (Lucene's "common terms" query): the same scores, but tantivy no longer
        walks the common words' whole posting lists, only seeks in them. When every word
        is common, a paper must hold them all (if the rarest is not too common: see
        AND_SHARE). Phrases and the coverage clause are kept out of this stage: they cost
        4x a union at 1M papers. every_word: a paper must also hold every word (_every_word),
        which does not change its score."""
        Occur = tantivy.Occur
        searcher = self.index.searcher()
        parts = []
        words = [c for c in parsed.should if c.text.lower() not in STOPWORDS] or parsed.should
        rare, common, rarest = [], [], 1.0  # each word's queries; the rarest common share
        # An acronym typed as one ("LMs") and its long form are scored as one word.
        typed = {c.text for c in words if not c.expansion}
        long_forms = {c.of: c for c in words if c.of in typed and typed_as_acronym(c.of)}
        for clause, weight in [(clause, 1.0) for clause in words] + _other_forms(words):
            if clause.of in long_forms:
                continue  # scored with the acronym typed, as one word
            if long := long_forms.get(clause.text):
                query, share = self._synonyms(clause, long, searcher)
                queries = [query] if query is not None else []
            elif isinstance(clause, Split):
                queries, share = self._split(clause), 0.0  # rare: a name and its number
            else:
                queries, share = self._clause(clause, searcher), self._share(clause, searcher)
            if not queries:
                continue
            if weight != 1.0:
                queries = [tantivy.Query.boost_query(query, weight) for query in queries]
            if narrow and share > COMMON_SHARE:
                common.append(queries)
                rarest = min(rarest, share)
            else:
                rare.append(queries)
        everything = [query for queries in rare + common for query in queries]
        all_common = not rare and len(common) > 1 and rarest < AND_SHARE
        if rare and common:
            parts.append((Occur.Must, self._any_of([q for queries in rare for q in queries])))
            parts += [(Occur.Should, query) for queries in common for query in queries]
        elif all_common:
            parts += [(Occur.Must, self._any_of(queries)) for queries in common]
        elif everything:
            parts.append((Occur.Must, self._any_of(everything)))
        elif parsed.should and not parsed.must:
            # Only unusable words (emoji, punctuation): nothing can match them.
            return None, False
        narrowed = bool(rare and common) or all_common
        restrictions = self._restrictions(parsed, filters, searcher)
        if restrictions is None:
            return None, False
        parts += restrictions + (self._every_word_part(parsed) if every_word else [])
        if not parts:
            return None, False
        return _conjunction(parts), narrowed

    def _restrictions(self, parsed, filters, searcher):
        """[(occur, query)] of the phrases and fielded terms (required), the exclusions and
        the filters; None when a required one holds no word (ti:!!!): nothing matches."""
        Occur = tantivy.Occur
        parts = []
        for clause in parsed.must:
            query = self._any_of(self._clause(clause, searcher, fuzzy=False))
            if query is None:
                return None
            parts.append((Occur.Must, query))
        for clause in parsed.must_not:
            if query := self._any_of(self._clause(clause, searcher, fuzzy=False)):
                parts.append((Occur.MustNot, query))
        return parts + self._filters(parsed, filters)

    def count_every_word(self, parsed, filters, *, limit=None):
        """How many papers hold every word of the query (every_word_needs: stems, name
        forms, acronyms' long forms) and meet its phrases, fields, exclusions and filters,
        at most `limit`. A conjunction: tantivy seeks in the posting lists instead of
        scoring their union, and counts them all (under a millisecond at 78k papers)."""
        searcher = self.index.searcher()
        parts = self._restrictions(parsed, filters, searcher)
        if parts is None:
            return 0
        query = _conjunction(parts + self._every_word_part(parsed))
        count = searcher.search(query, limit=1, count=True).count
        return count if limit is None else min(count, limit)

    def _every_word_part(self, parsed):
        """[(Must, the papers holding every word)], or [] when no word can be looked for."""
        held = self._every_word(parsed)
        return [] if held is None else [(tantivy.Occur.Must, held)]

    def _every_word(self, parsed):
        """A query (scoring nothing) that the papers holding every word of the query match,
        or None when no typed word can be looked for (only punctuation)."""
        Occur, Query = tantivy.Occur, tantivy.Query
        needs, whole = every_word_needs(parsed)
        required = []
        for own, *others in needs:
            if (typed := self._holding(own)) is None:
                continue  # a word of no letters: the engines look for nothing
            forms = [form for form in map(self._holding, others) if form is not None]
            required.append(self._any_of([typed, *forms]) if forms else typed)
        if not required:
            return None
        every = Query.boolean_query([(Occur.Must, query) for query in required])
        if whole is not None and (spelt := self._holding(whole)) is not None:
            every = self._any_of([every, spelt])
        return Query.const_score_query(every, 0.0)

    def _holding(self, form):
        """The query of the papers that hold a form of a word (every_word_needs) or None:
        a word stemmed in title and abstract, or as written among the authors. A typed word
        of parts ("tool-use", "2.0") is held whole or by its parts side by side ("tool
        use"); an acronym's long form by each of its words, as the engine matches it; a
        Split as the phrase of its parts."""
        Occur, Query, schema = tantivy.Occur, tantivy.Query, self.schema
        if isinstance(form, Split):
            return next(iter(self._split(form)), None)
        words = []
        for word in ANALYZERS["names"].analyze(form.text):
            if word in STOPWORDS:
                continue
            stems = ANALYZERS["en"].analyze(word)
            held = [Query.term_query(schema, "authors", word)]
            if not stems:
                held.append(Query.term_query(schema, "text_words", word))
            for stem in [*stems[:1], *filter(None, map(other_number, stems[:1]))]:
                held.append(Query.term_query(schema, "text", stem))
            words.append(self._any_of(held))
        if len(words) < 2:
            return words[0] if words else None
        compounds = ANALYZERS["compounds"].analyze(form.text)
        whole = [Query.term_query(schema, "compounds", compound) for compound in compounds]
        if form.expansion:
            every = Query.boolean_query([(Occur.Must, query) for query in words])
            return self._any_of([*whole, every])
        side_by_side = self._phrase(Clause(text=form.text, phrase=True))
        return self._any_of([*whole, *(query for query, _ in side_by_side)])

    def title_shares(self, parsed: ParsedQuery, pks):
        """{pk: share of the query's weight that the paper's title holds}, 0..1.

        A paper whose title names what a topic query asks for is about it; one that only
        mentions those words in its abstract often is not ("making diffusion LMs decode
        faster" matched a video-generation abstract that says "diffusion" and "faster").
        Each typed word counts its BM25 idf, stems compared; a typed acronym is held by
        a title with either form, and counts as the commoner form (LMs as "language")."""
        searcher = self.index.searcher()
        docs = max(1, searcher.num_docs)

        def stems(text):
            return frozenset(
                stem
                for word in ANALYZERS["names"].analyze(text)
                if word not in STOPWORDS
                for stem in ANALYZERS["en"].analyze(word)
            )

        def weight(form):
            idf = max(_idf(searcher.doc_freq("text", stem), docs) for stem in form)
            return idf**TITLE_IDF_POWER

        groups = []
        for clause in parsed.should:
            if clause.expansion or clause.field or not (own := stems(clause.text)):
                continue
            forms = [own] + [
                long
                for other in parsed.should
                if other.expansion and other.of == clause.text and (long := stems(other.text))
            ]
            groups.append((min(weight(form) for form in forms), forms))
        total = sum(w for w, _ in groups)
        if not total:
            return {}
        # A query that is an acronym's long form is held whole by a title with the acronym.
        short = stems(parsed.short_form) if parsed.short_form else None
        shares = {}
        for pk, title in _titles_of(list(pks)):
            held = stems(title)
            whole = short and short <= held
            shares[pk] = (
                1.0
                if whole
                else sum(w for w, forms in groups if any(f <= held for f in forms)) / total
            )
        return shares

    def _synonyms(self, typed, long, searcher):
        """(query or None, share of papers): a typed acronym and its long form as one word,
        as Lucene's SynonymQuery does: with the IDF of the papers that hold either form,
        whichever form a paper uses. Scored apart, "LMs" (in 3 of 224 papers) outweighed
        "language models" (113) thirtyfold, so papers that write the short form won."""
        docs = max(1, searcher.num_docs)

        def idf(freq):
            return _idf(freq, docs)

        def freq(word):
            return max((searcher.doc_freq("text", s) for s in ANALYZERS["en"].analyze(word)),
                       default=0)  # fmt: skip

        long_words = [w for w in ANALYZERS["names"].analyze(long.text) if w not in STOPWORDS]
        short_freq, long_freqs = freq(typed.text), [freq(word) for word in long_words]
        either = min(docs, short_freq + min(long_freqs, default=0))  # at most
        Query = tantivy.Query
        forms = []
        if short := self._any_of(self._clause(typed, searcher)):
            forms.append(Query.boost_query(short, idf(either) / max(idf(short_freq), 1e-3)))
        if spelt := self._any_of(self._clause(Clause(text=long.text), searcher, fuzzy=False)):
            weight = idf(either) / max(sum(idf(f) for f in long_freqs), 1e-3)
            forms.append(Query.boost_query(spelt, weight))
        query = Query.disjunction_max_query(forms, 0.0) if forms else None
        return query, either / docs

    def _share(self, clause, searcher):
        """The share of the papers that hold the free word (its rarest term)."""
        if compounds := ANALYZERS["compounds"].analyze(clause.text):
            terms = [("compounds", compound) for compound in compounds]
        else:
            terms = [("text", stem) for stem in ANALYZERS["en"].analyze(clause.text)]
        freq = min((searcher.doc_freq(field, term) for field, term in terms), default=0)
        return freq / max(1, searcher.num_docs)

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
        for category in parsed.excluded_categories:
            parts.append((Occur.MustNot, Query.term_query(schema, "category", category)))
        for arxiv_id in parsed.excluded_ids:
            parts.append((Occur.MustNot, Query.term_query(schema, "arxiv_id", arxiv_id)))
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

    @staticmethod
    def _any_of(queries):
        if not queries:
            return None
        return tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in queries])

    def _clause(self, clause: Clause, searcher, *, fuzzy=True):
        """The clause's queries, as term queries where possible, boosted.

        A phrase walks the positions of every paper holding its words: one in a query
        ("vision-language" as a phrase of its parts) made it up to 70 ms slower at 1M
        papers. So a typed word is term queries (a hyphenated one a single term of the
        compounds field), and an acronym's long form is its words."""
        if clause.field is not None or clause.phrase:
            weighted = self._phrase(clause)
        elif compounds := ANALYZERS["compounds"].analyze(clause.text):
            weighted = [
                (tantivy.Query.term_query(self.schema, "compounds", c), 1.0) for c in compounds
            ]
        else:
            weighted = [
                pair
                for word in ANALYZERS["names"].analyze(clause.text)
                if word not in STOPWORDS
                for pair in self._word(word, searcher, fuzzy and not clause.expansion)
            ]
        weight = EXPANSION_BOOST if clause.expansion else 1.0
        Query = tantivy.Query
        return [q if b * weight == 1.0 else Query.boost_query(q, b * weight) for q, b in weighted]

    def _word(self, word, searcher, fuzzy):
        """A typed word, as (query, boost) pairs of term queries only: its stem in title and
        abstract, the word itself in the authors and (a bonus) unstemmed, and title words
        one or two edits away when no paper has it (a typo)."""
        Query, schema = tantivy.Query, self.schema
        stems = ANALYZERS["en"].analyze(word)
        stem_freq = searcher.doc_freq("text", stems[0]) if stems else 0
        exact_freq = searcher.doc_freq("text_words", word)
        pairs = [(Query.term_query(schema, "authors", word), AUTHORS_BOOST)]
        if stems and exact_freq >= FOLD_SHARE * stem_freq > 0:
            # Nearly every paper with the stem has the word itself, so the bonus is the
            # stem's own score again: a boost, instead of walking a second posting list as
            # long as the stem's (that was a third of a query's time at 1M papers).
            docs = max(1, searcher.num_docs)
            boost = 1 + EXACT_BOOST * _idf(exact_freq, docs) / _idf(stem_freq, docs)
            pairs.append((Query.term_query(schema, "text", stems[0]), boost))
        else:
            pairs.append((Query.term_query(schema, "text_words", word, "freq"), EXACT_BOOST))
            if stems:
                pairs.append((Query.term_query(schema, "text", stems[0]), 1.0))
        if fuzzy and _is_typo(word, stem_freq):
            typo = Query.fuzzy_term_query(schema, "title_words", word, _typo_distance(word))
            pairs.append((typo, FUZZY_BOOST))
        return pairs

    def _split(self, split):
        """A name typed joined to its number ("Qwen3"), as a phrase of the two ("Qwen 3")."""
        stems = [stem for part in split.parts for stem in ANALYZERS["en"].analyze(part)]
        return [tantivy.Query.phrase_query(self.schema, "text", stems)] if len(stems) > 1 else []

    def _phrase(self, clause: Clause):
        """A quoted phrase or a fielded term, as (query, boost) pairs."""
        Query, schema = tantivy.Query, self.schema
        pairs = []
        for name in (clause.field,) if clause.field else FREE_FIELDS:
            tokens = ANALYZERS[FIELD_ANALYZER[name]].analyze(clause.text)
            if len(tokens) == 1:
                query = Query.term_query(schema, name, tokens[0])
            elif tokens:
                query = Query.phrase_query(schema, name, tokens[:16])
            else:
                continue
            pairs.append((query, AUTHORS_BOOST if name == "authors" else 1.0))
        return pairs


@dataclass
class Split:
    """A word typed as a name joined to its version number ("Qwen3"), in its parts."""

    parts: tuple
    word: str = ""  # the free word typed
    of: None = None
    expansion: bool = False
    text: str = ""


NAME_AND_NUMBER = re.compile(r"([^\W\d_]{2,})(\d\w*)")
NUMBER_FIRST = re.compile(r"\d")
# A word as PostgreSQL's parser keeps it whole: letters and digits joined by dots and
# hyphens ("Qwen2.5-VL", "LLaDA2.0"); such a word that starts with a name and a number
# (NAME_AND_NUMBER); and a name with its version ("qwen2.5").
GLUED_WORD = re.compile(r"[^\W_]+(?:[.-][^\W_]+)*")
VERSIONED_WORD = re.compile(r"(?<![^\W_])(?<![^\W_][.-])[^\W\d_]{2,}\d[^\W_]*(?:[.-][^\W_]+)*")
NAME_AND_VERSION = re.compile(r"[^\W\d_]{2,}\d+(?:\.\d+)*")
SEPARATOR = re.compile(r"[.-]")


def name_forms(text):
    """The other forms of the names written joined to their version in the text, lower
    case, each once, none that the text already holds as a word: the name ("Qwen3",
    "Qwen2.5-VL", "LLaDA2.0": qwen, llada) and the name with its version where a dot or a
    hyphen follows ("Qwen2.5-VL": qwen2, qwen2.5; "LLaDA2.0": llada2).

    Both engines index them with the text they come from, so that a search for the name,
    or for the name with a shorter version, finds the papers that only write it joined:
    tantivy's tokenizer makes "Qwen3" one word and PostgreSQL's makes "Qwen2.5-VL" one.
    Only a word whose first part is letters and then digits has forms (NAME_AND_NUMBER)."""
    forms = {}
    for word in VERSIONED_WORD.findall(text):  # most texts have none: no other work
        word = word.lower()
        forms[NAME_AND_NUMBER.match(word)[1]] = None
        for cut in SEPARATOR.finditer(word):
            if NAME_AND_VERSION.fullmatch(prefix := word[: cut.start()]):
                forms[prefix] = None
    if not forms:
        return []
    present = {word.lower() for word in GLUED_WORD.findall(text)}
    return [form for form in forms if form not in present]


def _with_name_forms(text):
    """The text and, after it, the name forms that the tantivy tokenizer does not already
    make of it (it splits at dots and hyphens: "qwen2.5-vl" is already qwen2, 5, vl)."""
    if not (forms := [form for form in name_forms(text) if form.isalnum()]):
        return text
    words = set(ANALYZERS["names"].analyze(text))
    forms = [form for form in forms if form not in words]
    return f"{text}\n{' '.join(forms)}" if forms else text


def _other_forms(words):
    """The other forms of the free words, scored besides them: each part of a hyphenated
    word ("tool-use": tool, use; the compound itself is a single term, so a paper that
    writes "tool use" or "Tool-Augmented" is found too, and one with the compound ranks
    higher), and the forms of a name with its version (typed_version_forms)."""
    forms = []  # [(form, its weight)]
    for clause in words:
        if clause.expansion or clause.field or clause.phrase:
            continue
        if ANALYZERS["compounds"].analyze(clause.text):
            for part in ANALYZERS["names"].analyze(clause.text):
                forms.append((Clause(text=part), PART_BOOST))
    return forms + [(form, 1.0) for form in typed_version_forms(words)]


def typed_version_forms(words):
    """The other forms of the names typed with a version among the free words: a name and
    the number typed after it, joined ("LLaDA 2.0": the Clause "llada2", as titles write
    it), and a name typed joined to its number, split ("Qwen3": the Split of "qwen" and
    "3", a phrase). Used by both engines."""
    forms = []
    free = [c for c in words if not (c.expansion or c.field or c.phrase)]
    for clause in free:
        for word in ANALYZERS["names"].analyze(clause.text):
            if match := NAME_AND_NUMBER.fullmatch(word):
                forms.append(Split(parts=match.groups(), word=clause.text))
    return forms + [joined for _, _, joined in _joined_names(free)]


def _joined_names(free):
    """[(name clause, number clause, the Clause of the two joined)] of the free words that
    are a name followed by its version number ("LLaDA 2.0": llada2)."""
    joined = []
    for first, second in zip(free, free[1:], strict=False):
        if NUMBER_FIRST.match(second.text) and (name := ANALYZERS["names"].analyze(first.text)):
            number = ANALYZERS["names"].analyze(second.text)
            if number and NAME_AND_NUMBER.fullmatch(text := name[-1] + number[0]):
                joined.append((first, second, Clause(text=text)))
    return joined


def every_word_needs(parsed):
    """What a paper must hold to match every word of the query, engine aside: (needs, the
    acronym the whole query spells out or None). One need per typed word (stop words aside,
    as the engines rank them), each a list of forms, any of which holds it: the word itself
    (its parts side by side), its acronym's long form (all its words), a name typed joined
    to its version as the phrase of the two (Split: "Qwen3", "qwen 3"), and a name and the number
    typed after it joined ("LLaDA 2.0": llada2 holds both). A paper that holds the whole
    query's acronym ("LoRA" for "low-rank adaptation") holds every word. Typo corrections
    hold nothing: a misspelt word is a word no paper holds."""
    words = [c for c in parsed.should if c.text.lower() not in STOPWORDS] or parsed.should
    typed = [c for c in words if not c.expansion]
    needs = {id(clause): [clause] for clause in typed}
    by_text = {}
    for clause in typed:
        by_text.setdefault(clause.text, []).append(clause)
    for clause in words:
        if clause.expansion and clause.of:
            for word in by_text.get(clause.of, []):
                needs[id(word)].append(clause)
    for form in typed_version_forms(words):
        if isinstance(form, Split):
            for word in by_text.get(form.word, []):
                needs[id(word)].append(form)
    free = [c for c in words if not (c.expansion or c.field or c.phrase)]
    for first, second, joined in _joined_names(free):
        needs[id(first)].append(joined)
        needs[id(second)].append(joined)
    whole = next(
        (c for c in words if c.expansion and not c.of and c.text == parsed.short_form), None
    )
    return [needs[id(clause)] for clause in typed], whole


def other_number(stem):
    """The stem of the word's other number where the stemmer keeps a plural's s ("llms"
    and "llm"; "models" is "model" already), or None: a paper that writes "LLMs" holds the
    word "LLM", as a topic alert reads it (selectors._holds_words)."""
    if not stem.isalpha():
        return None
    if len(stem) > 3 and stem[-1] == "s" and stem[-2] not in "aeiouys":  # "llms", not "diffus"
        return stem[:-1]
    plural = ANALYZERS["en"].analyze(stem + "s")
    return plural[0] if plural and plural[0] != stem else None


def counts_every_word(parsed):
    """Whether "every word" says more than "any word": two typed words at least."""
    return len(every_word_needs(parsed)[0]) > 1


def _version_forms(words):
    """The other forms of the names with a version among the words: "llada2" is also
    "llada" and "2", "qwen" followed by "3" also "qwen3"."""
    forms = set()
    for word, after in zip(words, [*words[1:], ""], strict=True):
        if match := NAME_AND_NUMBER.fullmatch(word):
            forms.update(match.groups())
        if after[:1].isdigit() and NAME_AND_NUMBER.fullmatch(word + after):
            forms.add(word + after)
    return forms


def _name_in(word, text):
    """Whether a typed name with its version ("qwen3") has its name in the text."""
    return bool(match := NAME_AND_NUMBER.fullmatch(word)) and match[1] in text


def _conjunction(parts):
    """The boolean query of [(occur, query)]; with nothing required (only exclusions and
    scoring words), every paper is a candidate that those then narrow."""
    if not any(occur == tantivy.Occur.Must for occur, _ in parts):
        parts = [*parts, (tantivy.Occur.Must, tantivy.Query.all_query())]
    return tantivy.Query.boolean_query(parts)


def _idf(freq, docs):
    """BM25's inverse document frequency, as tantivy computes it. A word's count also holds
    deleted documents until segments merge (a reindex deletes every one), so it can pass
    the live count: at most every document holds it, and the idf is never negative."""
    freq = min(freq, docs)
    return math.log(1 + (docs - freq + 0.5) / (freq + 0.5))


def _singular(word):
    return word[:-1] if len(word) > 3 and word.endswith("s") else word


def _is_typo(word, doc_freq):
    """A word (almost) no paper has, long enough to be a misspelling of one that many have."""
    return doc_freq <= 2 and len(word) >= 4 and not word.isdigit()


def _typo_distance(word):
    return 1 if len(word) < 8 else 2


class TitleCoverage:
    """A bonus for titles that contain most of the query's words (typos forgiven).

    A title typed from memory matches its paper's title almost word for word, while a list
    of keywords rarely covers any one title: this separates the two without a global title
    boost, which measurably hurts keyword queries (bench/search_quality). Scored as tantivy
    would score the words on the titles (BM25, each word once), for the candidates only:
    their titles are read from the database (1-3 ms for 300 at 1M papers: _titles).
    """

    def __init__(self, words, searcher, short_form=None, spelt=None):
        self.words = words
        self.short_form = short_form  # a title with it holds all the words (acronyms.py)
        self.spelt = spelt or {}  # {typed acronym: long form's words}: a title holding them
        # holds the acronym
        self.typos = {w for w in words if _is_typo(w, searcher.doc_freq("title_words", w))}
        docs = max(1, searcher.num_docs)
        self.idf = {word: _idf(searcher.doc_freq("title_words", word), docs) for word in words}
        self.needed = max(1, math.ceil(TITLE_COVERAGE * len(words)))

    @classmethod
    def of(cls, parsed: ParsedQuery, searcher):
        words = []
        for clause in parsed.should:
            if clause.expansion:
                continue
            for word in ANALYZERS["names"].analyze(clause.text):
                if word not in words:
                    words.append(word)
        if len(words) < MIN_COVERAGE_WORDS:
            return None
        spelt = {
            clause.of.lower(): {_singular(w) for w in ANALYZERS["names"].analyze(clause.text)}
            for clause in parsed.should
            if clause.of and typed_as_acronym(clause.of)
        }
        return cls(words[:MAX_COVERAGE_WORDS], searcher, parsed.short_form, spelt)

    def rescore(self, hits):
        """The hits with their bonus added, best first."""
        titles = dict(_titles(hits))
        if not titles:
            return hits
        # Lengths in words between spaces: analysing every title of the pool for its
        # length cost ~1 ms a query at 1M papers. Only the titles that may hold enough of
        # the words (~6% of the pool) are analysed.
        average = max(1.0, sum(_length(title) for title in titles.values()) / len(titles))
        tokens = {
            pk: ANALYZERS["names"].analyze(title)
            for pk, title in titles.items()
            if self._may_cover(title)
        }
        near = self._near_typos({word for words in tokens.values() for word in words})
        rescored = list(hits)
        for i, hit in enumerate(hits):
            if hit.pk in tokens:
                length = _length(titles[hit.pk])
                if bonus := self._bonus(tokens[hit.pk], length / average, near):
                    rescored[i] = Hit(pk=hit.pk, score=hit.score + bonus, titled=True)
        rescored.sort(key=lambda hit: hit.score, reverse=True)
        return rescored

    def _may_cover(self, title):
        """Whether the title may hold enough of the words: a quick test that never says no
        to a title that does (a word of an ASCII title is in its lower-case text)."""
        if not title.isascii():
            return True  # accents are folded by the analyzer
        text = title.lower()
        if self.short_form and self.short_form in text:
            return True
        found = sum(1 for word in self.idf if word in text or _name_in(word, text))
        return found + len(self.typos) + len(self.spelt) >= self.needed

    def _near_typos(self, vocabulary):
        """For each misspelt query word, the candidates' title words one or two edits away."""
        near = {}
        for typo in self.typos:
            matches = process.extract(
                typo, vocabulary, scorer=OSA.distance,
                score_cutoff=_typo_distance(typo), limit=None,
            )  # fmt: skip
            near[typo] = {match for match, _, _ in matches}
        return near

    def _bonus(self, title, relative_length, near):
        if not title:
            return 0.0
        present = set(title) | _version_forms(title)
        if self.spelt:
            singular = {_singular(word) for word in title}
            present |= {short for short, long in self.spelt.items() if long <= singular}
        exact = self.idf.keys() if self.short_form in present else self.idf.keys() & present
        fuzzy = sum(1 for typo, close in near.items() if typo not in present and close & present)
        if len(exact) + fuzzy < self.needed:
            return 0.0
        # BM25 of a word that occurs once, in a title of this length (tantivy's formula);
        # a fuzzy match scores a constant, as tantivy's fuzzy queries do.
        norm = (BM25_K1 + 1) / (1 + BM25_K1 * (1 - BM25_B + BM25_B * relative_length))
        return COVERAGE_BOOST * (norm * sum(self.idf[word] for word in exact) + fuzzy)


class Proximity:
    """A bonus for papers whose text holds two of the query's adjacent words side by side
    ("chain of thought", "low-rank adaptation"; stop words left out of both): a paper that
    holds the query's phrases is about them, one that holds its words apart may only
    mention them. Each pair counts its rarer word's idf.

    For the best PROXIMITY_POOL candidates only, from their text in the database: a known
    item that the bonus can lift is among them. As phrase queries in tantivy, this cost
    0.4-2 ms a pair at 1M papers; this way ~0.1 ms a paper."""

    def __init__(self, pairs):
        self.pairs = pairs  # [({(stem, next stem), ...: either form of the pair}, weight)]
        self.lengths = {len(form) for forms, _ in pairs for form in forms}

    @classmethod
    def of(cls, parsed: ParsedQuery, searcher):
        """An acronym typed ("LMs") also pairs through its long form ("diffusion language"),
        as the engine scores both forms as one word."""
        if not PROXIMITY_BOOST:
            return None
        long_forms = {}
        for clause in parsed.should:
            if clause.expansion and clause.of and (stems := _stems(clause.text)):
                long_forms.setdefault(clause.of, []).append((stems[0], stems[-1]))
        # [(stem, [(first stem, last stem) of each form], [forms of its word's parts before it])]
        words = []
        for clause in parsed.should:
            if clause.expansion or clause.field:
                continue
            stems = _stems(clause.text)
            extra = long_forms.get(clause.text, []) if len(stems) == 1 else []
            versioned = any(NUMBER_FIRST.search(stem) for stem in stems)  # "Qwen2.5-VL"
            words += [
                (stem, [(stem, stem), *extra], _before(stems[:i]) if versioned else [()])
                for i, stem in enumerate(stems)
            ]
        docs = max(1, searcher.num_docs)
        idf = {stem: _idf(searcher.doc_freq("text", stem), docs) for stem, _, _ in words}
        pairs = [
            ({(*head, a[1], b[0]) for head in before for a in first_forms for b in second_forms},
             PROXIMITY_BOOST * min(idf[first], idf[second]))
            for (first, first_forms, before), (second, second_forms, _)
            in zip(words, words[1:], strict=False)
            if first != second
        ]  # fmt: skip
        return cls(pairs) if pairs else None

    def rescore(self, hits):
        """The hits with their bonus added, best first.

        A pair is held side by side in the title and abstract, or within one author's name:
        free words match the authors too, and "Kaiming He diffusion" ranked papers that say
        "He" and "Kaiming initialization" above those by Kaiming He, and "Yann LeCun JEPA"
        the abstracts that quote him above his papers on JEPA."""
        head = hits[:PROXIMITY_POOL]
        texts = {pk: (text, authors) for pk, text, authors in _texts([hit.pk for hit in head])}
        rescored = []
        for hit in head:
            text, authors = texts.get(hit.pk) or ("", [])
            held = set()
            for words in (text, *authors):  # a pair never runs from one name into the next
                stems = _stems(words)
                for n in self.lengths:
                    held.update(zip(*(stems[i:] for i in range(n)), strict=False))
            bonus = sum(weight for forms, weight in self.pairs if forms & held)
            rescored.append(
                Hit(pk=hit.pk, score=hit.score + bonus, titled=hit.titled, proximity=bonus)
            )
        rescored.sort(key=lambda hit: hit.score, reverse=True)
        return rescored + hits[PROXIMITY_POOL:]


def _before(parts):
    """The forms of a versioned word's parts before one of them, which a pair of it must
    follow: "5 vl" of "Qwen2.5-VL" is another model's ("Seed1.5-VL") unless "qwen2 5", or
    "qwen 2 5" ("Qwen-2.5-VL"), comes before it."""
    if parts and (match := NAME_AND_NUMBER.fullmatch(parts[0])):
        return [tuple(parts), (*match.groups(), *parts[1:])]
    return [tuple(parts)]


def _stems(text):
    """The text's stems as the index makes them, stop words left out."""
    return [stem for stem in ANALYZERS["en"].analyze(text) if stem not in STOP_STEMS]


def _texts(pks):
    """[(pk, title and abstract, [author's name])] of the papers."""
    if not pks:
        return []
    marks = ", ".join(["%s"] * len(pks))
    table = Paper._meta.db_table
    sql = (
        f"SELECT id, title || ' ' || coalesce(abstract, ''), authors FROM {table} "
        f"WHERE id IN ({marks})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, pks)
        rows = cursor.fetchall()
    return [(pk, text, _names(authors)) for pk, text, authors in rows]


def _names(authors):
    """The names of a paper's authors column, as the database driver returns it (JSON text
    on SQLite, a list on PostgreSQL)."""
    if isinstance(authors, str | bytes):
        try:
            authors = json.loads(authors)
        except ValueError:
            return []
    if not isinstance(authors, list):
        return []
    return [a["name"] for a in authors if isinstance(a, dict) and isinstance(a.get("name"), str)]


def _length(title):
    return len(title.split())


def _titles(hits):
    return _titles_of([hit.pk for hit in hits])


def _titles_of(pks):
    """[(pk, title)] of the papers. In plain SQL: through the ORM, 300 titles took 3.4 ms
    at 1M papers (p50), this way 1.1."""
    if not pks:
        return []
    marks = ", ".join(["%s"] * len(pks))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, title FROM {Paper._meta.db_table} WHERE id IN ({marks})", pks)
        return cursor.fetchall()


FOLLOW = "tantivy-follow"  # DAILYPAPERS_SEARCH_ENGINE of a PostgreSQL site on many machines


def get_index():
    """The keyword engine: PostgreSQL full-text on PostgreSQL, else the tantivy index; on
    PostgreSQL with DAILYPAPERS_SEARCH_ENGINE=tantivy-follow, a tantivy index on each
    machine that follows the database (search/follow.py)."""
    engine = getattr(settings, "SEARCH_ENGINE", "auto")
    postgres = connection.vendor == "postgresql"
    if postgres and engine not in ("tantivy", FOLLOW):
        from .pg import PostgresKeywordIndex

        return PostgresKeywordIndex()
    if postgres and engine == FOLLOW:  # each machine's index follows the database
        from .follow import FollowingIndex as engine_class
    else:
        engine_class = KeywordIndex
    path = index_dir()
    index = _indexes.get(path)
    if type(index) is not engine_class:
        with _lock:
            index = _indexes.get(path)
            if type(index) is not engine_class:
                if engine_class is KeywordIndex and not path.exists():
                    _start_building(path)
                index = _indexes[path] = engine_class(path)
    return index


# --- a new index format, built beside the old one ---------------------------------------------
# A release that changes SCHEMA_VERSION starts a new directory. While the worker fills it,
# searches read the newest older index, when this code can open it (the same fields: a
# change of what the documents hold, not of the schema); a pointer file in the new
# directory names it, and its removal, once the new index holds every visible paper, is
# the switch. Writes go to the new index; those that are not part of the build (a paper
# ingested or edited meanwhile) go to the older one too, so that searches find them.
BUILDING = "building.json"  # {"serving": "keyword-v6"}: searches read that one meanwhile
VERSION_DIR = re.compile(r"keyword-v(\d+)")


def serving_index():
    """The keyword index that searches read: get_index(), or the older index named by its
    BUILDING pointer while a new format's index is filled."""
    index = get_index()
    if type(index) is not KeywordIndex:
        return index  # PostgreSQL full-text; a following index builds its own way
    return building_from(index) or index


def building_from(index):
    """The older KeywordIndex that searches read while `index` is being built, or None."""
    pointer = index.path / BUILDING
    try:
        older = index.path.parent / json.loads(pointer.read_text())["serving"]
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("keyword index: ignoring %s (%s)", pointer, exc)
        return None
    serving = _indexes.get(older)
    if serving is None:
        with _lock:
            serving = _open_older(older)
    if serving is None:  # deleted or unreadable since: searches read the new index
        pointer.unlink(missing_ok=True)
    return serving


def _open_older(path):
    """The KeywordIndex of an older format's directory (under _lock), or None when this
    code cannot open it: gone, or of another schema."""
    if type(index := _indexes.get(path)) is KeywordIndex:
        return index
    if not path.is_dir():
        return None
    try:
        index = _indexes[path] = KeywordIndex(path)
    except ValueError as exc:  # tantivy: "An index exists but the schema does not match."
        log.info("keyword index: %s cannot answer this release's searches (%s)", path, exc)
        return None
    return index


def _start_building(path):
    """Make a new format's directory with its BUILDING pointer when the newest older
    index holds papers and this code can search it; else the new index alone answers,
    empty until the worker fills it. The directory appears with its pointer in it (a
    rename), so that no process ever sees the new index without it."""
    older = [
        (int(match[1]), candidate)
        for candidate in path.parent.glob("keyword-v*")
        if (match := VERSION_DIR.fullmatch(candidate.name))
        and int(match[1]) < SCHEMA_VERSION
        and candidate.is_dir()
        and not (candidate / BUILDING).exists()  # itself never completed
    ]
    if not older:
        return
    serving = _open_older(max(older)[1])
    if serving is None or not serving.count():
        return
    staging = path.with_name(f"{path.name}.{os.getpid()}.new")
    staging.mkdir(parents=True)
    (staging / BUILDING).write_text(json.dumps({"serving": serving.path.name}))
    try:
        staging.rename(path)
    except OSError:  # another process made it first
        (staging / BUILDING).unlink()
        staging.rmdir()
        return
    log.info("keyword index: %s is new; searches read %s until it is filled", path, serving.path)


def finish_building():
    """Switch searches to the new index once it holds every visible paper (those waiting
    to be indexed aside, as tasks.fill_empty_keyword_index counts): its BUILDING pointer
    goes, which every process sees at its next search. True when it switched."""
    from .services import unindexed_count

    index = get_index()
    if type(index) is not KeywordIndex or not (index.path / BUILDING).exists():
        return False
    if index.count() + unindexed_count() < Paper.objects.visible().count():
        return False
    (index.path / BUILDING).unlink(missing_ok=True)
    log.info("keyword index: %s is complete; searches read it now", index.path)
    return True


def write_documents(*, add=(), delete=()):
    """Write to the keyword index, and while a new format's index is built, a write that
    is not part of the build (bulk) to the older index too: searches read that one."""
    index = get_index()
    index.write(add=add, delete=delete)
    if type(index) is KeywordIndex and not index.buffering and (older := building_from(index)):
        older.write(add=add, delete=delete)


AUTHOR_SEPARATOR = " ; "  # between the names in a document's "authors" (paper_document)


def author_names(doc):
    """The names of a document's authors, each apart: indexed apart, the last name of one
    author and the first of the next are not side by side (au:"Wei Liu" is not "Ada Wei,
    Liu Yang")."""
    return doc["authors"].split(AUTHOR_SEPARATOR)


def paper_document(paper, *, featured):
    authors = paper.authors or []
    return {
        "pk": paper.pk,
        # "$\\mathbf{\\texttt{D}}$ual-$\\mathbf{\\texttt{H}}$ead" is found as "Dual-Head"
        "title": tex_words(paper.title),
        "abstract": tex_words(paper.abstract),
        "authors": AUTHOR_SEPARATOR.join(a.get("name", "") for a in authors if isinstance(a, dict)),
        "categories": list(paper.categories or []) or [paper.primary_category],
        "arxiv_id": paper.arxiv_id,
        "published_at": paper.published_at,
        "has_code": bool(paper.github_repo),
        "featured": featured,
    }
