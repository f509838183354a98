import datetime as dt

import pytest
from django.utils import timezone

from dailypapers.search import search_papers
from dailypapers.search.query import parse

NASTY = [
    "",
    "   ",
    '"',
    '"unbalanced quote',
    "((( AND OR NOT ))) * ^ ~ : \\",
    "title:(a OR b) AND -",
    "x" * 10_000,
    "word " * 3000,
    "🦙🔥 llama 🚀",
    "\x00\x01\x1b[31m control \u202e chars \ufeff",
    "ti: au: abs: cat: id:",
    "id:not-an-id",
    "cat:",
    "-",
    "--",
    '-"',
    "SELECT * FROM papers; DROP TABLE papers; --",
    "<script>alert(1)</script>",
    "a" * 500 + "~2",
    "%_%",
]


@pytest.mark.parametrize("text", NASTY)
def test_it_never_raises_on_any_text(text, paper, keyword_only):
    paper(title="Llama and friends")
    results = search_papers(text)
    assert results.total >= 0
    assert isinstance(results.papers, list)


def test_it_survives_nonsense_arguments(paper, keyword_only):
    paper(title="Attention is all you need")
    results = search_papers(
        "attention", limit="lots", offset=-5, sort="sideways", category="", has_code=None
    )
    assert [p.title for p in results.papers] == ["Attention is all you need"]


def test_it_parses_the_documented_syntax():
    parsed = parse('ti:"mixture of experts" au:shazeer -dense cat:cs.LG routing id:1701.06538')
    assert [(c.text, c.field, c.phrase) for c in parsed.must] == [
        ("mixture of experts", "title", True),
        ("shazeer", "authors", False),
    ]
    assert [c.text for c in parsed.must_not] == ["dense"]
    assert [c.text for c in parsed.should] == ["routing"]
    assert parsed.categories == ["cs.lg"]
    assert parsed.arxiv_ids == ["1701.06538"]


@pytest.mark.parametrize(
    "text", ["2501.12570", "arXiv:2501.12570v2", "https://arxiv.org/abs/2501.12570v1",
             "https://arxiv.org/pdf/2501.12570.pdf", "id:2501.12570"],
)  # fmt: skip
def test_it_pins_the_paper_of_an_arxiv_id_or_url(text, paper, keyword_only):
    wanted = paper(arxiv_id="2501.12570", title="O1-Pruner")
    paper(title="Another paper mentioning 2501.12570")
    results = search_papers(text)
    assert results.pinned == wanted
    assert results.papers[0] == wanted


def test_it_applies_phrases_exclusions_and_fields(paper, keyword_only):
    ada = paper(title="Sparse attention for long documents", authors=[{"name": "Ada Byron"}])
    paper(title="Attention that is sparse", abstract="Sparse and long.")
    paper(title="Dense attention for long documents", abstract="Not sparse at all.")
    assert search_papers('"sparse attention"').papers == [ada]
    assert search_papers("au:byron").papers == [ada]
    titles = {p.title for p in search_papers("attention -dense").papers}
    assert titles == {"Sparse attention for long documents", "Attention that is sparse"}
    assert search_papers('ti:"long documents" -ti:dense').papers == [ada]


def test_it_pins_an_exact_title(paper, keyword_only):
    for number in range(5):
        paper(title=f"Scaling laws for attention models, take {number}",
                   abstract="Scaling laws for attention models. " * 3)  # fmt: skip
    exact = paper(title="Scaling Laws for Attention", abstract="Short.")
    results = search_papers("scaling laws for attention")
    assert results.pinned == exact
    assert results.papers[0] == exact


def test_it_tolerates_typos(paper, keyword_only):
    wanted = paper(title="Speculative decoding with draft models")
    paper(title="Decoding strategies for translation")
    results = search_papers("speculatve decodnig")
    assert results.papers[0] == wanted


def test_it_filters_and_sorts(paper, keyword_only):
    now = timezone.now()
    old = paper(title="Graph networks, old", published_at=now - dt.timedelta(days=400),
                     categories=["cs.LG"], imported_upvotes=50)  # fmt: skip
    new = paper(title="Graph networks, new", published_at=now - dt.timedelta(days=2),
                     categories=["cs.CV"], github_repo="https://github.com/x/y")  # fmt: skip
    assert search_papers("graph", sort="newest").papers == [new, old]
    assert search_papers("graph", sort="upvotes").papers == [old, new]
    recent = search_papers("graph", published_after=now - dt.timedelta(days=30))
    assert recent.papers == [new]
    assert search_papers("graph", published_before=now - dt.timedelta(days=30)).papers == [old]
    assert search_papers("graph", category="cs.lg").papers == [old]
    assert search_papers("graph cat:cs.CV").papers == [new]
    assert search_papers("graph", has_code=True).papers == [new]
    assert search_papers("", category="cs.CV").papers == [new]
    assert search_papers("", sort="upvotes").papers == [old, new]


def test_it_pages_and_stops_at_a_depth(paper, keyword_only):
    for number in range(5):
        paper(title=f"Graph networks, part {number}")
    first, second = search_papers("graph", limit=3), search_papers("graph", limit=3, offset=3)
    assert first.total == second.total == 5
    assert len(first.papers) == 3 and len(second.papers) == 2
    assert not set(first.papers) & set(second.papers)
    deep = search_papers("graph", offset=5000)
    assert deep.papers == [] and deep.notice


@pytest.mark.parametrize(
    "text",
    ["id:9999.99999", "id:not-an-id", "id:2611.99999", "ti:zebrafish", "au:zebrafish",
     "abs:zebrafish", "cat:q-bio.PE", "title:zebrafish", "author:zebrafish",
     "abstract:zebrafish", "ti:!!!", "id:9999.99999 attention", "ti:zebrafish attention",
     "au:zebrafish attention", "cat:q-bio.PE attention", "ti:!!! attention",
     '"!!!" attention'],
)  # fmt: skip
def test_a_field_prefix_that_no_paper_meets_finds_nothing(text, paper, keyword_only):
    """Every paper holds "attention", none the prefix's value: not every paper, none."""
    for number in range(3):
        paper(title=f"Attention, part {number}")
    results = search_papers(text)
    assert (results.papers, results.total) == ([], 0)


@pytest.mark.parametrize("text", ["id:9999.99999", "id:not-an-id attention"])
def test_an_id_prefix_that_is_no_arxiv_id_says_so(text, paper, keyword_only):
    paper(title="Attention")
    notice = search_papers(text).notice
    assert notice and "is not an arXiv id" in notice


def test_an_id_no_paper_has_is_named_so_it_can_be_submitted(paper, keyword_only):
    wanted = paper(arxiv_id="2501.12570", title="O1-Pruner")
    results = search_papers("id:2501.12570 id:2501.99999")
    assert results.papers == [wanted]
    assert results.missing_ids == ["2501.99999"]
    assert search_papers("id:2501.99999").missing_ids == ["2501.99999"]


@pytest.mark.parametrize(
    "text, prefix", [("ti:", "ti"), ("id:", "id"), ("au:", "au"), ("abs:", "abs"),
                     ("cat:", "cat"), ('ti:""', "ti"), ("Title: ", "Title"),
                     ("ti: au: id:", "au")],
)  # fmt: skip
def test_a_prefix_with_nothing_after_it_finds_nothing_and_says_why(
    text, prefix, paper, keyword_only
):
    # Words that a bare prefix, read as a word, would find.
    paper(title="Ti id au abs cat title: a paper", abstract="Ti, id, au, abs and cat.")
    results = search_papers(text)
    assert (results.papers, results.total) == ([], 0)
    assert f"“{prefix}:” has nothing after it" in results.notice


def test_a_prefix_with_nothing_after_it_is_left_out_of_a_query(paper, keyword_only):
    wanted = paper(title="Graph networks")
    paper(title="Ti: a paper")
    results = search_papers("ti: graph")
    assert results.papers == [wanted]
    assert "“ti:” has nothing after it" in results.notice
    assert [c.text for c in parse("ti: graph").should] == ["graph"]


def test_excluded_categories_and_ids_are_excluded(paper, keyword_only):
    vision = paper(title="Graph networks for images", categories=["cs.CV"])
    language = paper(title="Graph networks for text", categories=["cs.CL", "cs.LG"])
    assert search_papers("graph -cat:cs.CV").papers == [language]
    assert search_papers("-cat:cs.CL").papers == [vision]
    assert search_papers(f"graph -id:{language.arxiv_id}").papers == [vision]
    assert search_papers(f"id:{vision.arxiv_id} -cat:cs.CV").papers == []


def test_an_author_prefix_matches_whole_names(paper, keyword_only):
    wei = paper(title="Graphs", authors=[{"name": "Wei Liu"}, {"name": "Ada Byron"}])
    paper(title="Graphs too", authors=[{"name": "Jiawei Liu"}, {"name": "Wei Liuyang"}])
    assert search_papers('au:"Wei Liu"').papers == [wei]
    assert search_papers('au:"wei liu" graphs').papers == [wei]
    assert search_papers("au:!!!").papers == []


def test_title_and_abstract_prefixes_match_words_not_substrings(paper, keyword_only):
    gans = paper(title="GANs for image synthesis", abstract="Mixture of experts routing.")
    paper(title="Organ segmentation", abstract="A mixture of two experts.")
    assert search_papers("ti:gan").papers == [gans]  # "GANs", not "organ"
    assert search_papers('abs:"mixture of experts"').papers == [gans]  # in order
    assert search_papers("ti:segment").papers != [gans]
    assert search_papers("abs:organ").papers == []  # a title word is not the abstract's
    assert search_papers("-ti:gan segmentation").papers[0].title == "Organ segmentation"


def test_tex_pasted_into_a_query_is_read_as_the_index_holds_it():
    """Documents hold TeX as its words (papers.tex.tex_words): so does a query."""
    parsed = parse(r'abs:"we name the \emph{Uni-Instruct}" $\mathcal{O}(n^2)$ \quad')
    assert [clause.text for clause in parsed.must] == ["we name the Uni-Instruct"]
    assert [clause.text for clause in parsed.should] == ["O(n2)"]
