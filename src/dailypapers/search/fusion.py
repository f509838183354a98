"""Hybrid ranking: linear fusion of normalised keyword and semantic scores.

Measured in bench/search_quality.py: reciprocal rank fusion with a weak static embedder
loses badly on known-item queries (issue 3: 0.706 vs 0.955 MRR@10), because it gives the
embedder's top results as much say as the keyword engine's. A linear fusion in which the
semantic score only re-orders close keyword scores, and brings in semantic-only
candidates when keywords match weakly, keeps known items on top and helps topic queries.
"""

SEMANTIC_WEIGHT = 0.1
ADAPTIVE = True
GATE_FROM = 0.8  # runner-up/top keyword score from which meaning gets a say


def fuse(keyword_hits, semantic_hits, keyword_similarities, *, weight=None):
    """[(pk, score)] best first.

    keyword_hits: [(pk, bm25)] best first; semantic_hits: [(pk, cosine)] best first;
    keyword_similarities: {pk: cosine} for the keyword hits whose vectors are known.
    """
    weight = SEMANTIC_WEIGHT if weight is None else weight
    if not semantic_hits and not keyword_similarities:
        return keyword_hits
    top = max((score for _, score in keyword_hits), default=0.0) or 1.0
    keyword_score = {pk: score / top for pk, score in keyword_hits}
    if ADAPTIVE and len(keyword_hits) > 1:
        # Query type from the keyword scores: a known item stands out from the runner-up,
        # a topic matches many papers about as well: let meaning decide only there.
        # (Measured: runner-up/top is ~0.71 at the median for known-item queries, 0.18 for
        # typed titles, 0.86-0.99 for topic queries.)
        closeness = keyword_hits[1][1] / top
        weight *= min(1.0, max(0.0, (closeness - GATE_FROM) / (1.0 - GATE_FROM)))
    cosine = dict(keyword_similarities)
    cosine.update(semantic_hits)
    if not cosine:
        return keyword_hits
    low, high = min(cosine.values()), max(cosine.values())
    span = (high - low) or 1.0
    candidates = set(keyword_score) | set(cosine)
    fused = {
        pk: keyword_score.get(pk, 0.0) + weight * (cosine.get(pk, low) - low) / span
        for pk in candidates
    }
    return sorted(fused.items(), key=lambda item: -item[1])
