"""Reads of the search app: search, related papers, recommendations. Never raise on input."""

import functools
import hashlib
import logging
import random
import re
from dataclasses import dataclass, field

import numpy as np
from django.core.cache import cache

from dailypapers.folding import fold_accents
from dailypapers.papers.models import Author, Paper, PaperAuthor, Vote
from dailypapers.papers.tex import tex_words

from . import acronyms, fusion, keyword, recommend, related
from .embedders import get_embedder
from .gate import searches
from .keyword import Filters
from .models import PaperEmbedding, PaperFeedback
from .query import normalise_title, parse
from .services import index_generation
from .vectors import get_store

log = logging.getLogger(__name__)

SORTS = ("relevance", "newest", "upvotes")
MAX_LIMIT = 100
MAX_OFFSET = 2000
SORT_POOL = 1000  # the most relevant matches that "upvotes" re-sorts
# The hybrid's pool starts with a keyword page of at least this many papers (the default
# page): with the request's own limit, a page of 6 began with the 10 papers that hold the
# query's rarest word ("faster": video papers), a page of 20 did not, so the first
# results changed with the page size.
PAGE = 20
# Past this many papers with every word, pages say "More than 1,000": PostgreSQL read every
# one of them, 400 ms for the 30,721 of "large language models" at 78k papers (22 ms to
# stop after 1,001), and nobody pages through a thousand.
COUNT_MAX = 1000
SEMANTIC_MIN = 0.45  # query cosine below which a paper is not "about" it (bench-tuned)
SEMANTIC_OFF = "Semantic search is unavailable; showing keyword results."
TOO_DEEP = "Results stop after the first 2,000; refine the search to see others."
INDEX_OFF = "Search is temporarily unavailable."
# A query that is an author's full name (two words at least, each a name's) puts that
# author's papers first; an author with more leads with their newest this many.
NAME_WORD = re.compile(r"[^\W\d_][^\W\d_.'’-]*(?:[.'’-][^\W\d_]*)*\.?")
NAME_WORDS = (2, 6)
# What a paper calls itself: the title before its colon, or before "Technical Report".
TITLE_NAME = re.compile(r"\s*(?P<name>[^:]{1,60}?)\s*(?::\s|\s+tech(?:nical)? report\b)", re.I)
COINED = re.compile(r"\d|\w[A-Z]")  # a digit, or a capital inside a word: a coined name
NAMED_WORDS = 4  # a name is a few words; a longer query asks about something
AUTHOR_PAPERS = 200


@dataclass
class SearchResults:
    papers: list
    total: int  # the papers that can be paged through: matches, then papers close in meaning
    mode: str  # "hybrid" or "keyword"
    notice: str | None = None
    pinned: Paper | None = None
    also_searched: list = field(default_factory=list)  # acronyms' long forms added
    # No paper holds the words: these are the papers closest in meaning, not matches, so
    # `total` counts what can be paged through, not hits (pages say "closest in meaning").
    meaning_only: bool = False
    missing_ids: list = field(default_factory=list)  # arXiv ids searched that no paper has
    # The papers that hold every word of the query (None: as many as `total`). The ranking
    # also shows papers that hold some of the words (a rarer word, or most of them), and the
    # hybrid papers only close in meaning: on the 224 papers of the sample, "diffusion
    # language models" matched 208 by some word, and the hybrid brought `total` to nearly
    # every paper. Pages give this figure, and say what else is shown.
    matched: int | None = None  # at most COUNT_MAX + 1: "more than COUNT_MAX"
    some_words: int = 0  # the keyword matches that hold only some of the words (in `total`)
    by_meaning: int = 0  # the papers that meaning adds to the keyword matches (in `total`)
    several_words: bool = False  # `matched` counts the papers with each of several words
    # The names the reader looked for (au: terms, or the whole query when it reads as a
    # name): listings show those authors even where a long byline is cut (author_positions).
    authors_sought: list = field(default_factory=list)

    @property
    def matches(self):
        return self.total if self.matched is None else min(COUNT_MAX, self.matched)

    @property
    def more_than_counted(self):
        """More papers match every word than COUNT_MAX (`matches`)."""
        return self.matched is not None and self.matched > COUNT_MAX

    @property
    def matches_said(self):
        """ "14 papers match", "1 paper matches", "More than 1,000 papers match"."""
        if self.more_than_counted:
            return f"More than {COUNT_MAX:,} papers match"
        return "1 paper matches" if self.matches == 1 else f"{self.matches} papers match"

    @property
    def more_by_meaning(self):
        return self.by_meaning > 0 and not self.meaning_only

    @property
    def partly(self):
        """Whether the results also hold papers that match only some of the words."""
        return self.some_words > 0


@dataclass
class Recommendation:
    paper: Paper
    reason: str


def _clamp(value, low, high, default):
    try:
        return max(low, min(high, int(value)))
    except (TypeError, ValueError):
        return default


@searches
def search_papers(
    query,
    *,
    limit=20,
    offset=0,
    sort="relevance",
    published_after=None,
    published_before=None,
    category=None,
    has_code=None,
    featured_only=False,
    mode="auto",
    every_word=False,
):
    """Papers matching `query` (see query.py for the syntax), hidden ones never.

    mode: "auto" (hybrid when an embedder is there and the query is plain words),
    "keyword" or "semantic" (benchmarks).
    every_word: only papers that hold every word of the query (holds_every_word), ranked as
    usual or newest first. A search page may show papers that hold some of the words, or
    only share their meaning, after the best matches; a topic alert must not mail them.
    Not with sort="upvotes" (ValueError): nothing needs it.
    """
    if every_word and sort == "upvotes":
        raise ValueError("every_word ranks by relevance or newest first, not by upvotes")
    limit = _clamp(limit, 1, MAX_LIMIT, 20)
    offset = _clamp(offset, 0, 10**9, 0)
    if offset > MAX_OFFSET:  # deep pages cost a long candidate list; nobody reads them
        return SearchResults(papers=[], total=0, mode="keyword", notice=TOO_DEEP)
    sort = sort if sort in SORTS else "relevance"
    filters = Filters(
        published_after=published_after,
        published_before=published_before,
        category=(str(category).strip() or None) if category else None,
        has_code=has_code,
        featured_only=bool(featured_only),
    )
    parsed = acronyms.expand(parse(query))
    notice = " ".join(parsed.problems) or None
    if parsed.matches_nothing or (parsed.is_empty and parsed.problems):
        # A field asked for what no paper has (id:9999.99999), or only prefixes were typed
        # ("ti:"): nothing matches, and the notice says why. Never every paper.
        return SearchResults(papers=[], total=0, mode="keyword", notice=notice)
    if parsed.arxiv_ids and not (parsed.should or parsed.must or parsed.must_not):
        return _by_ids(parsed, filters)
    if parsed.is_empty:
        return _browse(filters, sort=sort, limit=limit, offset=offset)

    need = offset + limit
    semantic_wanted = sort == "relevance" and mode != "keyword" and bool(parsed.should)
    pool = SORT_POOL if sort == "upvotes" else need
    if semantic_wanted or (sort == "relevance" and _may_be_a_name(parsed)):
        pool = max(need, fusion.POOL)  # meaning re-ranks a pool; a name's paper is in one
    rank = functools.partial(
        _ranking, parsed, filters, sort=sort, limit=limit, need=need, mode=mode,
        every_word=every_word, semantic_wanted=semantic_wanted,
    )  # fmt: skip
    try:
        if sort == "upvotes":
            return _by_upvotes(rank(pool=pool), parsed, filters, offset=offset, need=need)
        keep = _keep(parsed, every_word)
        ranking, papers, dropped = _read_on(rank, pool, filters, need, keep, every_word)
    except KeywordSearchFailed:
        return SearchResults(papers=[], total=0, mode="keyword", notice=INDEX_OFF)
    if ranking.meaning_failed:
        notice = " ".join(filter(None, [notice, SEMANTIC_OFF]))
    total, words_total, matched = ranking.total, ranking.words_total, ranking.matched
    if every_word:
        total = matched = words_total = len(papers)
    pinned = _pin_exact_title(papers, parsed.text) if sort == "relevance" else None
    if pinned is not None:
        papers.remove(pinned)
        papers.insert(0, pinned)
    total = max(len(papers), total - dropped)
    return SearchResults(
        papers=papers[offset:need],
        total=total,
        mode=ranking.mode,
        notice=notice,
        pinned=pinned,
        also_searched=[_shown(clause.text, parsed) for clause in parsed.should if clause.expansion],
        meaning_only=ranking.meaning_only,
        # Not cut to `total`: the rarer words' matches can miss papers that hold every word
        # (a hyphenated word written apart: "tool use" for "tool-use").
        matched=0 if ranking.meaning_only else matched,
        authors_sought=_authors_sought(parsed),
        **_other_counts(total, 0 if ranking.meaning_only else words_total, matched, parsed),
    )


class KeywordSearchFailed(Exception):
    """The keyword engine failed (logged): the search says it is unavailable."""


@dataclass
class _Ranking:
    """A query's matches, best first, before a page reads them."""

    pks: list
    keyword_hits: int  # how many the keyword engine returned, of the pool asked for
    total: int  # the papers that match: by their words, or meaning's ranked among them
    words_total: int  # the keyword matches, some words or all
    matched: int  # the papers that hold every word
    mode: str = "keyword"
    meaning_only: bool = False
    meaning_failed: bool = False


def _ranking(parsed, filters, *, pool, sort, limit, need, mode, every_word, semantic_wanted):
    """The keyword engine's best `pool` matches, fused with meaning when wanted, and the
    papers of the author a query names first. KeywordSearchFailed when the keyword engine
    fails; meaning failing leaves the keyword order (meaning_failed)."""
    try:
        hits, total, matched = _matches(
            parsed, filters, pool=pool, sort=sort, need=need, every_word=every_word,
            enough=pool if semantic_wanted else limit,
        )  # fmt: skip
    except Exception as exc:
        log.exception("keyword search failed for %r", parsed.text[:200])
        raise KeywordSearchFailed from exc
    ranking = _Ranking(
        pks=[hit.pk for hit in hits], keyword_hits=len(hits), total=total, words_total=total,
        matched=matched,
    )  # fmt: skip
    if semantic_wanted:
        try:
            fused = _with_meaning(parsed, hits, mode)
        except Exception as exc:
            log.warning("semantic search failed, keyword results only: %s", exc)
            fused, ranking.meaning_failed = None, True
        if fused is not None:
            ranking.mode, ranking.meaning_only = "hybrid", not hits and bool(fused)
            ranking.pks = _meeting_prefixes([pk for pk, _ in fused], parsed)
            ranking.total += _added_by_meaning(ranking.pks, {hit.pk for hit in hits})
    if sort == "relevance" and parsed.is_plain:
        # The author's papers hold the name's words (in their bylines): counted already.
        ranking.pks, added = _authors_first(parsed, ranking.pks)
        ranking.total, ranking.words_total = ranking.total + added, ranking.words_total + added
        ranking.pks = _named_first(parsed, ranking.pks)
    return ranking


def _read_on(rank, pool, filters, need, keep, every_word):
    """(the ranking, its first `need` papers that pass `keep`, how many it dropped).

    every_word: the engine's page held every word, the stricter rule (one sentence,
    `keep`) dropped some of it; read a pool four times as deep until the page is full or
    no paper is left."""
    while True:
        ranking = rank(pool=pool)
        papers, dropped = _page(ranking.pks, filters, need, keep=keep)
        if not every_word or len(papers) >= need or ranking.keyword_hits < pool:
            return ranking, papers, dropped
        pool *= 4


def _by_upvotes(ranking, parsed, filters, *, offset, need):
    """The most relevant matches (SORT_POOL), most upvoted first."""
    ordered = _filtered(Paper.objects.visible().filter(pk__in=ranking.pks), filters)
    ordered = ordered.order_by("-upvotes", "-published_at")
    total = min(ranking.total, ordered.count())
    return SearchResults(
        papers=list(ordered[offset:need]), total=total, mode=ranking.mode,
        matched=ranking.matched,
        **_other_counts(total, ranking.words_total, ranking.matched, parsed),
    )  # fmt: skip


def _other_counts(total, words_total, matched, parsed):
    """The counts of SearchResults besides `matched`: the keyword matches with only some
    of the words (unknown past COUNT_MAX: none said), the papers meaning adds."""
    some_words = max(0, min(words_total, total) - matched) if matched <= COUNT_MAX else 0
    return {
        "some_words": some_words,
        "by_meaning": max(0, total - words_total),
        "several_words": keyword.counts_every_word(parsed),
    }


def _matches(parsed, filters, *, pool, sort, need, every_word, enough):
    """(the keyword engine's hits, how many match, how many hold every word of the query).

    The rarer words' matches are enough for a page of keyword results, while the hybrid
    wants a whole pool (fewer, and every word selects: KeywordIndex.search)."""
    engine = keyword.serving_index()
    hits, total = engine.search(
        parsed, filters, limit=pool, sort=sort, enough=enough, page=max(need, PAGE),
        every_word=every_word,
    )  # fmt: skip
    if every_word or not parsed.should or not hits:
        return hits, total, total  # every match holds every word (or there is none)
    return hits, total, engine.count_every_word(parsed, filters, limit=COUNT_MAX + 1)


def _authors_first(parsed, ranked):
    """(ranked with the papers of the author whose full name the query is first, how many
    of those were not in ranked).

    "Wei Liu" as words matches every paper with a Wei or a Liu among its authors (a common
    pair of names), and ranked one of Wei Liu's two papers 12th; au:"Wei Liu" finds both.
    A query that is exactly an author's name, as typed or capitalised ("wei liu"), names
    that author (the Author table, by its unique name: one indexed look-up): their papers
    lead, in the order the search ranked them, then the rest of theirs newest first."""
    words = parsed.text.split()
    if not NAME_WORDS[0] <= len(words) <= NAME_WORDS[1]:
        return ranked, 0
    if not all(NAME_WORD.fullmatch(word) for word in words):
        return ranked, 0
    names = {parsed.text, " ".join(word.title() for word in words)}
    authors = list(Author.objects.filter(name__in=names).values_list("pk", flat=True))
    if not authors:
        return ranked, 0
    theirs = PaperAuthor.objects.filter(author_id__in=authors, paper__hidden=False)
    theirs = theirs.order_by("-paper__published_at", "-paper_id")
    newest = list(dict.fromkeys(theirs.values_list("paper_id", flat=True)[:AUTHOR_PAPERS]))
    if not newest:
        return ranked, 0
    position = {pk: i for i, pk in enumerate(ranked)}
    first = sorted(newest, key=lambda pk: position.get(pk, len(ranked)))  # stable: newest
    lead = set(first)
    return first + [pk for pk in ranked if pk not in lead], len(lead - position.keys())


def _authors_sought(parsed):
    """The au: terms and, when the whole query is shaped like a name ("wei liu"), the query."""
    sought = [clause.text for clause in parsed.must if clause.field == "authors"]
    words = parsed.text.split()
    if parsed.is_plain and len(words) <= NAME_WORDS[1]:
        if all(NAME_WORD.fullmatch(word) for word in words):
            sought.append(parsed.text)
    return sought


def _keep(parsed, every_word):
    """The test a ranked paper must pass to be shown, or None: every word held (every_word),
    and the cat: and -cat: prefixes, which the papers that meaning adds (_with_meaning) must
    meet too."""
    tests = []
    if every_word:
        tests.append(lambda paper: holds_every_word(parsed, paper))
    if parsed.categories or parsed.excluded_categories:
        tests.append(
            lambda paper: _in_categories(
                _categories_of(paper.categories, paper.primary_category), parsed
            )
        )
    return (lambda paper: all(test(paper) for test in tests)) if tests else None


def _meeting_prefixes(pks, parsed):
    """The pks of papers that meet the query's cat:, -cat: and -id: prefixes, in order:
    meaning brings papers from anywhere (_with_meaning); the keyword engine's meet them."""
    if not (parsed.categories or parsed.excluded_categories or parsed.excluded_ids) or not pks:
        return pks
    rows = Paper.objects.filter(pk__in=pks).values_list(
        "pk", "arxiv_id", "categories", "primary_category"
    )
    meeting = {
        pk
        for pk, arxiv_id, listed, primary in rows
        if arxiv_id not in parsed.excluded_ids
        and _in_categories(_categories_of(listed, primary), parsed)
    }
    return [pk for pk in pks if pk in meeting]


def _categories_of(categories, primary_category):
    """A paper's categories as the index files them (keyword.paper_document), lower case."""
    return {c.lower() for c in (categories or []) or [primary_category or ""]}


def _in_categories(held, parsed):
    """Whether categories `held` are all the cat: prefixes' and none of the -cat:s'."""
    return all(c.lower() in held for c in parsed.categories) and not any(
        c.lower() in held for c in parsed.excluded_categories
    )


def _shown(expansion, parsed):
    """An added acronym as acronyms are written ("DPO"); long forms as they are."""
    return expansion.upper() if expansion == parsed.short_form else expansion


def _page(pks, filters, need, keep=None):
    """The first `need` visible, filter-passing (and `keep`-passing) papers of pks, read in
    small chunks.

    Returns (papers, how many pks were dropped on the way)."""
    papers, start, dropped = [], 0, 0
    while len(papers) < need and start < len(pks):
        chunk = pks[start : start + need - len(papers) + 5]
        found = _hydrate(chunk, filters)
        if keep is not None:
            found = [paper for paper in found if keep(paper)]
        dropped += len(chunk) - len(found)
        papers += found
        start += len(chunk)
    return papers[:need], dropped


SENTENCE_END = re.compile(r"(?<=[.!?;])\s+")
# The words of a topic that a sentence need not hold: function words only (articles,
# prepositions, conjunctions, pronouns, auxiliaries, question words). A followed topic is
# a phrase chosen word by word, so the search's own stop words ("using", "making"), which
# are glue in a question typed once, are held here: "tool use" wants "use" too.
TOPIC_STOPWORDS = frozenset(
    "a an and are as at be by for from has in is it its of on or that the to was were with"
    " we our this these via them their they into can do does how what which when why who".split()
)
TOPIC_STOP_STEMS = frozenset(
    stem for word in TOPIC_STOPWORDS for stem in keyword.ANALYZERS["en"].analyze(word)
)


def holds_every_word(parsed, paper):
    """Whether the paper's title, or one sentence of its abstract, holds each word typed in
    the query, as the index stems them and function words aside ("mixture of experts":
    mixtur and expert; "tool use": tool and use; TOPIC_STOPWORDS), the way a mail alert on
    a topic reads it. An acronym stands for the words it spells ("MoE" for "mixture of
    experts", "LLMs" for "large language models"), and the authors' names count in every
    sentence. The engine has already required the typed
    phrases and fielded terms, and excluded the "-words".

    One sentence, not the whole abstract: an abstract is long enough to hold "mixture" in
    one sentence and "non-experts" in another (bench/topic_alerts.py)."""
    names = " ".join(_author_names(paper))
    sentences = [paper.title, *SENTENCE_END.split(paper.abstract or "")]
    return any(_holds_words(parsed, f"{sentence} {names}") for sentence in sentences)


def topic_sentence(query, paper):
    """The sentence of the paper's abstract by which it holds every word of the topic
    `query` (holds_every_word), for a topic alert to show why the paper was sent; "" when
    its title holds them (the title says why) or no one sentence does."""
    parsed = acronyms.expand(parse(query))
    names = " ".join(_author_names(paper))
    if _holds_words(parsed, f"{paper.title} {names}"):
        return ""
    for sentence in SENTENCE_END.split(paper.abstract or ""):
        if _holds_words(parsed, f"{sentence} {names}"):
            return " ".join(sentence.split())
    return ""


def _holds_words(parsed, text):
    # The stemmer keeps the s of a plural without a vowel before it ("llms")
    held = {keyword._singular(stem) for stem in keyword.ANALYZERS["en"].analyze(text)}

    def holds(words):
        return all(keyword._singular(stem) in held for stem in _topic_stems(words))

    if parsed.short_form and holds(parsed.short_form):
        return True
    spelt = {clause.of: clause.text for clause in parsed.should if clause.expansion and clause.of}
    return all(
        holds(clause.text) or (clause.text in spelt and holds(spelt[clause.text]))
        for clause in parsed.should
        if not clause.expansion
    )


def _topic_stems(words):
    """The stems of a topic's words that a sentence must hold: all but function words."""
    stems = keyword.ANALYZERS["en"].analyze(words)
    return [stem for stem in stems if stem not in TOPIC_STOP_STEMS]


def _author_names(paper):
    return [author.get("name", "") for author in paper.authors or [] if isinstance(author, dict)]


def _added_by_meaning(ranked, keyword_pks):
    """Papers that meaning ranked above some keyword match: they count as matches. The rest
    of the feedback's nearest papers only fill the tail (a small instance's whole corpus)."""
    positions = [i for i, pk in enumerate(ranked) if pk in keyword_pks]
    if not positions:  # meaning alone (no keyword match, or mode="semantic")
        return len(ranked)
    return sum(1 for pk in ranked[: positions[-1]] if pk not in keyword_pks)


def _with_meaning(parsed, hits, mode):
    """Keyword hits re-ranked with meaning, [(pk, score)] (see fusion.py); None: no embedder.

    Plain words only: a query with operators (phrases, fields, exclusions) asks for exactly
    what it says, so meaning neither re-ranks nor adds to its matches, and when nothing
    matches it, nothing is found. With no keyword hit for plain words, the query's own
    vector finds papers about them. The cat: prefixes are met by what meaning adds too
    (search_papers keeps only papers in those categories).
    """
    embedder = get_embedder()
    if embedder is None:
        return None
    keyword_hits = [(hit.pk, hit.score) for hit in hits]
    if mode != "semantic" and not parsed.is_plain:
        return keyword_hits
    store = get_store(embedder.contract, embedder.dims)
    if mode == "semantic" or not keyword_hits:
        labels, sims = store.search(embedder.encode([parsed.free_text])[0], fusion.POOL)
        nearest = [(int(pk), float(sim)) for pk, sim in zip(labels, sims, strict=True)]
        return nearest if mode == "semantic" else [h for h in nearest if h[1] >= SEMANTIC_MIN]
    weight = fusion.WEIGHT * fusion.topic_likeness(fusion.word_scores(hits))
    if weight == 0:
        return keyword_hits
    found, vectors = store.vectors_of([pk for pk, _ in keyword_hits])
    feedback = fusion.feedback_vector(keyword_hits, dict(zip(found, vectors, strict=True)))
    if feedback is None:
        return keyword_hits
    similarities = dict(zip(found, (vectors @ feedback).tolist(), strict=True))
    # The feedback's neighbours only add candidates: near ones will do.
    labels, sims = store.search(feedback, fusion.POOL, coarse=True)
    similarities.update(zip(labels.tolist(), sims.tolist(), strict=True))
    titled = {hit.pk for hit in hits if hit.titled}
    shares = getattr(keyword.serving_index(), "title_shares", None)  # tantivy only, for now
    shares = shares(parsed, similarities.keys() | {pk for pk, _ in keyword_hits}) if shares else {}
    return fusion.fuse(
        keyword_hits, similarities, weight=weight, titled=titled, title_shares=shares
    )


def _hydrate(pks, filters):
    """The visible papers among pks, in the order of pks, with the filters applied again."""
    papers = _filtered(Paper.objects.visible().filter(pk__in=pks), filters)
    by_pk = {paper.pk: paper for paper in papers}
    papers = [by_pk[pk] for pk in pks if pk in by_pk]
    if filters.category:
        wanted = filters.category.lower()
        papers = [p for p in papers if wanted in {c.lower() for c in p.categories or []}]
    return papers


def _filtered(papers, filters):
    papers = papers.select_related("organization")
    if filters.published_after:
        papers = papers.filter(published_at__gte=filters.published_after)
    if filters.published_before:
        papers = papers.filter(published_at__lte=filters.published_before)
    if filters.has_code is True:
        papers = papers.exclude(github_repo="")
    elif filters.has_code is False:
        papers = papers.filter(github_repo="")
    if filters.featured_only:
        papers = papers.filter(daily_entries__isnull=False).distinct()
    return papers


def _browse(filters, *, sort, limit, offset):
    """No words: the filtered papers, newest or most upvoted first (database only)."""
    papers = _filtered(Paper.objects.visible(), filters)
    if filters.category:
        # JSON text match works on SQLite and PostgreSQL alike.
        papers = papers.filter(categories__icontains=f'"{filters.category}"')
    order = ["-upvotes", "-published_at"] if sort == "upvotes" else ["-published_at", "-pk"]
    papers = papers.order_by(*order)
    return SearchResults(
        papers=list(papers[offset : offset + limit]), total=papers.count(), mode="keyword"
    )


def _by_ids(parsed, filters):
    """The papers of the id: prefixes (or the id or link typed) that pass the filters and
    the other prefixes; the ids that no paper here has are `missing_ids`, for the page to
    say so."""
    arxiv_ids = [i for i in parsed.arxiv_ids if i not in parsed.excluded_ids]
    pks = list(Paper.objects.filter(arxiv_id__in=arxiv_ids).values_list("pk", "arxiv_id"))
    known = {arxiv_id for _, arxiv_id in pks}
    papers = [
        paper
        for paper in _hydrate([pk for pk, _ in pks], filters)
        if _in_categories(_categories_of(paper.categories, paper.primary_category), parsed)
    ]
    return SearchResults(
        papers=papers,
        total=len(papers),
        mode="keyword",
        pinned=papers[0] if papers else None,
        missing_ids=[arxiv_id for arxiv_id in arxiv_ids if arxiv_id not in known],
    )


def _named_first(parsed, pks):
    """pks with the papers whose title names what the query names first.

    A paper that introduces a model, benchmark or method titles itself by it ("DeepSeek-R1:
    Incentivizing Reasoning ...", "SAM 2: Segment Anything in Images and Videos", "Qwen3
    Technical Report"), and the papers that use it repeat the name, often in shorter
    titles that BM25 prefers: "DeepSeek-R1" ranked its own paper 4th, "SAM 2" 15th. Only a
    coined name counts (a digit or a capital inside a word: "Position: ..." or
    "Retrieval-Augmented Generation: ..." name a kind of paper or a field, whose readers
    want the field), matched however it is typed ("sam2", "deepseek r1")."""
    wanted = _squashed(parsed.free_text)
    if not _may_be_a_name(parsed) or len(wanted) < 2 or not pks:
        return pks
    pool = pks[: fusion.POOL]
    titles = dict(Paper.objects.filter(pk__in=pool).values_list("pk", "title"))
    named = [pk for pk in pool if _names(titles.get(pk, ""), wanted)]
    if not named:
        return pks
    held = set(named)
    return named + [pk for pk in pks if pk not in held]


def _may_be_a_name(parsed):
    """Whether _named_first may lift a paper for this query: a few plain words."""
    return parsed.is_plain and len(parsed.free_text.split()) <= NAMED_WORDS


def _names(title, wanted):
    """Whether the title's name (before its colon, or "Technical Report") is `wanted`."""
    match = TITLE_NAME.match(title)
    if match is None:
        return False
    name = match.group("name")
    return _squashed(name) == wanted and COINED.search(name) is not None


def _squashed(text):
    """Letters, digits and "+" only, lower-cased and without accents: "SAM 2" is "sam2",
    "SAM 2++" another name."""
    return re.sub(r"[^\w+]+|_", "", fold_accents(text).lower())


def _pin_exact_title(papers, text):
    wanted = normalise_title(text)
    if len(wanted) < 8:
        return None
    for paper in papers[: fusion.POOL]:
        titles = {paper.title, tex_words(paper.title)}  # typed as shown, without its TeX
        if wanted in {normalise_title(title) for title in titles}:
            return paper
    return None


# --- related papers ------------------------------------------------------------------


RELATED_CACHE_SECONDS = 6 * 3600


def related_papers(paper, *, limit=10, since=None):
    """Papers related to `paper` (visible, itself excluded), optionally published since.

    The paper's title and abstract as a keyword query, fused with its nearest neighbours
    in meaning, then re-ranked by the phrases they share (related.py); either engine alone
    when the other is unavailable. Each paper gets `related_reason`: the rare words and
    phrases they share, else "Close in meaning". The ranking and reasons are cached per
    paper until the index moves (or 6 hours); papers are read anew, so a hidden one never
    shows."""
    limit = _clamp(limit, 1, MAX_LIMIT, 10)
    key = f"related:{paper.pk}:{limit}:{since.date() if since else ''}:{index_generation()}"
    ranked = cache.get(key)
    if ranked is None:
        ranked = _related_ranking(paper, limit, since)
        cache.set(key, ranked, RELATED_CACHE_SECONDS)
    reasons = dict(ranked)
    papers = _hydrate(list(reasons), Filters(published_after=since))[:limit]
    for other in papers:
        other.related_reason = reasons[other.pk]
    return papers


def _related_ranking(paper, limit, since):
    """[(paper id, reason)] for related_papers, a few more than asked (some may be hidden)."""
    k = limit * (10 if since else 3) + 1
    scored, by_meaning = [], []
    try:
        scored = related.scored_by_keywords(paper, max(k, related.POOL_BY_TEXT))
    except Exception as exc:
        log.info("related papers without keywords for %s: %s", paper.pk, exc)
    try:
        by_meaning = _related_by_meaning(paper, max(k, related.POOL_BY_MEANING))
    except Exception as exc:
        log.info("related papers without meaning for %s: %s", paper.pk, exc)
    ranked = related.fuse([pk for pk, _ in scored], by_meaning)
    try:
        meaning = _meaning_cosines(paper, ranked)
        ranked = related.by_phrases(paper, ranked, meaning, dict(scored))
    except Exception as exc:  # the fused order still answers
        log.warning("related papers without the phrase stage for %s: %s", paper.pk, exc)
    papers = _hydrate(ranked, Filters(published_after=since))[: limit + 5]
    return [(other.pk, related.reason(paper, other)) for other in papers]


def _meaning_cosines(paper, pks):
    """{paper id: cosine of its vector with the paper's} for the pks with a stored vector;
    {} when the stage does not use them or no embedder answers."""
    if not related.MEANING_WEIGHT or not pks:
        return {}
    try:
        embedder = get_embedder()
        if embedder is None:
            return {}
        found, vectors = get_store(embedder.contract, embedder.dims).vectors_of([paper.pk, *pks])
    except Exception as exc:  # the phrases alone still rank
        log.info("related papers without meaning cosines for %s: %s", paper.pk, exc)
        return {}
    if not found or found[0] != paper.pk:
        return {}
    return dict(zip(found[1:], (vectors[1:] @ vectors[0]).tolist(), strict=True))


def _related_by_meaning(paper, k):
    embedder = get_embedder()
    if embedder is None:
        raise LookupError("no embedder")
    store = get_store(embedder.contract, embedder.dims)
    found, vectors = store.vectors_of([paper.pk])
    vector = vectors[0] if found else embedder.encode_papers([paper])[0]
    labels, _ = store.search(vector, k + 1)
    return [int(label) for label in labels if int(label) != paper.pk]


# --- recommendations -----------------------------------------------------------------

RANDOM_NEGATIVES = 200
LIKED_SEEDS = 30  # the most recent liked papers whose keyword neighbours are pooled
LIKED_NEIGHBOURS = 50
POOL = 600  # candidates the member's SVM re-ranks (recommend.py)
AUTHOR_SEEDS = 10  # authors the member keeps liking whose newest papers join the pool
SPARE_PICKS = 5  # picks kept beyond the limit: some may be hidden by the next visit
FOR_YOU_CACHE_SECONDS = 24 * 3600
# With likes and follows both, every FOLLOW_EVERY-th pick comes from the follows: following
# says "it feeds For you", and the model alone would fill every slot from the likes.
FOLLOW_EVERY = 4
RIDGE = 0.1  # strong enough that a few positives give a stable direction (tests)


def recommend_for(user, *, limit=20, topics=None):
    """ "For you": a per-member linear model over paper embeddings, each pick explained.

    Positives: the member's upvotes and saved papers; negatives: "not interested" and
    random papers. Papers matching followed topics (the `topics` strings, else the digests
    app's follows when it is installed) fill every FOLLOW_EVERY-th place, and every place
    the model leaves empty (all of them with no positives).
    """
    limit = _clamp(limit, 1, MAX_LIMIT, 20)
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    positives = _positives(user)
    negatives = set(
        PaperFeedback.objects.filter(user=user, kind=PaperFeedback.Kind.NOT_INTERESTED).values_list(
            "paper_id", flat=True
        )
    )
    seen = set(positives) | negatives
    recommendations = []
    if positives:
        recommendations = _cached_picks(user, positives, negatives, limit)
    chosen = seen | {r.paper.pk for r in recommendations}
    followed = _cached_follow_picks(user, topics, chosen, limit, len(recommendations))
    return _interleave(recommendations, followed, limit)


def _cached_follow_picks(user, topics, chosen, limit, model_picks):
    """The follows' picks, cached like the model's: one search per follow costs tens of
    milliseconds, on every visit. The key holds the follows, the papers already chosen
    (likes, dislikes, the model's picks) and the index's generation."""
    if topics is None:
        from dailypapers.digests.selectors import follows_for_user  # digests imports search

        follows = [(f.kind, f.value) for f in follows_for_user(user)]
    else:
        follows = list(topics)
    if not follows:
        return []
    signature = hashlib.blake2b(repr((follows, sorted(chosen))).encode(), digest_size=16)
    generation = index_generation()
    key = f"foryou-follows:{user.pk}:{limit}:{model_picks}:{generation}:{signature.hexdigest()}"
    picks = cache.get(key)
    if picks is None:
        chosen, found = set(chosen), []
        if model_picks:
            # The follows' share beside the model's picks: only papers that hold every
            # word of the topic, so "Matches your topic" is true of each.
            share = max(limit - model_picks, limit // FOLLOW_EVERY)
            found = _recommend_by_topics(user, topics, chosen, share, every_word=True)
        found += _recommend_by_topics(user, topics, chosen, limit - model_picks - len(found))
        picks = [(r.paper.pk, r.reason) for r in found]
        cache.set(key, picks, FOR_YOU_CACHE_SECONDS)
    reasons = dict(picks)
    return [
        Recommendation(paper=p, reason=reasons[p.pk]) for p in _hydrate(list(reasons), Filters())
    ]


def _interleave(model, followed, limit):
    """The model's picks with a followed pick at every FOLLOW_EVERY-th place, then whatever
    is left of either (the follows first: the model had no more)."""
    model, followed, picks = list(model), list(followed), []
    while len(picks) < limit and (model or followed):
        take_followed = followed and (not model or len(picks) % FOLLOW_EVERY == FOLLOW_EVERY - 1)
        picks.append((followed if take_followed else model).pop(0))
    return picks


def _cached_picks(user, positives, negatives, limit):
    """The model's picks, cached per member until their likes, dislikes or the index change.

    The key holds every liked and disliked paper (read anyway to train the model), so any
    change to them, however made (a bulk delete, another process), is a new key; training
    and ranking cost a second or two, a cached answer one query for the papers. Only ids
    and reasons are cached: papers are read anew, so a paper hidden since never shows."""
    signature = hashlib.blake2b(digest_size=16)
    for pk, how in sorted(positives.items()):
        signature.update(f"{pk}{how[0]},".encode())
    for pk in sorted(negatives):
        signature.update(f"-{pk},".encode())
    key = f"foryou:{user.pk}:{limit}:{index_generation()}:{signature.hexdigest()}"
    picks = cache.get(key)
    if picks is None:
        try:
            picks = _recommend_by_model(positives, negatives, set(positives) | negatives, limit)
        except Exception as exc:
            log.warning("recommendations by model failed for %s: %s", user.pk, exc)
            return []
        cache.set(key, picks, FOR_YOU_CACHE_SECONDS)
    reasons = dict(picks)
    papers = _hydrate(list(reasons), Filters())[:limit]
    return [Recommendation(paper=paper, reason=reasons[paper.pk]) for paper in papers]


def _positives(user):
    """{paper id: "upvoted" or "saved"}."""
    positives = {
        pk: "upvoted" for pk in Vote.objects.filter(user=user).values_list("paper_id", flat=True)
    }
    saved = PaperFeedback.objects.filter(user=user, kind=PaperFeedback.Kind.SAVED)
    for pk in saved.values_list("paper_id", flat=True):
        positives.setdefault(pk, "saved")
    return positives


def _recommend_by_model(positives, negatives, seen, limit):
    """[(paper id, reason)] best first: candidates from the embedding model and the liked
    papers' keyword neighbours, ranked by the member's tf-idf SVM (recommend.py); the
    fused order when the SVM cannot run."""
    embedder = get_embedder()
    if embedder is None:
        return []
    store = get_store(embedder.contract, embedder.dims)
    pos_ids, pos_vectors = store.vectors_of(list(positives))
    if not pos_ids:
        return []
    neg_ids, neg_vectors = store.vectors_of(list(negatives) + _random_paper_ids(RANDOM_NEGATIVES))
    keep = [i for i, pk in enumerate(neg_ids) if pk not in positives]
    neg_vectors = neg_vectors[keep]
    weights = _ridge(pos_vectors, neg_vectors)
    labels, _ = store.search(weights / max(np.linalg.norm(weights), 1e-12), POOL + len(seen))
    pks = [int(label) for label in labels if int(label) not in seen]
    pool = related.fuse(_liked_papers_neighbours(pos_ids, seen), pks)[: POOL + limit]
    model, texts, by_author, on_interest, in_category = None, {}, {}, set(), set()
    try:
        model = recommend.MemberModel(positives, negatives, candidates=pool)
        known = set(pool) | seen
        pool += [pk for pk in model.authors.candidates(AUTHOR_SEEDS) if pk not in known]
        known |= set(pool)
        pool += [
            pk for pk in model.category.candidates(recommend.CATEGORY_PAPERS) if pk not in known
        ]
        ranked = model.rank(pool)
        pool = [pk for pk, *_ in ranked]
        texts = {pk: text for pk, text, *_ in ranked}
        by_author = {pk: author for pk, _, author, _, _ in ranked if author}
        on_interest = {pk for pk, _, _, held, _ in ranked if held}
        in_category = {pk for pk, *_, category in ranked if category}
    except Exception as exc:  # too few papers to train on, or the sample failed
        log.info("recommendations without the member's SVM: %s", exc)
    papers = _hydrate(pool, Filters())[: limit + SPARE_PICKS]
    if not papers:
        return []
    _, vectors = store.vectors_of([p.pk for p in papers])
    liked_rows = Paper.objects.filter(pk__in=pos_ids).values_list("pk", "title", "abstract")
    titles = {pk: title for pk, title, _ in liked_rows}
    interest_written = None
    if model is not None and model.interest.phrase:
        interest_written = recommend.written_in_running_text(
            model.interest.phrase, [abstract for _, _, abstract in liked_rows]
        )
    closest = np.argmax(vectors @ pos_vectors.T, axis=1) if len(vectors) == len(papers) else None
    recommendations = []
    for i, paper in enumerate(papers):
        anchor = pos_ids[int(closest[i])] if closest is not None else pos_ids[0]
        title = titles.get(anchor, "a paper")
        title = title if len(title) <= 90 else title[:89] + "…"
        reason = f"Because you {positives[anchor]} “{title}”"
        phrases = model.phrases(texts[paper.pk]) if model and paper.pk in texts else []
        if paper.pk in by_author:
            name, liked, papers = by_author[paper.pk]
            reason = f"By {name}: you liked {liked} of their {papers} papers"
        elif paper.pk in on_interest:
            reason = _interest_reason(model.interest, interest_written)
            phrases = [p for p in phrases if f" {p} " not in f" {model.interest.phrase} "]
        elif paper.pk in in_category:
            reason = _category_reason(model.category)
        if phrases:
            written = (
                related.written_as(phrase, paper.title, paper.abstract) for phrase in phrases
            )
            reason += ": " + ", ".join(f"“{phrase}”" for phrase in written)
        recommendations.append((paper.pk, reason))
    return recommendations


def _interest_reason(interest, written):
    """The reason of a pick holding the member's interest phrase (recommend.InterestPhrase):
    the phrase as most liked papers write it in running text (`written`:
    recommend.written_in_running_text; the same beside every pick, "robot" whether a pick's
    title says "Robot" or not), and how many of the papers they liked hold it."""
    return f"On “{written}”, like {interest.liked} of the {interest.of} papers you liked"


def _category_reason(category):
    """The reason of a pick in the member's category (recommend.InterestCategory)."""
    return f"In {category.name}, like {category.liked} of the {category.of} papers you liked"


def _liked_papers_neighbours(pos_ids, seen):
    """[paper id] ranked by the summed reciprocal ranks of each liked paper's keyword
    query-by-document (related.py): papers that share distinctive words with many likes.
    On bench/recommend_quality.py the embedding model alone was far below tf-idf's SVM."""
    liked = Paper.objects.filter(pk__in=pos_ids).order_by("-pk")[:LIKED_SEEDS]
    scores = {}
    try:
        for paper in liked:
            for rank, pk in enumerate(related.by_keywords(paper, LIKED_NEIGHBOURS)):
                if pk not in seen:
                    scores[pk] = scores.get(pk, 0.0) + 1.0 / (related.RRF_K + rank + 1)
    except Exception as exc:  # no keyword index: the embedding model alone
        log.info("recommendations without keywords: %s", exc)
    return sorted(scores, key=lambda pk: -scores[pk])


def _ridge(pos, neg):
    """Ridge-regression classifier (+1 positives, -1 negatives, classes balanced)."""
    x = np.vstack([pos, neg]) if len(neg) else pos
    y = np.concatenate([np.ones(len(pos)), -np.ones(len(neg))])
    sample = np.concatenate(
        [np.full(len(pos), 1.0 / len(pos)), np.full(len(neg), 1.0 / max(len(neg), 1))]
    )
    xw = x * sample[:, None]
    a = x.T @ xw + RIDGE * np.eye(x.shape[1])
    return np.linalg.solve(a, xw.T @ y).astype(np.float32)


def _random_paper_ids(count):
    bounds = PaperEmbedding.objects.order_by("id").values_list("id", flat=True)
    first, last = bounds.first(), bounds.last()
    if first is None:
        return []
    picks = random.Random(last).sample(range(first, last + 1), min(count, last - first + 1))
    return list(PaperEmbedding.objects.filter(id__in=picks).values_list("paper_id", flat=True))


def _followed_topics(user):
    """The member's follows as (saved search in the query syntax, reason), organisations
    apart."""
    from dailypapers.digests.selectors import follows_for_user  # digests imports search

    return [
        (_follow_query(f), _follow_reason(f))
        for f in follows_for_user(user)
        if f.value and f.kind != "org"
    ]


def _follow_reason(follow):
    """Why a paper found by a follow's search is picked, in words ("In cs.RO, a category
    you follow"), not the search's syntax ("cat:cs.RO")."""
    if follow.kind == "author":
        return f"By {follow.value}, an author you follow"
    if follow.kind == "category":
        return f"In {follow.value}, a category you follow"
    return _topic_reason(follow.value)


def _topic_reason(topic):
    return f"Matches your topic “{topic[:60]}”"


def _follow_query(follow):
    if follow.kind == "author":
        return f'au:"{follow.value}"'
    if follow.kind == "category":
        return f"cat:{follow.value}"
    return follow.value


def _followed_organizations(user, limit):
    """{reason: the newest papers} of each organisation the member follows."""
    from dailypapers.digests.selectors import follows_for_user

    handles = [f.value for f in follows_for_user(user) if f.kind == "org"][:10]
    picks = {}
    for handle in handles:
        papers = Paper.objects.visible().filter(organization__name=handle)
        papers = papers.select_related("organization").order_by("-published_at")[:limit]
        picks[f"From {handle}, which you follow"] = list(papers)
    return picks


def _recommend_by_topics(user, topics, chosen, limit, *, every_word=False):
    followed = topics is None
    if followed:
        topics = _followed_topics(user)
    else:
        topics = [(t, _topic_reason(t)) for t in topics if t]
    if limit <= 0:
        return []
    # More than asked: the papers already liked or picked by the model are skipped.
    wanted = 2 * limit + 10
    per_reason = {
        reason: search_papers(query, limit=wanted, every_word=every_word).papers
        for query, reason in topics[:10]
    }
    if followed:
        per_reason.update(_followed_organizations(user, wanted))
    # Round-robin over the follows, best first; a paper already chosen does not use up
    # its follow's turn.
    queues = {reason: iter(papers) for reason, papers in per_reason.items()}
    picks = []
    while queues and len(picks) < limit:
        for reason, papers in list(queues.items()):
            paper = next((p for p in papers if p.pk not in chosen), None)
            if paper is None:
                del queues[reason]
                continue
            chosen.add(paper.pk)
            picks.append(Recommendation(paper, reason))
    return picks[:limit]
