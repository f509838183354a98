import pytest

from dailypapers.search import search_papers


@pytest.fixture
def keyword_only(settings):
    settings.SEARCH_EMBEDDER = "none"


def test_it_finds_pruning_papers_first_by_keywords(keyword_only, load_real_papers):
    load_real_papers()
    results = search_papers("structured pruning of large language models", limit=5)
    assert results.mode == "keyword"
    assert results.notice is None
    assert results.total > 5
    assert all("prun" in p.title.lower() for p in results.papers[:3])


def test_it_finds_pruning_papers_first_in_hybrid_mode(load_real_papers):
    load_real_papers()
    results = search_papers("structured pruning of large language models", limit=5)
    assert results.mode == "hybrid"
    assert all("prun" in p.title.lower() for p in results.papers[:3])
