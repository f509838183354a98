"""Search: keyword index, embedders, vector index, hybrid ranking, related papers, "For you".

Other apps call these (imported lazily so that `import dailypapers.search` is cheap and safe
before Django's apps are ready):

    search_papers(query, *, limit, offset, sort, published_after, published_before,
                  category, has_code, featured_only) -> SearchResults
    related_papers(paper, *, limit=10, since=None) -> list[Paper]
    recommend_for(user, *, limit=20, topics=None) -> list[Recommendation]
    topic_sentence(query, paper) -> str               # the sentence a topic alert matched
    paper_feedback(*, user, paper, kind)            # "saved" | "not_interested" | None
    index_papers(paper_ids)                          # after bulk writes (ingest)
    index_generation() -> int                        # moves when indexing changed answers
"""

_EXPORTS = {
    "search_papers": "selectors",
    "related_papers": "selectors",
    "recommend_for": "selectors",
    "topic_sentence": "selectors",
    "SearchResults": "selectors",
    "Recommendation": "selectors",
    "paper_feedback": "services",
    "index_papers": "services",
    "index_generation": "services",
    "index_papers_later": "tasks",
}

__all__ = list(_EXPORTS)


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'dailypapers.search' has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f"{__name__}.{_EXPORTS[name]}"), name)
