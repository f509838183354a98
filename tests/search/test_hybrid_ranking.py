import pytest

from dailypapers.search import search_papers
from dailypapers.search.keyword import Filters, get_index
from dailypapers.search.query import parse


def about_pruning(paper):
    return any(w in f"{paper.title} {paper.abstract}".lower() for w in ("prun", "sparsi"))


def test_it_finds_a_topic_asked_in_other_words_by_meaning(load_real_papers):
    load_real_papers()
    query = "removing weights from LLMs to make them smaller"
    keyword = search_papers(query, limit=20, mode="keyword").papers
    hybrid = search_papers(query, limit=20)
    assert hybrid.mode == "hybrid"
    # The keyword engine's best matches of the hybrid's pool (300, starting with the
    # keyword page of 20) stay among the first five.
    pool, _ = get_index().search(parse(query), Filters(), limit=300, enough=300, page=20)
    assert {paper.pk for paper in hybrid.papers[:5]} == {hit.pk for hit in pool[:5]}
    # Measured on these papers: 3 of the keyword top 20 are about pruning, 6 of the hybrid's.
    assert sum(map(about_pruning, hybrid.papers)) > sum(map(about_pruning, keyword))


def test_it_keeps_a_known_item_first(load_real_papers):
    papers = load_real_papers()
    target = next(p for p in papers if "prun" in p.title.lower())
    words = " ".join(target.title.split()[:6])
    assert search_papers(words).papers[0] == target


def test_the_first_results_do_not_depend_on_the_page_size(load_real_papers):
    """The hybrid's pool starts with a keyword page of at least 20 (selectors.PAGE): with
    the request's own limit, a short page could start from other candidates."""
    load_real_papers()
    for query in (
        "making diffusion LMs decode faster",
        "removing weights from LLMs to make them smaller",
        "speculative decoding with a draft model",
        "reward models for reasoning",
    ):
        short = [paper.pk for paper in search_papers(query, limit=5).papers]
        assert short == [paper.pk for paper in search_papers(query, limit=20).papers[:5]]


@pytest.mark.parametrize("engine", ["hybrid", "keyword"])
@pytest.mark.parametrize("query", ["Wei Liu", "wei liu"])
def test_a_query_that_is_an_authors_full_name_puts_their_papers_first(
    query, engine, load_real_papers, settings
):
    """Many papers have a Wei or a Liu among their authors: Wei Liu's two come first."""
    from dailypapers.ingest.bulk import link_authors

    if engine == "keyword":
        settings.SEARCH_EMBEDDER = "none"
    papers = load_real_papers()
    link_authors({paper.pk: paper.author_names for paper in papers})  # as ingest does
    theirs = {"2505.07818", "2505.15612"}  # Wei Liu first author of one, 8th of the other
    assert {p.arxiv_id for p in search_papers('au:"Wei Liu"').papers} == theirs
    results = search_papers(query, limit=10)
    assert {paper.arxiv_id for paper in results.papers[:2]} == theirs
    assert results.total > 2  # the papers of other Weis and Lius follow


def test_words_that_are_no_authors_full_name_rank_as_before(load_real_papers):
    from dailypapers.ingest.bulk import link_authors

    papers = load_real_papers()
    before = [p.pk for p in search_papers("Liu reasoning", limit=20).papers]
    link_authors({paper.pk: paper.author_names for paper in papers})
    assert [p.pk for p in search_papers("Liu reasoning", limit=20).papers] == before
