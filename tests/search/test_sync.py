import datetime as dt
import io

import pytest
import tantivy
from django.utils import timezone

from dailypapers.papers.models import DailyEntry, Paper
from dailypapers.search import keyword, search_papers


@pytest.fixture
def saved(django_capture_on_commit_callbacks):
    """Run the after-commit indexing hooks of whatever happens in the block."""

    def run():
        return django_capture_on_commit_callbacks(execute=True)

    return run


def titles(query, **filters):
    return [p.title for p in search_papers(query, **filters).papers]


def test_it_indexes_new_and_updated_papers(make_paper, saved):
    with saved():
        paper = make_paper(title="Origami folding with transformers")
    assert titles("origami") == ["Origami folding with transformers"]
    with saved():
        paper.title = "Weather forecasting with transformers"
        paper.save()
    assert titles("origami") == []
    assert titles("weather") == ["Weather forecasting with transformers"]


def test_it_never_shows_hidden_papers(make_paper, saved):
    with saved():
        paper = make_paper(title="Origami folding with transformers")
    paper.hidden = True
    paper.save()  # not yet re-indexed: the database check alone must hide it
    assert titles("origami") == []
    with saved():
        paper.save()
    assert keyword.get_index().count() == 0


def test_it_indexes_featuring(make_paper, saved):
    with saved():
        paper = make_paper(title="Origami folding with transformers")
    assert titles("origami", featured_only=True) == []
    with saved():
        DailyEntry.objects.create(paper=paper, day=dt.date.today(), submitted_at=timezone.now())
    assert titles("origami", featured_only=True) == ["Origami folding with transformers"]


def test_it_reindexes_from_the_command(make_paper, settings):
    from django.core.management import call_command

    settings.SEARCH_EMBEDDER = "none"
    make_paper(title="Origami folding with transformers")  # no hooks run: not indexed
    assert titles("origami") == []
    call_command("search", "reindex")
    assert titles("origami") == ["Origami folding with transformers"]


def test_it_uses_the_database_engine_on_postgresql(db):
    from django.db import connection

    from dailypapers.search.pg import PostgresKeywordIndex

    on_postgres = connection.vendor == "postgresql"
    assert isinstance(keyword.get_index(), PostgresKeywordIndex) == on_postgres


def test_a_reindex_commits_as_it_goes_and_drops_what_is_gone(
    make_paper, saved, settings, monkeypatch
):
    from django.core.management import call_command

    settings.SEARCH_EMBEDDER = "none"
    monkeypatch.setattr(keyword, "BULK_DOCS", 2)  # several commits in the one reindex
    with saved():
        gone = make_paper(title="Origami folding with stale transformers")
    gone.delete()  # raw delete: its document stays in the index until a reindex
    for i in range(5):
        make_paper(title=f"Origami folding, part {i}")
    call_command("search", "reindex", "--batch", "1")
    assert sorted(titles("origami")) == [f"Origami folding, part {i}" for i in range(5)]
    assert keyword.get_index().count() == 5


def test_an_empty_keyword_index_fills_itself_after_an_upgrade(make_paper, saved, settings):
    from dailypapers.search.models import Acronym
    from dailypapers.search.tasks import fill_empty_keyword_index

    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    defines = "We fold paper with origami folding networks (OFN), and OFN fold well."
    with saved():
        for n in (1, 2):
            make_paper(title=f"Origami folding with transformers {n}", abstract=defines)
    assert fill_empty_keyword_index() == 0  # an index with documents is left alone
    keyword.get_index().clear()  # as a new index format starts
    assert titles("origami", mode="keyword") == []
    assert not Acronym.objects.exists()  # as on an install from before acronyms
    assert fill_empty_keyword_index() == 2
    assert len(titles("origami", mode="keyword")) == 2
    assert Acronym.objects.filter(short="ofn").exists()


def test_a_refill_stopped_half_way_is_queued_again(make_paper, saved, settings):
    # The site restarted while the worker refilled a new index: the chunk it was writing
    # was lost, and the index holds some papers but not all.
    from dailypapers.search.tasks import fill_empty_keyword_index

    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    with saved():
        papers = [make_paper(title=f"Origami folding, part {n}") for n in range(3)]
    keyword.get_index().write(add=[], delete=[papers[2].pk])  # the lost chunk
    assert len(titles("origami", mode="keyword")) == 2
    assert fill_empty_keyword_index() == 3
    assert len(titles("origami", mode="keyword")) == 3
    assert fill_empty_keyword_index() == 0  # whole again: left alone


def test_other_writers_get_in_while_a_reindex_runs(make_paper, settings):
    settings.SEARCH_ENGINE = "tantivy"  # the file index's writer lock (PostgreSQL has none)
    index = keyword.get_index()
    other = keyword.KeywordIndex(keyword.index_dir())  # as another process would open it
    old, new = make_paper(title="Origami folding, old"), make_paper(title="Origami folding, new")
    with index.bulk():
        index.write(add=[keyword.paper_document(old, featured=False)])  # buffered
        other.write(add=[keyword.paper_document(new, featured=False)])  # not blocked
        index.index.reload()  # another process's commit shows after tantivy's reload delay
        assert titles("origami", mode="keyword") == ["Origami folding, new"]
    assert sorted(titles("origami", mode="keyword")) == [
        "Origami folding, new",
        "Origami folding, old",
    ]


# A new index format (SCHEMA_VERSION) is built beside the old index, which answers meanwhile.


def run_queued_chunk():
    """What the worker does with the next chunk of a refill (fill_empty_keyword_index)."""
    from django_tasks_db.models import DBTaskResult

    queued = DBTaskResult.objects.filter(task_path__endswith="index_keywords_task")
    chunk = queued.order_by("enqueued_at").first()
    chunk.task.call(*chunk.args_kwargs["args"])
    chunk.delete()


def upgrade(monkeypatch):
    """A release with a new keyword index format: a new directory."""
    monkeypatch.setattr(keyword, "SCHEMA_VERSION", keyword.SCHEMA_VERSION + 1)


def test_the_old_index_answers_while_a_new_format_is_built_then_the_new_one(
    tantivy_engine, paper, make_paper, saved, monkeypatch
):
    from dailypapers.search.tasks import fill_empty_keyword_index

    for n in range(3):
        paper(title=f"Origami folding, part {n}")
    old = keyword.get_index()
    upgrade(monkeypatch)
    new = keyword.get_index()
    assert new.path != old.path and new.count() == 0
    assert len(titles("origami", mode="keyword")) == 3  # never short: the old index answers
    assert keyword.serving_index() is old

    assert fill_empty_keyword_index(chunk=2) == 3  # what `serve` queues
    run_queued_chunk()
    assert new.count() == 2
    assert keyword.serving_index() is old  # not full yet
    with saved():  # a paper written meanwhile is found at once, and is in the new index
        make_paper(title="Origami folding, written during the build")
    assert len(titles("origami", mode="keyword")) == 4
    assert new.count() == 3

    run_queued_chunk()  # the last chunk: the new index is full, searches switch to it
    assert new.count() == 4
    assert not (new.path / keyword.BUILDING).exists()
    assert keyword.serving_index() is new
    old.write(delete=[p.pk for p in Paper.objects.all()])  # the old index is read no more
    assert len(titles("origami", mode="keyword")) == 4


def test_a_reindex_during_the_build_switches_at_its_end(tantivy_engine, paper, monkeypatch):
    from django.core.management import call_command

    paper(title="Origami folding with transformers")
    old = keyword.get_index()
    upgrade(monkeypatch)
    assert keyword.serving_index() is old
    call_command("search", "reindex", stdout=io.StringIO(), stderr=io.StringIO())
    assert keyword.serving_index() is keyword.get_index() is not old
    assert titles("origami", mode="keyword") == ["Origami folding with transformers"]


def test_an_old_index_this_code_cannot_read_leaves_the_new_one_to_fill_as_before(
    tantivy_engine, monkeypatch
):
    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("pk", stored=True, indexed=True, fast=True)
    builder.add_text_field("body")  # fields this release's code does not search
    keyword.index_dir().mkdir(parents=True)
    old = tantivy.Index(builder.build(), path=str(keyword.index_dir()))
    writer = old.writer()
    writer.add_document(tantivy.Document(pk=1, body="Origami folding"))
    writer.commit()
    writer.wait_merging_threads()
    upgrade(monkeypatch)
    new = keyword.get_index()
    assert not (new.path / keyword.BUILDING).exists()
    assert keyword.serving_index() is new  # empty until the worker fills it, as before
