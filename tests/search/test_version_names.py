"""A model family searched by its name finds the papers that write it joined to its version
("Qwen3", "LLaDA2.0", "Qwen2.5-VL"), on the site's keyword engine: tantivy on SQLite,
PostgreSQL full-text on PostgreSQL (run with DATABASE_URL set)."""

import pytest
from django.db import connection

from dailypapers.search import pg, search_papers, tasks


@pytest.fixture
def family(keyword_only, paper):
    """Papers that write a model's name only joined to its version, and some that do not."""
    papers = {
        "qwen3": paper(
            title="Qwen3 Technical Report",
            abstract="Qwen3 is the latest version of a family of large language models.",
        ),
        "qwen2.5-vl": paper(
            title="Qwen2.5-VL Technical Report",
            abstract="The flagship vision-language model of its series.",
        ),
        "llada2.0": paper(
            title="LLaDA2.0: Scaling Up Diffusion Language Models to 100B",
            abstract="We convert autoregressive models into discrete diffusion models.",
        ),
    }
    for n in range(3):
        paper(title=f"Avatar 2.0 report {n}", abstract="Version 2.0 of a model, in 3 sizes.")
        paper(title=f"A technical report on vision {n}", abstract="Language models see.")
    if connection.vendor == "postgresql":
        pg.PostgresKeywordIndex().refresh_statistics()  # the word counts, as nightly
    return papers


def found(query):
    return search_papers(query, mode="keyword").papers


def test_the_name_finds_the_papers_that_write_it_joined_to_its_version(family):
    assert set(found("Qwen")) == {family["qwen3"], family["qwen2.5-vl"]}
    assert found("LLaDA") == [family["llada2.0"]]
    assert found("ti:qwen")[0] in {family["qwen3"], family["qwen2.5-vl"]}


def test_a_name_with_its_version_finds_the_paper_and_ranks_it_first(family):
    assert found("LLaDA 2.0")[0] == family["llada2.0"]
    assert found("LLaDA2")[0] == family["llada2.0"]
    assert found("Qwen2.5")[0] == family["qwen2.5-vl"]
    # The exact name first: both titles hold "qwen" and "technical report", one "Qwen3".
    assert found("Qwen3")[0] == family["qwen3"]
    assert found("Qwen3 technical report")[:2] == [family["qwen3"], family["qwen2.5-vl"]]
    assert found("Qwen2.5-VL")[0] == family["qwen2.5-vl"]


def test_a_name_typed_joined_finds_it_written_apart(keyword_only, paper):
    apart = paper(title="The Llama 3 Herd of Models", abstract="A family of language models.")
    paper(title="Llama 2: open foundation models", abstract="Llama 2 is a language model.")
    for n in range(3):
        paper(title=f"Three views {n}", abstract="A model with 3 views.")
    if connection.vendor == "postgresql":
        pg.PostgresKeywordIndex().refresh_statistics()
    assert found("Llama3")[0] == apart


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL keyword engine")
def test_serve_has_documents_of_an_older_format_rewritten(keyword_only, paper, settings):
    """An upgrade keeps the documents written before it, which lack the name forms: they
    are rewritten in the background, search using them meanwhile."""
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    qwen = paper(title="Qwen3 Technical Report", abstract="A family of models.")
    paper(title="Avatar 2.0 report", abstract="A model.")
    engine = pg.PostgresKeywordIndex()
    assert tasks.rewrite_outdated_keyword_documents() == 0  # all of the current format
    with connection.cursor() as cursor:  # as documents written before the name forms
        cursor.execute(
            "UPDATE search_pgdocument SET format = 0, document = "
            "setweight(to_tsvector('english', title), 'A'), "
            "title_document = to_tsvector('english', title)"
        )
    assert found("Qwen") == []
    assert tasks.rewrite_outdated_keyword_documents() == 2
    assert engine.outdated() == []
    assert found("Qwen") == [qwen]
