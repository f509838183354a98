"""Related papers: the whole paper (title and abstract) as a keyword query, fused with meaning.

A paper's title alone (the old keyword fallback) or its vector alone (the old default) each
miss half the signal: the held-out judgements put our vector-only related papers (NDCG@20
0.461) below a plain BM25 query-by-document (0.544). So the paper's text is the query: its
QUERY_TERMS most distinctive stems (term frequency x BM25 idf), OR-ed, each boosted by its
weight, against title and abstract. The keyword ranking and the vector neighbours are then
merged by reciprocal-rank fusion, which needs no score calibration between the two engines.
"""

import math
from collections import Counter

import tantivy

from . import keyword

QUERY_TERMS = 100  # distinctive stems of the paper that make its query (a cost cap)
RRF_K = 60  # reciprocal-rank fusion constant (the usual one: flattens the top ranks)
# The keyword ranking counts this many times the vector one: on bench/related_quality.py
# the vectors alone are far weaker (NDCG@20 0.090 vs 0.14), and equal weights lost 0.02.
KEYWORD_WEIGHT = 4.0
REASON_WORDS = 3  # shared words shown as the reason


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
    index = keyword.get_index()
    searcher = index.index.searcher()
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
    return [int(pk) for pk in pks if int(pk) != paper.pk][:k]


def fuse(keyword_ranking, meaning_ranking=()):
    """[paper id] ordered by weighted reciprocal-rank fusion of the rankings (best first)."""
    scores = Counter()
    for weight, ranking in ((KEYWORD_WEIGHT, keyword_ranking), (1.0, meaning_ranking)):
        for rank, pk in enumerate(ranking):
            scores[pk] += weight / (RRF_K + rank + 1)
    return [pk for pk, _ in scores.most_common()]


def shared_words(paper, other, searcher=None):
    """The rarest words the two papers share (their titles and abstracts), rarest first."""

    def words(p):
        return {
            w
            for w in keyword.ANALYZERS["names"].analyze(f"{p.title} {p.abstract}")
            if w not in keyword.STOPWORDS and len(w) > 2 and not w.isdigit()
        }

    common = words(paper) & words(other)
    if not common:
        return []
    searcher = searcher or keyword.get_index().index.searcher()
    return sorted(common, key=lambda w: (searcher.doc_freq("text_words", w), w))[:REASON_WORDS]


def reason(paper, other, searcher=None):
    """Why `other` is related to `paper`: the words they share, else their closeness in meaning."""
    try:
        shared = shared_words(paper, other, searcher)
    except Exception:  # the keyword index is unavailable: meaning only
        shared = []
    if shared:
        return "Shares " + ", ".join(f"“{w}”" for w in shared)
    return "Close in meaning"
