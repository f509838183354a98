"""Related papers: the whole paper (title and abstract) as a keyword query, fused with meaning.

A paper's title alone (the old keyword fallback) or its vector alone (the old default) each
miss half the signal: the held-out judgements put our vector-only related papers (NDCG@20
0.461) below a plain BM25 query-by-document (0.544). So the paper's text is the query: its
QUERY_TERMS most distinctive stems (term frequency x BM25 idf), OR-ed, each boosted by its
weight, against title and abstract. The keyword ranking and the vector neighbours are then
merged by reciprocal-rank fusion, which needs no score calibration between the two engines.

A re-ranking stage then orders that pool by the phrases the papers share: the cosine of
their tf-idf vectors over words and word n-grams (1-3, sublinear tf), as arxiv-sanity-lite
compares papers. A method or task is usually named in several words ("low-rank
adaptation", "direct preference optimization"); single stems lose that. On
bench/related_quality.py it lifted NDCG@20 from 0.156 (fused) to 0.18 (see docs/related.md).
The n-grams' document frequencies come from a random sample of the corpus (hashed, so
memory stays fixed), refreshed every few hours per process.

The stage's score keeps the other views beside the phrases, each standardised over the
pool (their scales differ): + KEYWORD_SCORE_WEIGHT x the BM25 score of the query by the
whole paper, the reference that expert judgements rate above our vector neighbours
(0.544 vs 0.461), + MEANING_WEIGHT x the cosine of the papers' vectors, which finds the
related papers that word their topic differently. The bench's relevance comes from the
abstracts' key phrases, so it cannot reward either (both neutral there, docs/related.md);
they are weighted below the phrases for that reason, and meaning lowest, as the default
embedder is the weakest of the three views.
"""

import functools
import math
import random
import threading
import time
from collections import Counter

import numpy as np
import tantivy
from django.db.models import Max, Min
from scipy.sparse import diags  # scikit-learn's own dependency

from . import keyword

QUERY_TERMS = 100  # distinctive stems of the paper that make its query (a cost cap)
PG_QUERY_TERMS = 50  # the same on PostgreSQL, where each is a GIN lookup
RRF_K = 60  # reciprocal-rank fusion constant (the usual one: flattens the top ranks)
# The keyword ranking counts this many times the vector one: on bench/related_quality.py
# the vectors alone are far weaker (NDCG@20 0.090 vs 0.14), and equal weights lost 0.02.
KEYWORD_WEIGHT = 4.0
REASON_WORDS = 3  # shared words shown as the reason
POOL_BY_TEXT = 60  # keyword candidates the phrase stage re-ranks (100: +0.001 NDCG@20)
POOL_BY_MEANING = 30  # vector candidates added to them
NGRAMS = (1, 3)  # 1-3 word n-grams: 1-2 scored 0.177, 1-3 0.183 on the bench
DF_SAMPLE = 2000  # random papers whose n-grams estimate document frequencies
DF_MAX_AGE = 6 * 3600  # seconds before a process draws a new sample
SAMPLE_SEED = None  # None: a new sample each draw; benches set a number to repeat a figure
HASH_BUCKETS = 2**20
ABSTRACT_CHARS = 1500
KEYWORD_SCORE_WEIGHT = 0.5  # the BM25 score in the phrase stage (module docstring)
MEANING_WEIGHT = 0.1  # the vector cosine in the phrase stage; 0.25 cost 0.005 on the bench


def document_terms(text, searcher):
    """[(stem, boost)] the paper's most distinctive stems (tf x idf), most distinctive first."""
    counts = Counter(
        stem
        for word in keyword.ANALYZERS["names"].analyze(text)
        if word not in keyword.STOPWORDS and len(word) > 2 and not word.isdigit()
        for stem in keyword.ANALYZERS["en"].analyze(word)
    )
    docs = max(1, searcher.num_docs)
    weighted = []
    for stem, count in counts.items():
        freq = searcher.doc_freq("text", stem)
        if freq == 0 or freq > docs / 2:  # unknown to the corpus, or says nothing
            continue
        weighted.append((stem, count, (1 + math.log(count)) * keyword._idf(freq, docs)))
    weighted.sort(key=lambda triple: -triple[2])
    # BM25 scores idf already: each term's boost is its damped frequency in the paper only
    # (boosting by tf x idf again put idf in twice and lost 0.01 NDCG@20 on the bench).
    return [(stem, 1 + math.log(count)) for stem, count, _ in weighted[:QUERY_TERMS]]


def by_keywords(paper, k):
    """[paper id] best first: BM25 with the paper's own text as the query, itself excluded."""
    return [pk for pk, _ in scored_by_keywords(paper, k)]


def scored_by_keywords(paper, k):
    """[(paper id, score)] best first: by_keywords with each paper's score."""
    index = keyword.get_index()
    if not hasattr(index, "searcher"):  # PostgreSQL's full-text engine
        return by_postgres_text(paper, k)
    searcher = index.searcher()
    terms = document_terms(f"{paper.title} {paper.abstract}", searcher)
    if not terms:
        return []
    Query = tantivy.Query
    query = Query.boolean_query(
        [
            (
                tantivy.Occur.Should,
                Query.boost_query(Query.term_query(index.schema, "text", stem), w),
            )
            for stem, w in terms
        ]
    )
    result = searcher.search(query, limit=k + 1)
    addresses = [address for _, address in result.hits]
    pks = searcher.fast_field_values("pk", addresses) if addresses else []
    scored = zip(pks, (score for score, _ in result.hits), strict=True)
    return [(int(pk), score) for pk, score in scored if int(pk) != paper.pk][:k]


# The paper's terms as PostgreSQL's english configuration stems them, with their counts in
# the paper and in the index (pg.py's search_pglexeme; the '' row counts the documents).
PG_TERMS = """
    SELECT l.lexeme, coalesce(array_length(l.positions, 1), 1), coalesce(s.papers, 0),
        greatest(coalesce((SELECT papers FROM search_pglexeme WHERE lexeme = ''), 0), 1)
    FROM unnest(to_tsvector('english', %s)) l
    LEFT JOIN search_pglexeme s ON s.lexeme = l.lexeme
"""
# Papers that hold the most of those terms, each counted at its weight (GIN lookups).
PG_RANKING = """
    SELECT d.paper_id, sum(t.weight) FROM unnest(%s::tsquery[], %s::float8[]) AS t(query, weight)
    JOIN search_pgdocument d ON d.document @@ t.query
    WHERE d.paper_id <> %s
    GROUP BY d.paper_id ORDER BY sum(t.weight) DESC, d.paper_id LIMIT %s
"""


def by_postgres_text(paper, k):
    """scored_by_keywords on PostgreSQL's full-text index: the paper's PG_QUERY_TERMS most
    distinctive lexemes (tf x BM25's idf); a paper scores the weights of those it holds.
    Without it, related papers on PostgreSQL were vector neighbours re-ranked by phrases
    alone: NDCG@20 0.137 on bench/related_quality.py, below the bm25s anchor's 0.154."""
    from django.db import connection

    from .pg import COMMON_SHARE, _tsquery

    with connection.cursor() as cursor:
        cursor.execute(PG_TERMS, [f"{paper.title} {paper.abstract}"])
        rows = cursor.fetchall()
    weighted = sorted(
        (
            ((1 + math.log(count)) * math.log(1 + (docs - papers + 0.5) / (papers + 0.5)), lexeme)
            for lexeme, count, papers, docs in rows
            # Words in many papers only cost GIN lookups at scale (pg.py's COMMON_SHARE).
            if len(lexeme) > 2 and not lexeme.isdigit() and papers <= COMMON_SHARE * docs
        ),
        reverse=True,
    )[:PG_QUERY_TERMS]
    if not weighted:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            PG_RANKING,
            [[_tsquery(lexeme) for _, lexeme in weighted], [w for w, _ in weighted], paper.pk, k],
        )
        return [(pk, score) for pk, score in cursor.fetchall()]


def fuse(keyword_ranking, meaning_ranking=()):
    """[paper id] ordered by weighted reciprocal-rank fusion of the rankings (best first)."""
    scores = Counter()
    for weight, ranking in ((KEYWORD_WEIGHT, keyword_ranking), (1.0, meaning_ranking)):
        for rank, pk in enumerate(ranking):
            scores[pk] += weight / (RRF_K + rank + 1)
    return [pk for pk, _ in scores.most_common()]


def shared_phrases(paper, other):
    """The rarest words and phrases (1-3 words) the two papers share, rarest first; a word
    inside a phrase already chosen is not repeated."""
    from sklearn.utils import murmurhash3_32

    common = _phrases(f"{paper.title} {paper.abstract}") & _phrases(
        f"{other.title} {other.abstract}"
    )
    counts, _ = document_frequencies()

    def rarity(term):  # rarer first; among equally rare, the longer phrase
        return (counts[abs(murmurhash3_32(term, seed=0)) % HASH_BUCKETS], -term.count(" "), term)

    chosen = []
    for term in sorted(common, key=rarity):
        if not any(f" {term} " in f" {c} " or f" {c} " in f" {term} " for c in chosen):
            chosen.append(term)
            if len(chosen) == REASON_WORDS:
                break
    return chosen


@functools.lru_cache(maxsize=256)
def _phrases(text):
    """The text's words and phrases (1-3 words) that can be a reason. Cached: a page asks
    for the same paper's against each of its ~20 related papers."""
    return frozenset(t for t in _analyzer()(text) if not t.isdigit() and len(t) > 2)


def reason(paper, other):
    """Why `other` is related to `paper`: the phrases they share, else closeness in meaning."""
    shared = shared_phrases(paper, other)
    if shared:
        return "Shares " + ", ".join(f"“{term}”" for term in shared)
    return "Close in meaning"


# --- the phrase re-ranking stage ------------------------------------------------------

_df_lock = threading.Lock()
_df = {"pks": [], "counts": None, "df": None, "docs": 0, "at": 0.0}


@functools.cache
def _analyzer():
    """The vectorizer's analyzer, built once (each build re-checks the stop-word list)."""
    return _vectorizer().build_analyzer()


def _vectorizer():
    from sklearn.feature_extraction.text import HashingVectorizer

    return HashingVectorizer(
        ngram_range=NGRAMS, stop_words="english", alternate_sign=False, norm=None,
        n_features=HASH_BUCKETS,
    )  # fmt: skip


def _sample(count):
    """(pks, "title abstract" texts) of about `count` random visible papers (ids drawn)."""
    from dailypapers.papers.models import Paper

    bounds = Paper.objects.aggregate(low=Min("pk"), high=Max("pk"))
    if bounds["low"] is None:
        return [], []
    span = range(bounds["low"], bounds["high"] + 1)
    picks = random.Random(SAMPLE_SEED).sample(span, min(count, len(span)))
    rows = Paper.objects.visible().filter(pk__in=picks).values_list("pk", "title", "abstract")
    return [pk for pk, _, _ in rows], [f"{t} {a[:ABSTRACT_CHARS]}" for _, t, a in rows]


def corpus_sample():
    """The per-process random sample: {"pks", "counts" (hashed n-gram counts, csr),
    "df" (document frequency per bucket), "docs"}, redrawn after DF_MAX_AGE."""
    with _df_lock:
        # A small sample (a young site) is redrawn within a minute, as papers arrive.
        max_age = DF_MAX_AGE if _df["docs"] >= DF_SAMPLE else 60
        if _df["counts"] is None or time.monotonic() - _df["at"] > max_age:
            pks, texts = _sample(DF_SAMPLE)
            counts = _vectorizer().transform(texts).tocsr() if texts else None
            df = np.zeros(HASH_BUCKETS, dtype=np.int32)
            if counts is not None:
                df += (counts > 0).sum(axis=0).A1.astype(np.int32)
            _df.update(pks=pks, counts=counts, df=df, docs=len(texts), at=time.monotonic())
        return dict(_df)


def document_frequencies():
    """(hashed n-gram document counts over the random sample, sample size)."""
    sample = corpus_sample()
    return sample["df"], sample["docs"]


def forget_frequencies():
    """Draw a new sample at the next use (tests; a process whose database changed)."""
    with _df_lock:
        _df["counts"] = None
        _df["at"] = 0.0


def idf_of(df, docs):
    """sklearn's smooth idf for hashed document frequencies over `docs` documents."""
    return np.log((1 + docs) / (1 + df)) + 1


def weigh(counts, idf):
    """Raw n-gram counts -> sublinear tf x idf rows, L2-normalised (a copy)."""
    matrix = counts.tocsr().astype(np.float64)
    matrix.data = 1 + np.log(matrix.data)
    matrix = matrix.multiply(idf).tocsr()
    norms = np.sqrt(matrix.multiply(matrix).sum(axis=1)).A1
    return diags(1 / np.maximum(norms, 1e-12)) @ matrix


def _weighted(texts):
    """Rows of tf-idf over hashed n-grams, the texts counted in the frequencies."""
    counts = _vectorizer().transform(texts).tocsr()
    df, docs = document_frequencies()
    return weigh(counts, idf_of(df + (counts > 0).sum(axis=0).A1, docs + len(texts)))


def _standardised(values):
    values = np.asarray(values, dtype=np.float64)
    return (values - values.mean()) / (values.std() + 1e-9)


def by_phrases(paper, candidates, meaning=None, keyword_scores=None):
    """[paper id] of `candidates` ordered by the words and phrases they share with `paper`
    (cosine of tf-idf over 1-3 word n-grams), best first; ties keep the given order.

    With `keyword_scores` ({paper id: BM25 score of the query by the paper}) and `meaning`
    ({paper id: cosine of the papers' vectors}), the score adds KEYWORD_SCORE_WEIGHT x the
    first and MEANING_WEIGHT x the second, each standardised over the pool like the phrase
    cosine (their scales differ several-fold). A candidate the keyword query did not
    return (a vector neighbour) counts as the pool's lowest keyword score; one without a
    vector, as the pool's mean cosine."""
    from dailypapers.papers.models import Paper

    texts = dict(
        (pk, f"{title} {abstract[:ABSTRACT_CHARS]}")
        for pk, title, abstract in Paper.objects.filter(pk__in=candidates).values_list(
            "pk", "title", "abstract"
        )
    )
    pks = [pk for pk in candidates if pk in texts]
    if not pks:
        return []
    mine = f"{paper.title} {paper.abstract[:ABSTRACT_CHARS]}"
    matrix = _weighted([mine] + [texts[pk] for pk in pks])
    score = _standardised((matrix[1:] @ matrix[0].T).toarray().ravel())
    if keyword_scores and KEYWORD_SCORE_WEIGHT:
        lowest = min(keyword_scores.values())
        score += KEYWORD_SCORE_WEIGHT * _standardised(
            [keyword_scores.get(pk, lowest) for pk in pks]
        )
    if meaning and MEANING_WEIGHT:
        known = [meaning[pk] for pk in pks if pk in meaning]
        mean = float(np.mean(known)) if known else 0.0
        score += MEANING_WEIGHT * _standardised([meaning.get(pk, mean) for pk in pks])
    order = np.argsort(-score, kind="stable")
    return [pks[i] for i in order]
