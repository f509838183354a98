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

QUERY_TERMS = 40  # distinctive stems of the paper that make its query
RRF_K = 60  # reciprocal-rank fusion constant (the usual one: flattens the top ranks)
REASON_WORDS = 3  # shared words shown as the reason


def document_terms(text, searcher):
    """[(stem, weight)] the paper's most distinctive stems, heaviest first."""
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
        weighted.append((stem, (1 + math.log(count)) * keyword._idf(freq, docs)))
    weighted.sort(key=lambda pair: -pair[1])
    return weighted[:QUERY_TERMS]


def by_keywords(paper, k):
    """[paper id] best first: BM25 with the paper's own text as the query, itself excluded."""
    index = keyword.get_index()
    searcher = index.index.searcher()
    terms = document_terms(f"{paper.title} {paper.abstract}", searcher)
    if not terms:
        return []
    top = terms[0][1]
    Query = tantivy.Query
    query = Query.boolean_query(
        [
            (
                tantivy.Occur.Should,
                Query.boost_query(Query.term_query(index.schema, "text", stem), w / top),
            )
            for stem, w in terms
        ]
    )
    result = searcher.search(query, limit=k + 1)
    addresses = [address for _, address in result.hits]
    pks = searcher.fast_field_values("pk", addresses) if addresses else []
    return [int(pk) for pk in pks if int(pk) != paper.pk][:k]


def fuse(*rankings):
    """[paper id] ordered by reciprocal-rank fusion of the rankings (each best first)."""
    scores = Counter()
    for ranking in rankings:
        for rank, pk in enumerate(ranking):
            scores[pk] += 1.0 / (RRF_K + rank + 1)
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
