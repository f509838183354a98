"""How many papers match every word of a query, and the searches limited to those papers:
on the site's keyword engine (tantivy on SQLite, PostgreSQL full-text on PostgreSQL: run
with DATABASE_URL set) and on tantivy everywhere."""

import datetime as dt
import io
import re

import pytest
from django.db import connection
from django.utils import timezone

from dailypapers.search import acronyms, keyword, pg, search_papers
from dailypapers.search.keyword import Filters
from dailypapers.search.query import Clause, parse


@pytest.fixture(params=["site", "tantivy"])
def engine(request, settings, keyword_only):
    """The site's keyword engine, then tantivy (the same on SQLite)."""
    if request.param == "tantivy":
        settings.SEARCH_ENGINE = "tantivy"
    return request.param


def _counted(query, **filters):
    if connection.vendor == "postgresql":
        pg.PostgresKeywordIndex().refresh_statistics()  # the word counts, as nightly
    index = keyword.get_index()
    return index.count_every_word(acronyms.expand(parse(query)), Filters(**filters))


def test_it_counts_the_papers_that_hold_every_word_in_any_field(engine, paper):
    paper(title="Diffusion language models", abstract="Fast.")
    paper(title="Decoding", abstract="A diffusion model of language.")  # stems
    paper(title="Diffusion", abstract="Models.", authors=[{"name": "Ada Language"}])  # authors
    paper(title="Diffusion models", abstract="Images, not text.")  # two of three words
    paper(title="Language models", abstract="Autoregressive.")
    assert _counted("diffusion language models") == 3
    assert _counted("diffusion models") == 4
    assert _counted('diffusion "language models"') == 1  # the phrase holds as a phrase
    assert _counted("ti:diffusion language") == 2  # "diffusion" in the title
    assert _counted("diffusion language -autoregressive") == 3
    assert _counted("diffusion language models", published_after=timezone.now()) == 0


def test_a_hyphenated_word_is_held_whole_or_by_its_parts_side_by_side(engine, paper):
    paper(title="Tool-use agents", abstract="Agents.")
    paper(title="Agents for tool use", abstract="Agents.")
    paper(title="Agents that use tool chains", abstract="Agents.")  # apart
    paper(title="Tool agents", abstract="Agents.")  # "tool" alone
    assert _counted("tool-use agents") == 2


def test_an_acronym_is_held_by_its_long_form(engine, paper, monkeypatch):
    monkeypatch.setattr(acronyms, "_short_forms", lambda: {"llm": "large language models"})
    paper(title="Pruning LLMs", abstract="Smaller.")
    paper(title="Pruning large language models", abstract="Smaller.")
    paper(title="Pruning language models", abstract="Smaller.")  # not the whole long form
    assert _counted("LLMs pruning") == 2
    paper(title="An LLM", abstract="Big.")
    assert _counted("large language models") == 3  # the whole query's acronym holds it all


def test_a_name_with_its_version_is_held_in_the_forms_titles_write(engine, paper):
    paper(title="LLaDA2.0: Scaling Up Diffusion Language Models", abstract="Big.")
    paper(title="Qwen3 Technical Report", abstract="A family of models.")
    paper(title="The Qwen 3 models, evaluated", abstract="Reports.")
    paper(title="Avatar 2.0 report", abstract="Version 2.0 of a model.")
    assert _counted("LLaDA 2.0") == 1  # "llada2" holds both words
    assert _counted("LLaDA diffusion") == 1
    assert _counted("Qwen3") == 2  # joined, or the phrase of the two
    assert _counted("Qwen models") == 2


def test_the_search_page_counts_the_papers_with_every_word(client, db):
    """The bundled sample: 208 of its 224 papers hold "diffusion", "language" or "models",
    and the page said "208 papers match"; 14 hold the three."""
    from django.core.management import call_command

    from dailypapers.papers.models import Paper
    from dailypapers.search import index_papers

    call_command("load_sample", stdout=io.StringIO())
    index_papers(list(Paper.objects.values_list("pk", flat=True)))
    if connection.vendor == "postgresql":
        pg.PostgresKeywordIndex().refresh_statistics()
    holding = [
        paper
        for paper in Paper.objects.visible()
        if {"diffus", "languag", "model"} <= _stems(paper)
    ]
    results = search_papers("diffusion language models")
    assert results.matches == len(holding) == 14
    assert results.partly and results.several_words
    page = _head(client, "diffusion language models")
    assert page.startswith(
        "14 papers match every word of “diffusion language models” · others match some"
    )
    assert "208" not in page
    # No paper holds the four words, and the ranking still shows the closest matches.
    page = _head(client, "diffusion language models zebrafish")
    assert page.startswith(
        "No paper matches every word of “diffusion language models zebrafish”; the closest"
    )
    assert search_papers("diffusion language models zebrafish").papers


def _stems(paper):
    names = " ".join(author["name"] for author in paper.authors)
    text = f"{paper.title}\n{paper.abstract}\n{names}"
    return set(keyword.ANALYZERS["en"].analyze(text))


def _head(client, query):
    body = client.get("/search", {"q": query}).content.decode()
    head = re.search(r'<div class="result-head">\s*<p class="muted">(.*?)</p>', body, re.S)[1]
    return re.sub(r"<[^>]+>", "", head)


def _older_with_both_words(paper, now):
    """Three papers holding "diffusion language" in their titles, from 3 days back."""
    older = [
        paper(title=f"Diffusion language {n}", abstract="Text.",
              published_at=now - dt.timedelta(days=3 + n))
        for n in range(3)
    ]  # fmt: skip
    if connection.vendor == "postgresql":
        pg.PostgresKeywordIndex().refresh_statistics()
    return older


def test_newest_first_with_every_word_reads_past_the_newest_partial_matches(engine, paper):
    """The newest papers that hold one of the words filled the page before: the search
    cut the newest page of any word's matches, then kept those with every word."""
    now = timezone.now()
    for n in range(12):  # the newest: one word
        paper(title=f"Diffusion {n}", abstract="Images.", published_at=now - dt.timedelta(hours=n))
    older = _older_with_both_words(paper, now)
    found = search_papers("diffusion language", sort="newest", limit=2, every_word=True).papers
    assert found == older[:2]


def test_every_word_reads_on_until_the_page_is_full(engine, paper):
    """A topic alert wants the words in one sentence (holds_every_word): the newest papers
    hold them in two, and the page is filled from older ones."""
    now = timezone.now()
    for n in range(10):
        paper(title=f"Report {n}", abstract="About diffusion. And about language.",
              published_at=now - dt.timedelta(hours=n))  # fmt: skip
    older = _older_with_both_words(paper, now)
    for sort in ("newest", "relevance"):
        found = search_papers("diffusion language", sort=sort, limit=3, every_word=True).papers
        assert set(found) == set(older), sort
    with pytest.raises(ValueError):
        search_papers("diffusion language", sort="upvotes", every_word=True)


def test_every_word_needs_are_the_typed_words_and_their_forms():
    parsed = parse("making LLaDA 2.0 faster")
    parsed.should.append(Clause("fast", expansion=True, of="faster"))
    needs, whole = keyword.every_word_needs(parsed)
    assert [[form.text for form in need] for need in needs] == [
        ["LLaDA", "llada2"],
        ["2.0", "llada2"],
        ["faster", "fast"],
    ]  # "making" is glue; "llada2" holds the name and its number
    assert whole is None


def test_quotes_and_backslashes_are_words_like_others(engine, paper):
    paper(title="O'Brien's diffusion", abstract="A back\\slash.")
    assert _counted("o'brien's diffusion") == 1
    assert _counted("back\\slash diffusion '") == 1


def test_a_version_number_holds_its_parts_side_by_side(engine, paper):
    paper(title="Version 2.0 agents", abstract="Agents.")
    paper(title="Agents 2", abstract="From 0 to 2 agents.")
    assert _counted("2.0 agents") == 1


def test_a_word_is_held_in_its_other_number(engine, paper):
    """The stemmer keeps the s of "LLMs": a paper that writes it holds "LLM", as a topic
    alert reads it, and every paper its digest mails is among those counted."""
    paper(title="Pruning LLMs", abstract="Smaller.")
    paper(title="Pruning an LLM", abstract="Smaller.")
    assert _counted("LLM pruning") == _counted("LLMs pruning") == 2


def test_past_the_most_it_counts_the_page_says_more_than(engine, paper, client, monkeypatch):
    """Counting reads every paper on PostgreSQL: it stops past COUNT_MAX, and the page
    says "More than ..." on both engines."""
    from dailypapers.search import selectors

    for n in range(4):
        paper(title=f"Diffusion language models {n}", abstract="Text.")
    paper(title="Diffusion", abstract="Images.")
    assert _counted("diffusion language") == 4
    index = keyword.get_index()
    parsed = parse("diffusion language")
    assert index.count_every_word(parsed, Filters(), limit=3) == 3
    monkeypatch.setattr(selectors, "COUNT_MAX", 3)
    results = search_papers("diffusion language")
    assert results.more_than_counted and results.matches == 3 and not results.partly
    assert _head(client, "diffusion language").startswith(
        "More than 3 papers match every word of “diffusion language”"
    )
    monkeypatch.setattr(selectors, "COUNT_MAX", 4)  # another query: the page is cached
    assert _head(client, "language diffusion").startswith(
        "4 papers match every word of “language diffusion” · others match some of the words"
    )
