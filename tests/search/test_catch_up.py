"""Papers written but not indexed (an ingest stopped while indexing, a database outage) are
indexed later by themselves: by the next ingest, by `serve` at start-up (a task), by the
nightly task and by `search catch-up`; `search status` says how many wait."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from dailypapers.papers.models import Paper
from dailypapers.search import search_papers, services
from dailypapers.search.models import PaperEmbedding, UnindexedPaper


@pytest.fixture(autouse=True)
def in_memory_index(settings):
    settings.SEARCH_VECTOR_INDEX = "memory"  # on PostgreSQL with pgvector too


def interrupt_indexing(monkeypatch, after_batches):
    """Stop `ingest`'s indexing as Ctrl-C would, while it embeds batch `after_batches` + 1
    (its keyword documents written, its vectors not)."""
    real = services._embed
    calls = []

    def embed(papers):
        calls.append(len(papers))
        if len(calls) > after_batches:
            raise KeyboardInterrupt
        return real(papers)

    monkeypatch.setattr(services, "_embed", embed)
    defaults = services.index_papers.__kwdefaults__
    monkeypatch.setitem(defaults, "batch_size", 50)


def unfound(papers):
    """The papers a search for their title does not return."""
    return [p for p in papers if p not in search_papers(p.title, limit=5).papers]


@pytest.mark.django_db(transaction=True)
def test_a_rerun_of_an_interrupted_ingest_indexes_what_the_first_left(sample_data, monkeypatch):
    listings = str(sample_data / "arxiv-listings-sample.jsonl.gz")
    interrupt_indexing(monkeypatch, after_batches=1)
    with pytest.raises(CommandError, match="Stopped while indexing for search") as stopped:
        call_command("ingest", "listings", listings, "--no-progress", stdout=io.StringIO())
    assert stopped.value.returncode == 130  # as Ctrl-C anywhere else in the command line
    papers = list(Paper.objects.order_by("pk"))
    assert len(papers) > 100
    embedded = PaperEmbedding.objects.count()
    assert embedded == 50  # one batch of 50 got its vectors, then the run was stopped
    assert services.unindexed_count() == len(papers) - 50
    status = io.StringIO()
    call_command("search", "status", stdout=status)
    assert f"not yet indexed:     {len(papers) - 50} papers" in status.getvalue()
    assert "search catch-up" in status.getvalue()
    monkeypatch.undo()

    out = io.StringIO()
    call_command("ingest", "listings", listings, "--no-progress", stdout=out)

    assert "0 new, 0 updated" in out.getvalue()
    assert f"{len(papers) - 50} papers written earlier are not indexed" in out.getvalue()
    assert f"indexed for search: {len(papers) - 50} papers" in out.getvalue()
    assert PaperEmbedding.objects.count() == len(papers)
    assert not UnindexedPaper.objects.exists()
    assert unfound(papers[-20:]) == []
    status = io.StringIO()
    call_command("search", "status", stdout=status)
    assert "not yet indexed:     none" in status.getvalue()


@pytest.mark.django_db(transaction=True)
def test_serve_queues_the_catch_up_for_the_worker(sample_data, monkeypatch):
    from django_tasks_db.models import DBTaskResult

    from dailypapers.search.tasks import catch_up_task, queue_catch_up

    listings = str(sample_data / "arxiv-listings-sample.jsonl.gz")
    interrupt_indexing(monkeypatch, after_batches=0)
    with pytest.raises(CommandError):
        call_command("ingest", "listings", listings, "--no-progress", stdout=io.StringIO())
    monkeypatch.undo()
    papers = list(Paper.objects.order_by("pk"))
    assert unfound(papers[-5:]) == papers[-5:]  # not indexed: the run stopped at its first

    assert queue_catch_up() == len(papers)  # what `serve` calls at start-up
    queued = DBTaskResult.objects.filter(task_path__endswith="catch_up_task")
    assert queued.count() == 1
    assert catch_up_task.call(*queued.get().args_kwargs["args"]) == len(papers)  # the worker

    assert PaperEmbedding.objects.count() == len(papers)
    assert services.unindexed_count() == 0
    assert unfound(papers[-20:]) == []
    assert queue_catch_up() == 0


@pytest.mark.django_db(transaction=True)
def test_the_nightly_task_and_the_command_catch_up_too(sample_data, monkeypatch):
    from dailypapers.search.tasks import refresh_search_statistics

    listings = str(sample_data / "arxiv-listings-sample.jsonl.gz")
    call_command(
        "ingest", "listings", listings, "--no-progress", "--no-index", stdout=io.StringIO()
    )  # fmt: skip (the worker never ran: as if it died)
    assert services.unindexed_count() == Paper.objects.count()
    refresh_search_statistics.call()
    assert services.unindexed_count() == 0
    assert PaperEmbedding.objects.count() == Paper.objects.count()

    some = Paper.objects.order_by("pk")[3]
    Paper.objects.filter(pk=some.pk).update(title="Catching up on lost indexing")
    services.mark_unindexed([some.pk])  # written, and its indexing lost
    out = io.StringIO()
    call_command("search", "catch-up", stdout=out, stderr=io.StringIO())
    assert "indexed 1 paper written but not indexed; 0 still waiting" in out.getvalue()
    assert [p.pk for p in search_papers("catching lost indexing", limit=3).papers][:1] == [some.pk]


@pytest.mark.django_db(transaction=True)
def test_papers_indexed_before_marks_existed_are_found_by_their_missing_vectors(
    sample_data, monkeypatch
):
    listings = str(sample_data / "arxiv-listings-sample.jsonl.gz")
    interrupt_indexing(monkeypatch, after_batches=1)
    with pytest.raises(CommandError):
        call_command("ingest", "listings", listings, "--no-progress", stdout=io.StringIO())
    monkeypatch.undo()
    UnindexedPaper.objects.all().delete()  # an install from before marks

    assert services.catch_up() == Paper.objects.count() - 50
    assert PaperEmbedding.objects.count() == Paper.objects.count()


@pytest.mark.django_db
def test_a_paper_written_again_while_it_is_indexed_stays_marked(make_paper, monkeypatch):
    paper = make_paper(title="Marks and races")
    services.mark_unindexed([paper.pk])
    real = services.keyword_documents

    def written_meanwhile(paper_ids):
        read = real(paper_ids)
        services.mark_unindexed([paper.pk])  # a save after the indexing read the paper
        return read

    monkeypatch.setattr(services, "keyword_documents", written_meanwhile)
    services.index_papers([paper.pk])
    assert services.unindexed_ids() == [paper.pk]
    monkeypatch.undo()
    services.index_papers([paper.pk])
    assert services.unindexed_ids() == []


@pytest.mark.django_db
def test_a_reindex_never_leaves_search_with_part_of_the_papers(make_paper, monkeypatch, settings):
    """The keyword index (tantivy, or PostgreSQL full-text) is written over, never emptied
    first; the documents of papers gone or hidden are dropped at the end."""
    from dailypapers.search import keyword

    settings.SEARCH_EMBEDDER = "none"
    made = [make_paper(title=f"Speculative decoding, part {n}") for n in range(5)]
    services.index_papers([p.pk for p in made])
    Paper.objects.filter(pk=made[-1].pk).update(hidden=True)  # hidden behind search's back
    counts = []
    real = services.keyword_documents

    def seen_by_searches(paper_ids):
        counts.append(keyword.get_index().count())
        return real(paper_ids)

    monkeypatch.setattr(services, "keyword_documents", seen_by_searches)
    call_command("search", "reindex", "--batch", "2", stdout=io.StringIO(), stderr=io.StringIO())
    assert counts and min(counts) == 5
    assert keyword.get_index().count() == 4
    found = search_papers("speculative decoding", limit=10).papers
    assert sorted(p.pk for p in found) == [p.pk for p in made[:-1]]


@pytest.mark.django_db(transaction=True)
def test_ingest_and_reindex_say_when_they_build_the_vector_index(
    sample_data, monkeypatch, settings, capfd
):
    """pgvector's HNSW index, built once after a big load, is a step of its own (minutes at
    100k vectors): not a bar that sits at 100% or 54% saying nothing."""
    from dailypapers.search import pgvector

    if not pgvector.table_ready():
        pytest.skip("needs PostgreSQL with the pgvector extension")
    settings.SEARCH_VECTOR_INDEX = "auto"
    monkeypatch.setattr(pgvector, "REBUILD_FROM", 50)

    def empty_vector_table():
        # Tests that commit leave rows in the HNSW table, and a load of a quarter of the
        # table or less grows the index rather than building it (pgvector.bulk_write).
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {pgvector.TABLE}")

    empty_vector_table()
    listings = str(sample_data / "arxiv-listings-sample.jsonl.gz")
    call_command("ingest", "listings", listings, "--no-progress")
    err = capfd.readouterr().err
    assert "index for search: building the vector index (pgvector HNSW)" in err
    assert "index for search: done in" in err

    PaperEmbedding.objects.all().delete()  # vectors to make again: built once after them
    empty_vector_table()
    call_command("search", "reindex")
    err = capfd.readouterr().err
    building = err.index("building the vector index (pgvector HNSW)")
    assert err.rindex("embedding: 100%", 0, building) < building  # the bar is through first
    assert "keyword index" not in err or err.index("keyword index") > building
    assert "  done in" in err[building:]
