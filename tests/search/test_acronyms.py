import io

import pytest
from django.core.management import call_command

from dailypapers.search import acronyms, search_papers
from dailypapers.search.models import Acronym
from dailypapers.search.query import parse


def test_it_reads_acronym_definitions_the_way_abstracts_write_them():
    text = (
        "We compress the key-value (KV) cache of large language models (LLMs) with a "
        "mixture-of-experts (MoE) router (see Table 1), as in prior work (Smith et al.)."
    )
    assert acronyms.definitions(text) == [
        ("kv", "key value"),
        ("llm", "large language models"),
        ("moe", "mixture of experts"),
    ]
    assert acronyms.definitions("a Transformer (TF) and an unrelated word (XYZ)") == [
        ("tf", "transformer")
    ]


def test_it_keeps_only_acronyms_that_papers_agree_on():
    texts = [
        "super-resolution (SR) of images",
        "image super resolution (SR) networks",
        "speech recognition (SR) systems",
        "a single mention of state space models (SSMs)",
        "graph neural networks (GNNs) here",
        "and graph neural networks (GNN) there",
    ]
    table = acronyms.mine(texts)
    assert table["gnn"] == ("graph neural networks", 2)
    assert table["sr"] == ("super resolution", 2)  # 2 of 3 definitions agree
    assert "ssm" not in table  # one paper is not enough


def test_it_learns_acronyms_from_real_papers(load_real_papers):
    load_real_papers()
    assert acronyms.refresh() > 10
    assert Acronym.objects.get(short="llm").long.startswith("large language model")
    expanded = acronyms.expand(parse("LLMs pruning"))
    added = [c.text for c in expanded.should if c.expansion]
    assert added and added[0].startswith("large language model")


def test_it_finds_the_long_form_from_the_acronym(paper):
    for i in range(2):
        paper(title=f"Selective scans {i}", abstract="We train state space models (SSMs).")
    spelled_out = paper(title="Long sequences", abstract="Linear-time state space models win.")
    paper(title="Unrelated", abstract="Graph colouring heuristics for sparse graphs.")

    def found(query):
        return search_papers(query, mode="keyword").papers

    assert spelled_out not in found("SSMs")  # not learnt yet
    acronyms.refresh()
    assert spelled_out in found("SSMs")
    # Typed in lower case, "ssms" might be a word: its long form only adds candidates.
    assert found("ssms")[-1] == spelled_out
    # Typed words still decide: the expansion adds candidates, it does not replace.
    assert search_papers('"graph colouring"').papers[0].title == "Unrelated"


def test_a_query_that_spells_out_an_acronym_also_finds_titles_with_the_acronym(
    paper, tantivy_engine
):
    defines = "We align with direct preference optimization (DPO)."
    for i in range(2):
        paper(title=f"Preference data {i}", abstract=defines)
    short_title = paper(title="DPO without a reference model", abstract="Offline alignment.")
    paper(title="Direct methods for optimization", abstract="Preference for speed.")
    acronyms.refresh()
    assert acronyms.expand(parse("direct preference optimization")).short_form == "dpo"
    assert acronyms.expand(parse("direct preference optimization for robots")).short_form is None
    assert acronyms.expand(parse('direct preference optimization "robots"')).short_form is None
    top = search_papers("direct preference optimization", mode="keyword").papers[:3]
    assert short_title in top  # its title holds the whole query, said short
    assert search_papers("direct preference optimization").also_searched == ["DPO"]
    out = io.StringIO()
    call_command("search", "query", "direct preference optimization", stdout=out)
    assert "also searched: DPO" in out.getvalue().splitlines()[0]


def test_a_typed_acronym_and_its_long_form_are_one_word(tantivy_engine, paper, monkeypatch):
    """Typed as an acronym ("LMs"), both forms are scored as one word, with the IDF of the
    papers that hold either (Lucene's SynonymQuery): a paper no longer wins by writing the
    rare short form where others spell it out."""
    from dailypapers.search import keyword

    for number in range(2):
        paper(title=f"Scaling study {number}", abstract="We train language models (LMs).")
    for number in range(6):
        paper(title=f"Survey {number}", abstract="Language models, and more language models.")
    short = paper(title="Diffusion for LMs", abstract="Diffusion LMs.")
    spelt = paper(title="Diffusion for language models", abstract="Diffusion language models.")
    acronyms.refresh()

    def scores():
        hits, _ = keyword.get_index().search(
            acronyms.expand(parse("diffusion LMs")), keyword.Filters(), limit=10
        )
        by_pk = {hit.pk: hit.score for hit in hits}
        return by_pk[short.pk], by_pk[spelt.pk]

    short_score, spelt_score = scores()
    assert spelt_score == pytest.approx(short_score, rel=0.2)
    monkeypatch.setattr(keyword, "typed_as_acronym", lambda word: False)  # scored apart
    short_score, spelt_score = scores()
    assert spelt_score < 0.6 * short_score


def test_an_acronym_that_is_a_stopword_finds_its_long_form(tantivy_engine, paper, monkeypatch):
    spelt = paper(title="Information technology audits", abstract="Audits of systems.")
    paper(title="Unrelated", abstract="Graph colouring heuristics.")
    monkeypatch.setattr(acronyms, "_short_forms", lambda: {"it": "information technology"})
    assert search_papers("IT", mode="keyword").papers == [spelt]  # "it" itself is not ranked


def test_a_word_the_engine_does_not_rank_searches_no_long_form(db):
    """Abstracts define "(HO)", "(AT)": "how" and "at", typed as words, are not them (and
    "how" is no plural of "ho"), while "HO" typed as an acronym and "llms" still are."""
    Acronym.objects.bulk_create(
        [
            Acronym(short="ho", long="human object", papers=5),
            Acronym(short="at", long="adversarial training", papers=5),
            Acronym(short="llm", long="large language model", papers=50),
        ]
    )
    acronyms.reset_cache()

    def added(query):
        return [c.text for c in acronyms.expand(parse(query)).should if c.expansion]

    assert added("how to evaluate agents at scale") == []
    assert added("HO detection") == ["human object"]
    assert added("AT for llms") == ["adversarial training", "large language model"]
