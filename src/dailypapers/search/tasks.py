"""Background indexing. Small batches are indexed at once (after commit); big ones queued."""

import contextlib
import logging
import threading

from crontask import cron
from django.db import transaction
from django.tasks import task

log = logging.getLogger(__name__)

INLINE_UP_TO = 20  # papers: one admin save or submission is indexed before the reply
_collecting = threading.local()


@task
def index_papers_task(paper_ids, epoch=None):
    """`epoch`: the reindex epoch when queued; a `search reindex` since then supersedes it."""
    from .services import Superseded, index_papers

    try:
        indexed = index_papers(paper_ids, epoch=epoch)
    except Superseded:
        log.info("indexing of %d papers superseded by a reindex", len(paper_ids))
        return 0
    _learn_statistics_if_none()  # a first load (the demo's sample)
    return indexed


@task
def index_keywords_task(paper_ids, epoch=None, outdated_only=False):
    """The keyword index only (embeddings are kept): after its format changed.

    outdated_only: only the papers whose documents are still of an older format (the
    PostgreSQL engine: rewrite_outdated_keyword_documents), so that a batch queued twice
    costs one query the second time; after the last one, the word counts are recounted
    (the new format has new words)."""
    from . import keyword
    from .services import Superseded, index_papers

    engine = keyword.get_index()
    if outdated_only and not (paper_ids := engine.outdated(paper_ids)):
        return 0
    try:
        with engine.bulk():  # one commit for the lot
            indexed = index_papers(paper_ids, embed=False, epoch=epoch)
    except Superseded:
        return 0
    keyword.finish_building()  # a new format's index, once full, answers searches
    if outdated_only and not engine.outdated(limit=1):
        engine.refresh_statistics()
    _learn_statistics_if_none()  # an install from before acronyms were learnt
    return indexed


def _learn_statistics_if_none():
    """Learn the acronyms, and the PostgreSQL engine's word counts, now rather than at the
    nightly refresh, when there are none (or the papers grew much since the count)."""
    from . import keyword
    from .acronyms import refresh
    from .models import Acronym

    if not Acronym.objects.exists():
        refresh()
    engine = keyword.get_index()
    if engine.statistics_are_stale():
        engine.refresh_statistics()


def fill_empty_keyword_index(chunk=50_000):
    """Queue every visible paper for the keyword index when it lacks papers that are not
    waiting to be indexed anyway (UnindexedPaper).

    A release that changes the index format (keyword.SCHEMA_VERSION) starts from an empty
    index (searches read the older one meanwhile, when they can: keyword.serving_index);
    `serve` calls this so that search fills in by itself, without a manual
    `search reindex`. A refill stopped half-way (the site restarted while the worker
    indexed a chunk) leaves an index that is not empty but short: it is queued again, or
    the papers of the lost chunk would stay out of keyword search. Returns the number of
    papers queued."""
    from dailypapers.papers.models import Paper

    from . import keyword
    from .services import reindex_epoch, unindexed_count

    index = keyword.get_index()
    if getattr(index, "follows_database", False):
        return 0  # a following index fills itself from the database (search/follow.py)
    ids = list(Paper.objects.visible().order_by("pk").values_list("pk", flat=True))
    if index.count() + unindexed_count() >= len(ids):
        keyword.finish_building()  # full, though its last chunk did not say so (a restart)
        return 0
    epoch = reindex_epoch()
    for start in range(0, len(ids), chunk):
        index_keywords_task.enqueue(ids[start : start + chunk], epoch)
    return len(ids)


@task
def catch_up_task(epoch=None):
    """Index the papers written but not indexed (services.catch_up)."""
    from .services import Superseded, catch_up

    try:
        return catch_up(epoch=epoch)
    except Superseded:
        return 0


def queue_catch_up():
    """Queue the indexing of papers written but not indexed, if any (`serve` at start-up);
    returns how many papers wait."""
    from .services import mark_never_embedded, reindex_epoch, unindexed_count

    mark_never_embedded()
    waiting = unindexed_count()
    if waiting:
        catch_up_task.enqueue(reindex_epoch())
    return waiting


def rewrite_outdated_keyword_documents(chunk=50_000):
    """Queue the papers whose keyword documents are of an older format for the worker.

    The PostgreSQL engine's documents carry their format (pg.FORMAT): a release that
    changes what they hold raises it, and `serve` calls this, so that the documents are
    rewritten in the background while search goes on with the old ones. Returns the
    number of papers queued (none with the tantivy engine, whose new format is a new
    index: fill_empty_keyword_index)."""
    from . import keyword
    from .services import reindex_epoch

    ids = keyword.get_index().outdated()
    epoch = reindex_epoch()
    for start in range(0, len(ids), chunk):
        index_keywords_task.enqueue(ids[start : start + chunk], epoch, True)
    return len(ids)


@cron("15 4 * * *")  # nightly, after the evening's ingest has been indexed
@task
def refresh_search_statistics():
    """Index what was written but not indexed; recount the acronyms that papers define
    (search/acronyms.py) and the PostgreSQL engine's document frequencies of words; prune
    the keyword change log."""
    from . import follow, keyword
    from .acronyms import refresh
    from .services import Superseded, catch_up, reindex_epoch

    try:
        catch_up(epoch=reindex_epoch())
    except Superseded:
        pass  # a `search reindex` started: it indexes every paper
    keyword.get_index().refresh_statistics()
    follow.prune()  # the change log that tantivy-follow indexes read
    return refresh()


def refresh_stale_statistics():
    """Queue a recount when the keyword engine's word counts are missing or old (after an
    upgrade to the PostgreSQL engine that keeps them): `serve` calls this. True if queued."""
    from . import keyword

    if not keyword.get_index().statistics_are_stale():
        return False
    refresh_search_statistics.enqueue()
    return True


def index_papers_later(paper_ids):
    """Index these papers once the current transaction commits (ingest may call this).

    They are marked as not indexed first (services.mark_unindexed), so that an indexing
    that never happens or dies half-way (a killed ingest, a lost worker, a database outage)
    is caught up later (services.catch_up) rather than leaving papers search never finds."""
    from .services import mark_unindexed

    paper_ids = sorted({int(pk) for pk in paper_ids})
    mark_unindexed(paper_ids)
    collected = getattr(_collecting, "ids", None)
    if collected is not None:
        collected.update(paper_ids)
    elif paper_ids:
        transaction.on_commit(lambda: _run(paper_ids))


@contextlib.contextmanager
def collect_indexing():
    """Within the block, papers to index are gathered in the yielded set instead of being
    queued: the caller indexes them itself (`dailypapers ingest`, with a progress bar)."""
    _collecting.ids = collected = set()
    try:
        yield collected
    finally:
        del _collecting.ids


def queue_indexing(paper_ids):
    """Hand these papers to the task worker (in batches), as ingest did before."""
    from .services import reindex_epoch

    paper_ids, epoch = sorted(paper_ids), reindex_epoch()
    for start in range(0, len(paper_ids), 20_000):
        index_papers_task.enqueue(paper_ids[start : start + 20_000], epoch)


def _run(paper_ids):
    from .services import index_papers, reindex_epoch

    if len(paper_ids) > INLINE_UP_TO:
        try:
            index_papers_task.enqueue(paper_ids, reindex_epoch())
            return
        except Exception as exc:  # no queue: index here rather than lose the update
            log.warning("could not queue indexing of %d papers: %s", len(paper_ids), exc)
    try:
        index_papers(paper_ids, publish=False)  # maybe in a request: publishing is for workers
    except Exception:
        # Never fail the write that triggered this; `dailypapers search reindex` repairs.
        log.exception("indexing papers %s failed", paper_ids[:10])
