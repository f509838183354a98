"""`dailypapers search status` tells an operator after an upgrade whether keyword search
finds every paper yet: the keyword index's papers against the visible ones, a refill or a
rewrite of older documents in progress or due, and the time left at the worker's pace."""

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from dailypapers.search import keyword, tasks
from dailypapers.search.status import INDEX_TASK


def status():
    out = io.StringIO()
    call_command("search", "status", stdout=out)
    return out.getvalue()


def line(text, label):
    """The status line with this label, without it."""
    found = [row for row in text.splitlines() if row.startswith(f"{label}:")]
    assert found, text
    return found[0].removeprefix(f"{label}:").strip()


@pytest.fixture
def three(paper):
    return [paper(title=f"Origami folding, part {n}") for n in range(3)]


def test_it_says_the_keyword_index_is_complete(keyword_only, three):
    engine = "PostgreSQL full-text" if connection.vendor == "postgresql" else "tantivy"
    said = status()
    assert line(said, "visible papers") == "3"
    assert line(said, "keyword index") == f"{engine}, 3 of 3 visible papers (100%); complete"
    assert "keyword refill:" not in said and "document format:" not in said


def test_it_shows_a_refill_chunk_by_chunk_with_the_time_left(tantivy_engine, three):
    keyword.get_index().clear()  # as a new index format starts
    assert tasks.fill_empty_keyword_index(chunk=1) == 3  # what `serve` queues
    said = status()
    assert line(said, "keyword index") == "tantivy, 0 of 3 visible papers (0%); refilling"
    assert line(said, "keyword refill") == (
        "3 papers in 3 chunks queued for the worker; the time left is known once a chunk is "
        "done; until then keyword search misses 3 papers (semantic search finds them)"
    )

    # The worker indexed the first chunk in a minute, and has been at the second for 10 s.
    first, second, _ = DBTaskResult.objects.filter(task_path=INDEX_TASK).order_by("enqueued_at")
    first.task.call(*first.args_kwargs["args"])
    now = timezone.now()
    first.status, first.finished_at = TaskResultStatus.SUCCESSFUL, now - dt.timedelta(seconds=10)
    first.started_at = first.finished_at - dt.timedelta(seconds=60)
    first.save()
    second.status, second.started_at = TaskResultStatus.RUNNING, now - dt.timedelta(seconds=10)
    second.save()
    said = status()
    assert line(said, "keyword index") == "tantivy, 1 of 3 visible papers (33%); refilling"
    # two papers at 60 s each, less the 10 s of the running chunk: 110 s
    assert line(said, "keyword refill") == (
        "2 papers in 2 chunks queued for the worker (one running for less than a minute); "
        "about 2 minutes left at the pace of the 1 chunk done; until then keyword search "
        "misses 2 papers (semantic search finds them)"
    )


def test_it_says_a_refill_is_due_when_none_is_queued(tantivy_engine, three):
    keyword.get_index().clear()  # a new format, before `serve` started
    said = status()
    assert line(said, "keyword index") == "tantivy, 0 of 3 visible papers (0%); short of papers"
    assert line(said, "keyword refill").startswith(
        "none queued: `dailypapers serve` queues a refill at start-up; `dailypapers search "
        "reindex` fills the index now; until then keyword search misses 3 papers"
    )
    call_command("search", "reindex", stdout=io.StringIO(), stderr=io.StringIO())
    assert line(status(), "keyword index") == "tantivy, 3 of 3 visible papers (100%); complete"


def test_papers_waiting_for_a_catch_up_are_not_a_refill(tantivy_engine, three):
    from dailypapers.search.services import mark_unindexed

    keyword.get_index().write(delete=[three[2].pk])  # written, its indexing still to come
    mark_unindexed([three[2].pk])
    said = status()
    assert line(said, "keyword index") == (
        "tantivy, 2 of 3 visible papers (66%); the others wait to be indexed (below)"
    )
    assert "keyword refill:" not in said
    assert line(said, "not yet indexed").startswith("1 paper written but not indexed")


def test_it_counts_the_documents_to_rewrite_on_postgresql(keyword_only, three):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL full-text documents carry their format")
    with connection.cursor() as cursor:  # as documents written before a new pg.FORMAT
        cursor.execute("UPDATE search_pgdocument SET format = 2 WHERE paper_id = %s", [three[0].pk])
    said = status()
    assert line(said, "keyword index") == (
        "PostgreSQL full-text, 3 of 3 visible papers (100%); some of an older format (below)"
    )
    assert line(said, "document format") == (
        "1 of 3 documents (33%) of an older format, to rewrite: `dailypapers serve` queues "
        "them at start-up; `dailypapers search reindex` rewrites them now; meanwhile their "
        "words match as typed too, and a spelling without accents misses their accented words"
    )
    assert tasks.rewrite_outdated_keyword_documents() == 1  # what `serve` queues
    assert line(status(), "document format").startswith(
        "1 of 3 documents (33%) of an older format, being rewritten: 1 paper in 1 chunk "
        "queued for the worker; the time left is known once a chunk is done"
    )
    queued = DBTaskResult.objects.get(task_path=INDEX_TASK)
    queued.task.call(*queued.args_kwargs["args"])  # the worker
    queued.delete()
    said = status()
    assert "document format:" not in said
    assert line(said, "keyword index").endswith("(100%); complete")


def test_it_counts_the_visible_papers_with_a_current_vector(paper, make_paper):
    paper(title="Origami folding with transformers")
    make_paper(title="Origami folding, never embedded")  # no index hooks in a test
    said = status()
    assert line(said, "vectors (current)") == "1; 1 of 2 visible papers (50%)"


def test_it_says_searches_read_the_previous_index_while_a_new_format_is_built(
    tantivy_engine, three, monkeypatch
):
    previous = keyword.get_index().path.name
    monkeypatch.setattr(keyword, "SCHEMA_VERSION", keyword.SCHEMA_VERSION + 1)  # an upgrade
    assert tasks.fill_empty_keyword_index() == 3  # what `serve` queues
    said = status()
    assert line(said, "keyword index") == "tantivy, 0 of 3 visible papers (0%); refilling"
    assert line(said, "keyword refill") == (
        "3 papers in 1 chunk queued for the worker; the time left is known once a chunk is "
        f"done; until then searches read the previous index ({previous}, 3 papers)"
    )


def test_it_writes_large_counts_and_short_waits_for_a_reader():
    from dailypapers.search.management.commands.search import _work
    from dailypapers.search.status import QueuedWork

    work = QueuedWork(
        chunks=2, running=0, papers=74_728, running_since=None, done=1, seconds_left=20
    )
    assert _work(work) == (
        "74,728 papers in 2 chunks queued for the worker; less than a minute left at the "
        "pace of the 1 chunk done"
    )
