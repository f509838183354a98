"""The upsert writes a batch with a fixed number of statements, whatever its size (no round
trip per row, on SQLite and PostgreSQL); a paper another ingest stored meanwhile stays as it
is; and a re-ingest re-embeds only the papers whose text changed."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dailypapers.ingest import upsert
from dailypapers.ingest.upsert import upsert_daily_records, upsert_records
from dailypapers.papers.models import Author, Paper
from dailypapers.papers.ranking import trending_score
from dailypapers.search import index_papers
from dailypapers.search.models import PaperEmbedding
from dailypapers.search.tasks import collect_indexing

from .test_upsert import authors_in_table, daily, record

pytestmark = pytest.mark.django_db


def papers(prefix, count, version=1):
    return [
        record(f"{prefix}.{n:05d}", version=version,
               authors=[{"name": f"Author {prefix} {n} v{version}"}, {"name": "Ada Lovelace"}])
        for n in range(count)
    ]  # fmt: skip


def statements(records, upsert=upsert_records):
    with CaptureQueriesContext(connection) as captured:
        summary = upsert(records)
    if connection.vendor == "postgresql":  # Django's cursor binds on the client: an
        # executemany there is a statement a row, which the server parses and plans anew
        assert not [query for query in captured if " times: " in query["sql"]]
    return len(captured.captured_queries), summary


def test_it_writes_a_batch_in_the_same_statements_whatever_its_size():
    few, few_summary = statements(papers("2611", 3))
    many, many_summary = statements(papers("2612", 1200))
    assert (few_summary.new, many_summary.new) == (3, 1200)
    assert few == many

    # A newer version of each: updates, with their author links replaced.
    few, few_summary = statements(papers("2611", 3, version=2))
    many, many_summary = statements(papers("2612", 1200, version=2))
    assert (few_summary.updated, many_summary.updated) == (3, 1200)
    assert few == many
    paper = Paper.objects.get(arxiv_id="2612.01199")
    assert (paper.version, authors_in_table(paper)) == (2, ["Author 2612 1199 v2", "Ada Lovelace"])
    assert Author.objects.count() == 1 + 2 * (3 + 1200)


def test_it_refreshes_the_trending_of_a_daily_import_in_the_same_statements():
    def days(prefix, count, upvotes):
        return [daily(f"{prefix}.{n:05d}", upvotes=upvotes + n) for n in range(count)]

    statements(days("2611", 3, 5), upsert_daily_records)
    statements(days("2612", 300, 5), upsert_daily_records)
    few, _ = statements(days("2611", 3, 50), upsert_daily_records)  # more upvotes: new scores
    many, summary = statements(days("2612", 300, 50), upsert_daily_records)

    assert summary.updated == 300
    assert few == many
    paper = Paper.objects.get(arxiv_id="2612.00299")
    featured = paper.daily_entries.get().submitted_at
    assert paper.trending_score == pytest.approx(trending_score(upvotes=349, featured_at=featured))


def test_a_paper_another_ingest_stored_meanwhile_stays_as_it_is(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("on SQLite a batch holds the write lock from its look-up on")
    upsert_records([record("2611.00001", title="Theirs")])
    monkeypatch.setattr(upsert, "_stored_papers", lambda arxiv_ids: {})  # our look-up: none

    summary = upsert_records(
        [record("2611.00001", title="Ours", authors=[{"name": "Grace Hopper"}]),
         record("2611.00002")]
    )  # fmt: skip

    assert (summary.new, summary.unchanged) == (1, 1)
    theirs = Paper.objects.get(arxiv_id="2611.00001")
    assert theirs.title == "Theirs"
    assert authors_in_table(theirs) == ["Ada Lovelace", "Alan Turing"]


@pytest.fixture
def encoded(encoded, settings):
    """tests/conftest.py's, with the vectors in memory (on PostgreSQL too)."""
    settings.SEARCH_VECTOR_INDEX = "memory"
    return encoded


@pytest.fixture
def ingest_and_index(django_capture_on_commit_callbacks):
    """What `dailypapers ingest` does: upsert, then index what the upsert announced once
    its batches were committed."""

    def run(records):
        with collect_indexing() as to_index, django_capture_on_commit_callbacks(execute=True):
            upsert_records(records)
        index_papers(to_index)
        return to_index

    return run


def test_a_reingest_embeds_only_the_papers_whose_text_changed(encoded, ingest_and_index):
    first = [record(f"2611.{n:05d}", abstract=f"We study problem {n}.") for n in range(5)]
    assert len(ingest_and_index(first)) == 5
    assert len(encoded) == 5

    assert not ingest_and_index(first)  # the same records: nothing written, nothing to index
    assert len(encoded) == 5

    again = [record(f"2611.{n:05d}", abstract=f"We study problem {n}.") for n in range(5)]
    again[2] = record("2611.00002", version=2, abstract="We study problem 2, and solve it.")
    again[3].imported_upvotes = 7  # an enrichment: written, but its text is the same
    ingest_and_index(again)
    assert len(encoded) == 6
    assert "solve it" in encoded[-1]
    assert PaperEmbedding.objects.count() == 5
