"""How complete the keyword index is, for `dailypapers search status`.

After an upgrade the keyword index may be refilling (a new tantivy format starts empty) or
rewriting its documents (a new PostgreSQL document format), in the background, chunk by
chunk: an operator asks whether keyword search finds every paper yet, and how long until
it does. The figures come from the index, the papers and the database task queue.
"""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from dailypapers.papers.models import Paper

from . import keyword
from .services import unindexed_count

INDEX_TASK = "dailypapers.search.tasks.index_keywords_task"  # refills and rewrites
SAME_RUN = dt.timedelta(minutes=5)  # chunks enqueued this close together are one run


@dataclass
class QueuedWork:
    """The keyword index work (index_keywords_task) queued or running in the database queue."""

    chunks: int  # queued or running
    running: int
    papers: int  # in those chunks
    running_since: dt.datetime | None  # when the first running chunk started
    done: int  # chunks of the same run finished
    seconds_left: float | None  # at the pace of the chunks done; None before one is done


@dataclass
class KeywordStatus:
    engine: str  # "tantivy", "tantivy-follow" or "PostgreSQL full-text"
    documents: int
    visible: int
    waiting: int  # papers written but not indexed (catch-up)
    outdated: int  # PostgreSQL documents of an older format (pg.FORMAT)
    work: QueuedWork | None  # None: nothing queued, or tasks not in the database queue
    queue_visible: bool  # the tasks run from the database queue, so `work` can be known
    serving: str | None = None  # the older index searches read while this one is built
    serving_documents: int = 0

    @property
    def short(self):
        """Fewer documents than visible papers, the papers waiting aside: a refill is due
        or running (tasks.fill_empty_keyword_index's test)."""
        return self.documents + self.waiting < self.visible


def keyword_status():
    index = keyword.get_index()
    if getattr(index, "follows_database", False):
        engine = "tantivy-follow"
    elif isinstance(index, keyword.KeywordIndex):
        engine = "tantivy"
    else:
        engine = "PostgreSQL full-text"
    queue_visible = _database_queue()
    older = keyword.building_from(index) if type(index) is keyword.KeywordIndex else None
    return KeywordStatus(
        serving=older.path.name if older else None,
        serving_documents=older.count() if older else 0,
        engine=engine,
        documents=index.count(),
        visible=Paper.objects.visible().count(),
        waiting=unindexed_count(),
        outdated=index.count_outdated(),
        work=_queued_work() if queue_visible else None,
        queue_visible=queue_visible,
    )


def _database_queue():
    backend = settings.TASKS.get("default", {}).get("BACKEND", "")
    return backend.startswith("django_tasks_db.")


def _queued_work():
    from django.tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    rows = DBTaskResult.objects.filter(task_path=INDEX_TASK)
    pending = list(
        rows.filter(status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING]).values_list(
            "status", "enqueued_at", "started_at", "args_kwargs"
        )
    )
    if not pending:
        return None
    running = [started for status, _, started, _ in pending if status == TaskResultStatus.RUNNING]
    since = min(enqueued for _, enqueued, _, _ in pending) - SAME_RUN
    done = list(
        rows.filter(
            status=TaskResultStatus.SUCCESSFUL, enqueued_at__gte=since, started_at__isnull=False
        ).values_list("started_at", "finished_at", "args_kwargs")
    )
    papers = sum(_papers(args) for *_, args in pending)
    running_since = min((s for s in running if s), default=None)
    return QueuedWork(
        chunks=len(pending),
        running=len(running),
        papers=papers,
        running_since=running_since,
        done=len(done),
        seconds_left=_seconds_left(done, papers, running_since),
    )


def _papers(args_kwargs):
    args = args_kwargs.get("args") or [args_kwargs.get("kwargs", {}).get("paper_ids", [])]
    return len(args[0])


def _seconds_left(done, papers, running_since):
    """The papers left at the pace of the chunks done (one worker's pace: several workers
    finish sooner), less what the running chunk has been at. None before a chunk is done."""
    seconds = sum((finished - started).total_seconds() for started, finished, _ in done)
    paced = sum(_papers(args) for *_, args in done)
    if not paced:
        return None
    elapsed = (timezone.now() - running_since).total_seconds() if running_since else 0.0
    return max(0.0, papers * seconds / paced - elapsed)
