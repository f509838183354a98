"""Search never waits on indexing, and nothing stale is served once the index has moved:
ingest indexes its own papers, reindex supersedes queued work, unchanged text is never
re-embedded, requests leave a big backlog to the refresher, published graphs are picked up."""

import fcntl
import io
import threading
import time
from contextlib import contextmanager

import numpy as np
import pytest
from django.core.management import call_command

from dailypapers.papers.models import Paper
from dailypapers.search import embedders, index_generation, index_papers, search_papers, vectors
from dailypapers.search.models import PaperEmbedding
from dailypapers.search.services import start_reindex
from dailypapers.search.tasks import index_papers_task

from .test_vectors import TOPICS


@pytest.fixture(autouse=True)
def in_memory_index(settings):
    settings.SEARCH_VECTOR_INDEX = "memory"  # on PostgreSQL with pgvector too


@pytest.mark.django_db(transaction=True)
def test_papers_are_searchable_as_soon_as_ingest_returns(sample_data):
    out = io.StringIO()
    listings = sample_data / "arxiv-listings-sample.jsonl.gz"
    call_command("ingest", "listings", str(listings), "--no-progress", stdout=out)

    assert f"indexed for search: {Paper.objects.count()}" in out.getvalue()
    some = Paper.objects.order_by("pk")[7]
    found = search_papers(f'ti:"{some.title}"', limit=5).papers
    assert some in found
    assert PaperEmbedding.objects.count() == Paper.objects.count()


@pytest.mark.django_db(transaction=True)
def test_ingest_no_index_leaves_the_papers_to_the_worker(sample_data):
    from django_tasks_db.models import DBTaskResult

    listings = sample_data / "arxiv-listings-sample.jsonl.gz"
    call_command("ingest", "listings", str(listings), "--no-progress", "--no-index",
                 stdout=io.StringIO())  # fmt: skip

    tasks = DBTaskResult.objects.filter(task_path__endswith="index_papers_task")
    queued = [pk for task in tasks for pk in task.args_kwargs["args"][0]]
    assert sorted(queued) == sorted(Paper.objects.values_list("pk", flat=True))
    assert not PaperEmbedding.objects.exists()


def test_a_cached_empty_answer_is_not_served_once_the_papers_are_indexed(client, make_paper):
    made = [make_paper(title=title, abstract=f"{title}. We study it.") for title in TOPICS]
    url = "/api/papers/search?q=speculative+decoding+draft+model"
    assert client.get(url).json() == []  # not indexed yet (the worker has not run)

    before = index_generation()
    index_papers([paper.pk for paper in made])

    assert index_generation() > before
    assert [hit["paper"]["id"] for hit in client.get(url).json()][0] == made[1].arxiv_id


def test_unchanged_text_is_never_embedded_again(make_paper, encoded):
    paper = make_paper(title=TOPICS[0], abstract="We prune heads and layers.")
    index_papers([paper.pk])
    first = PaperEmbedding.objects.get(paper=paper).pk

    index_papers([paper.pk])  # e.g. a re-announced paper, or a task queued twice
    assert PaperEmbedding.objects.get(paper=paper).pk == first
    assert len(encoded) == 1

    Paper.objects.filter(pk=paper.pk).update(abstract="We prune heads, layers and experts.")
    index_papers([paper.pk])
    assert PaperEmbedding.objects.get(paper=paper).pk > first
    assert len(encoded) == 2


def test_reindex_supersedes_index_work_queued_before_it(make_paper, encoded):
    made = [make_paper(title=title, abstract=f"{title}. We study it.") for title in TOPICS]
    ids = [paper.pk for paper in made]
    queued_epoch = start_reindex()  # the epoch a task would carry when ingest queued it

    call_command("search", "reindex", stdout=io.StringIO(), stderr=io.StringIO())
    assert len(encoded) == len(TOPICS)
    assert index_papers_task.call(ids, queued_epoch) == 0  # the queued task, run afterwards

    assert len(encoded) == len(TOPICS)  # no paper embedded twice
    assert PaperEmbedding.objects.count() == len(TOPICS)


@pytest.mark.django_db(transaction=True)  # the refresher thread reads what was committed
def test_a_search_leaves_a_big_backlog_to_the_refresher(make_paper, monkeypatch):
    monkeypatch.setattr(vectors, "SYNC_ROWS", 2)
    embedder = embedders.get_embedder()
    first = make_paper(title=TOPICS[0], abstract="We prune heads and layers.")
    index_papers([first.pk])
    store = vectors.get_store(embedder.contract, embedder.dims)
    refreshed = threading.Event()
    refresh = store.refresh
    monkeypatch.setattr(store, "refresh", lambda: (refresh(), refreshed.set()))

    made = [make_paper(title=title, abstract=f"{title}. We study it.") for title in TOPICS[1:]]
    index_papers([paper.pk for paper in made])  # five new vectors: more than SYNC_ROWS
    query = embedder.encode([TOPICS[3]])[0]
    labels, _ = store.search(query, 3)

    assert list(labels) == [first.pk]  # answered at once from the view it had
    assert refreshed.wait(10), "the refresher did not run"
    labels, _ = store.search(query, 3)
    assert labels[0] == made[2].pk


@pytest.mark.django_db(transaction=True)  # the refresher thread reads what was committed
def test_a_published_graph_is_picked_up_without_a_request_building_one(make_paper, monkeypatch):
    monkeypatch.setattr(vectors, "HNSW_THRESHOLD", 3)
    monkeypatch.setattr(vectors, "PUBLISH_EVERY", 2)
    monkeypatch.setattr(vectors, "SYNC_ROWS", 0)  # every new vector is the refresher's
    embedder = embedders.get_embedder()
    built_in = []
    add = vectors.HnswIndex.add
    monkeypatch.setattr(
        vectors.HnswIndex, "add",
        lambda self, *a, **k: (built_in.append(threading.current_thread()), add(self, *a, **k)),
    )  # fmt: skip
    made = [make_paper(title=title, abstract=f"{title}. We study it.") for title in TOPICS[:3]]
    index_papers([paper.pk for paper in made])  # an indexer: publishes the first graph
    first_graph = vectors.read_pointer(embedder.contract)["file"]
    store = vectors.get_store(embedder.contract, embedder.dims)
    assert store.view.graph_file == first_graph

    more = [make_paper(title=title, abstract=f"{title}. We study it.") for title in TOPICS[3:]]
    index_papers([paper.pk for paper in more])  # publishes the next graph
    built_in.clear()
    query = embedder.encode([TOPICS[4]])[0]
    store.search(query, 1)  # notices the new graph; loads it in the background
    deadline = time.monotonic() + 10
    while store.view.graph_file == first_graph and time.monotonic() < deadline:
        time.sleep(0.05)

    assert store.view.graph_file != first_graph
    assert store.search(query, 1)[0][0] == more[1].pk
    assert not built_in  # nobody added to a graph while serving: the graph was loaded
    assert len(list(vectors.search_dir().glob("vectors-*.hnsw"))) <= 2  # old graphs removed


def test_the_view_prefers_the_newer_vector_of_a_paper_in_graph_and_tail(make_paper, monkeypatch):
    monkeypatch.setattr(vectors, "HNSW_THRESHOLD", 3)
    embedder = embedders.get_embedder()
    made = [make_paper(title=title, abstract=f"{title}. We study it.") for title in TOPICS]
    index_papers([paper.pk for paper in made])
    store = vectors.get_store(embedder.contract, embedder.dims)
    assert store.view.graph is not None

    # The pruning paper becomes a paper about video: its new vector is in the tail only.
    Paper.objects.filter(pk=made[0].pk).update(
        title="Video generation", abstract="Text-to-video generation with diffusion."
    )
    index_papers([made[0].pk])
    labels, scores = store.search(embedder.encode([TOPICS[0]])[0], len(TOPICS))

    assert list(labels).count(made[0].pk) == 1
    stored = np.frombuffer(bytes(PaperEmbedding.objects.get(paper=made[0]).vector), np.float32)
    query = embedder.encode([TOPICS[0]])[0]
    assert scores[list(labels).index(made[0].pk)] == pytest.approx(float(stored @ query), abs=1e-5)


def _count_after_commit(queue):
    """In a forked child: the index's document count once another process committed."""
    from dailypapers.search import keyword

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and keyword.get_index().count() < 1:
        time.sleep(0.1)
    queue.put(keyword.get_index().count())


def _count(queue):
    from dailypapers.search import keyword

    queue.put(keyword.get_index().count())


@contextmanager
def forked(target):
    """A forked child running target(queue); killed after 30 s whatever happens, so that
    a child stuck in tantivy fails the test instead of hanging it (a stuck child holds
    tantivy's lock, and the parent's next commit would wait on it in native code, where
    pytest-timeout cannot interrupt it)."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=target, args=(queue,), daemon=True)
    child.start()
    watchdog = threading.Timer(30, child.kill)
    watchdog.start()
    try:
        yield queue
    finally:
        watchdog.cancel()
        child.kill()
        child.join(10)


def test_a_forked_server_worker_sees_commits_made_after_the_fork(tantivy_engine, make_paper):
    """granian and gunicorn fork their workers from a parent that opened the index; the
    reader's reload thread does not survive a fork, so each worker opens its own."""
    from dailypapers.search import keyword

    assert keyword.get_index().count() == 0  # the parent has the index open
    with forked(_count_after_commit) as queue:
        paper = make_paper(title=TOPICS[0])
        keyword.get_index().write(add=[keyword.paper_document(paper, featured=False)])
        assert queue.get(timeout=20) == 1


def test_a_worker_forked_while_tantivy_held_its_lock_opens_the_index(tantivy_engine, make_paper):
    """flock() locks belong to the open file: a child forked while a thread of the parent
    held tantivy's meta lock (its reader reloading) inherits the lock, and without closing
    it the child's own open of the index waits forever."""
    from dailypapers.search import keyword

    index = keyword.get_index()
    index.write(add=[keyword.paper_document(make_paper(title=TOPICS[0]), featured=False)])
    with open(index.path / ".tantivy-meta.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # as tantivy's reload thread holds it
        with forked(_count) as queue:
            lock.close()  # the parent's thread is done with it
            assert queue.get(timeout=20) == 1
