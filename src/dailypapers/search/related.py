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
import re
import threading
import time
from collections import Counter

import numpy as np
import tantivy
from django.db.models import Max, Min
from scipy.sparse import diags  # scikit-learn's own dependency

from dailypapers.folding import fold_accents

from . import keyword

QUERY_TERMS = 100  # distinctive stems of the paper that make its query (a cost cap)
PG_QUERY_TERMS = 50  # the same on PostgreSQL, where each is a GIN lookup
RRF_K = 60  # reciprocal-rank fusion constant (the usual one: flattens the top ranks)
# The keyword ranking counts this many times the vector one: on bench/related_quality.py
# the vectors alone are far weaker (NDCG@20 0.090 vs 0.14), and equal weights lost 0.02.
KEYWORD_WEIGHT = 4.0
REASON_WORDS = 3  # shared words shown as the reason
# A word or phrase held by more than REASON_MAX_SHARE of the sampled papers ("model",
# "propose") says nothing about two papers: never a reason (an idf of about 3). A young site's
# small sample still lets a phrase of REASON_MIN_DF papers through (the two papers compared).
REASON_MAX_SHARE = 0.05
REASON_MIN_DF = 2
# A phrase counts this much more per extra word: "direct preference optimization" names a
# method where "preference" names a topic.
REASON_PHRASE_BONUS = 0.5
REASON_AUTHORS = 2  # shared authors named
# Academic boilerplate, a complement to the frequency rules: on a small site these verbs are
# rare enough, and a phrase holding one ("address propose", from "to address this, we
# propose") is an accident of the wording. Nor are measures ("size", "number"), LaTeX and
# link words a topic.
BOILERPLATE = frozenset(
    """address addresses addressing apply applying achieve achieves based conduct
    demonstrate demonstrates demonstrating develop developed effectively enable enables
    enabling existing extensive facilitate facilitates furthermore highlighting identifies
    improve improves including introduce introduces investigate just largely leverage
    leverages leveraging make makes novel obtain obtained obtains outperform outperforms
    paper present presents propose proposed proposes provide provides ready release released
    respectively show shows shown significantly surpass surpasses use used uses using utilize
    utilizing work size sizes number amount way ways aspect aspects kind various like
    textbf textit emph mathbf mathrm url https http github com html""".split()
)
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
    index = keyword.serving_index()
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

    with connection.cursor() as cursor:  # accents folded, as the documents hold the text
        cursor.execute(PG_TERMS, [fold_accents(f"{paper.title} {paper.abstract}")])
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
    """The first REASON_WORDS of ranked_phrases, a word inside a phrase already chosen
    not repeated."""
    return distinct_terms(ranked_phrases(paper, other), REASON_WORDS)


def ranked_phrases(paper, other):
    """The words and phrases (1-3 words) the two papers share that say what they are about,
    best first.

    A term qualifies when it is rare in the corpus (at most REASON_MAX_SHARE of the sampled
    papers hold it) and holds no boilerplate word, and when it matters to one of the papers:
    in its title, or written at least twice in it. A word or phrase both papers use once in
    passing ("obtain", "size") is how they are written, not what they share; a single word
    is held to more: written twice in each paper, or in a title. Of those, the
    best weigh most in both papers: idf x damped count in each, a phrase and a title word
    counting more."""
    mine, theirs = (
        _phrase_counts(paper.title, paper.abstract),
        _phrase_counts(other.title, other.abstract),
    )
    df, docs = document_frequencies()
    scored = []
    for term in mine[0].keys() & theirs[0].keys():
        if not specific(term, df, docs):
            continue
        counts = (mine[0][term], theirs[0][term])
        in_title = term in mine[1] or term in theirs[1]
        # a phrase written twice in one paper; a single word, twice in each
        if not in_title and (max(counts) if " " in term else min(counts)) < 2:
            continue
        weight = (
            idf_of(df[_bucket(term)], docs) * (1 + math.log(counts[0])) * (1 + math.log(counts[1]))
        )
        weight *= (1 + REASON_PHRASE_BONUS * term.count(" ")) * (2 if in_title else 1)
        scored.append((-weight, term))
    return [term for _, term in sorted(scored)]


def specific(term, df, docs, floor=REASON_MIN_DF):
    """Whether `term` (as the analyzer writes it) can name what papers share: held by at
    most REASON_MAX_SHARE of the `docs` sampled papers (or `floor` of them, the papers
    compared, on a small site), with no boilerplate word."""
    if len(term) <= 2 or term.isdigit() or BOILERPLATE.intersection(term.split()):
        return False
    return df[_bucket(term)] <= max(floor, REASON_MAX_SHARE * docs)


def distinct_terms(terms, count, chosen=()):
    """The first `count` of `terms` that share no word (plurals aside) with one chosen
    before ("large language model" and "language model llm" name one thing)."""
    words = {_singular(w) for c in chosen for w in c.split()}
    picked = []
    for term in terms:
        if len(picked) == count:
            break
        mine = {_singular(w) for w in term.split()}
        if not words.intersection(mine):
            picked.append(term)
            words.update(mine)
    return picked


def _singular(word):
    """ "encoders" and "encoder" are one word to a reader."""
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def _bucket(term):
    from sklearn.utils import murmurhash3_32

    return abs(murmurhash3_32(term, seed=0)) % HASH_BUCKETS


@functools.lru_cache(maxsize=256)
def _phrase_counts(title, abstract):
    """(Counter of the paper's words and phrases (1-3 words) that can be a reason, the set
    of those in its title). Cached: a page asks for the same paper's against each of its
    ~20 related papers."""
    analyze = _analyzer()
    counts = Counter(t for t in analyze(f"{title} {abstract}") if not t.isdigit() and len(t) > 2)
    return counts, frozenset(analyze(title))


def shared_keywords(paper, other, df, docs):
    """The Hugging Face ai_keywords both papers hold (case and hyphens aside) that are
    specific (few sampled papers hold their words), as the first paper writes them."""
    theirs = {_keyword_key(str(k)) for k in getattr(other, "ai_keywords", None) or []}
    found = []
    for keyword_ in getattr(paper, "ai_keywords", None) or []:
        key = _keyword_key(str(keyword_))
        if key and key in theirs and _keyword_specific(key, df, docs):
            found.append((key, " ".join(str(keyword_).split())))
    return found


@functools.lru_cache(maxsize=4096)
def _keyword_key(keyword_):
    """The keyword's words as the analyzer writes them ("Mixture-of-Experts": "mixture
    experts"); the analyzer gives the single words first, in order."""
    return " ".join(t for t in _analyzer()(str(keyword_)) if " " not in t)


def _keyword_specific(key, df, docs):
    """A keyword of any length: every 1-3 word window of it is a term; it is as rare as its
    rarest window at most, and holds no boilerplate word."""
    words = key.split()
    if BOILERPLATE.intersection(words):
        return False
    windows = [" ".join(words[i : i + 3]) for i in range(max(1, len(words) - 2))]
    return any(specific(w, df, docs) for w in windows)


def shared_authors(paper, other):
    """The authors of `paper` (as it writes them) that `other` also lists, case aside."""
    theirs = {_folded(a) for a in other.authors or []} - {""}
    names = [" ".join(str(a.get("name", "")).split()) for a in paper.authors or [] if _is(a)]
    return [
        name for name in dict.fromkeys(names)
        if any(ch.isalpha() for ch in name) and name.casefold() in theirs
    ]  # fmt: skip


def _is(author):
    return isinstance(author, dict)


def _folded(author):
    return " ".join(str(author.get("name", "")).split()).casefold() if _is(author) else ""


def shared_category(paper, other):
    """An arXiv category both papers are in that few sampled papers are (REASON_MAX_SHARE),
    else None: on a site of cs.CV papers, "cs.CV" is no reason."""
    mine = {*(getattr(paper, "categories", None) or []), getattr(paper, "primary_category", "")}
    theirs = {*(getattr(other, "categories", None) or []), getattr(other, "primary_category", "")}
    held, docs = category_frequencies()
    rare = [
        c for c in sorted((mine & theirs) - {""})
        if held[c] <= max(REASON_MIN_DF, REASON_MAX_SHARE * docs)
    ]  # fmt: skip
    return min(rare, key=lambda c: (held[c], c)) if rare else None


def reason(paper, other):
    """Why `other` is related to `paper`: the authors they share, the specific keywords and
    phrases they share, else a rare category both are in, else "Similar in content"."""
    df, docs = document_frequencies()
    parts = []
    authors = shared_authors(paper, other)[:REASON_AUTHORS]
    if authors:
        parts.append("also by " + " and ".join(authors))
    keywords = shared_keywords(paper, other, df, docs)
    shown = distinct_terms([key for key, _ in keywords], REASON_WORDS)
    written = dict(reversed(keywords))
    terms = [written[key] for key in shown]
    phrases = distinct_terms(ranked_phrases(paper, other), REASON_WORDS - len(terms), shown)
    terms += [written_as(term, paper.title, paper.abstract) for term in phrases]
    if terms:
        parts.append("shares " + ", ".join(f"“{term}”" for term in terms))
    if not parts:
        category = shared_category(paper, other)
        if category:
            parts.append(f"also in {category}")
    if not parts:
        return "Similar in content"
    text = "; ".join(parts)
    return text[0].upper() + text[1:]


def written_as(term, *texts):
    """`term` as the first of `texts` that holds it writes it: the analyzer's "mixture
    experts" is "Mixture-of-Experts" there, its "30b a3b" "30B-A3B". Between two of the
    term's words only what the analyzer drops may stand (punctuation, stop words, single
    characters); the term itself when no text holds it so."""
    pattern = _written_pattern(term)
    for text in texts:
        found = pattern.search(text or "")
        if found:
            return " ".join(found.group().split())
    return term


@functools.lru_cache(maxsize=1024)
def _written_pattern(term):
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    dropped = "|".join(sorted(ENGLISH_STOP_WORDS, key=len, reverse=True))
    gap = rf"[\W_]+(?:(?:{dropped}|\w)[\W_]+)*"
    words = gap.join(re.escape(word) for word in term.split())
    return re.compile(rf"(?<!\w){words}(?!\w)", re.IGNORECASE)


# --- the phrase re-ranking stage ------------------------------------------------------

_df_lock = threading.Lock()
_df = {"pks": [], "counts": None, "df": None, "docs": 0, "categories": Counter(), "at": 0.0}


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
    """(pks, "title abstract" texts, {category: papers in it}) of about `count` random
    visible papers (ids drawn)."""
    from dailypapers.papers.models import Paper

    bounds = Paper.objects.aggregate(low=Min("pk"), high=Max("pk"))
    if bounds["low"] is None:
        return [], [], Counter()
    span = range(bounds["low"], bounds["high"] + 1)
    picks = random.Random(SAMPLE_SEED).sample(span, min(count, len(span)))
    rows = Paper.objects.visible().filter(pk__in=picks)
    rows = list(rows.values_list("pk", "title", "abstract", "categories", "primary_category"))
    categories = Counter(c for *_, cats, primary in rows for c in {*(cats or []), primary} - {""})
    texts = [f"{t} {a[:ABSTRACT_CHARS]}" for _, t, a, _, _ in rows]
    return [pk for pk, *_ in rows], texts, categories


def corpus_sample():
    """The per-process random sample: {"pks", "counts" (hashed n-gram counts, csr),
    "df" (document frequency per bucket), "docs", "categories" (papers per arXiv
    category)}, redrawn after DF_MAX_AGE."""
    with _df_lock:
        # A small sample (a young site) is redrawn within a minute, as papers arrive.
        max_age = DF_MAX_AGE if _df["docs"] >= DF_SAMPLE else 60
        if _df["counts"] is None or time.monotonic() - _df["at"] > max_age:
            pks, texts, categories = _sample(DF_SAMPLE)
            counts = _vectorizer().transform(texts).tocsr() if texts else None
            df = np.zeros(HASH_BUCKETS, dtype=np.int32)
            if counts is not None:
                df += (counts > 0).sum(axis=0).A1.astype(np.int32)
            _df.update(
                pks=pks, counts=counts, df=df, docs=len(texts), categories=categories,
                at=time.monotonic(),
            )  # fmt: skip
        return dict(_df)


def document_frequencies():
    """(hashed n-gram document counts over the random sample, sample size)."""
    sample = corpus_sample()
    return sample["df"], sample["docs"]


def category_frequencies():
    """({arXiv category: sampled papers in it}, sample size)."""
    sample = corpus_sample()
    return sample["categories"], sample["docs"]


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
