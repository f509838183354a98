"""Heartbeats of task workers, and the tasks of dead workers put back in the queue."""

import datetime as dt
import logging
import os
import socket

from django.conf import settings
from django.db import transaction
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from dailypapers.plural import counted

from .models import WorkerBeat

log = logging.getLogger(__name__)


def worker_beat(*, worker_id, started_at):
    WorkerBeat.objects.update_or_create(
        worker_id=worker_id,
        defaults={
            "host": socket.gethostname()[:255],
            "pid": os.getpid(),
            "started_at": started_at,
            "beat_at": timezone.now(),
        },  # fmt: skip
    )


def worker_forget(*, worker_id):
    WorkerBeat.objects.filter(worker_id=worker_id).delete()


def tasks_requeue_orphaned(*, now=None):
    """Running tasks whose worker stopped beating: back to the queue, or failed after
    TASK_MAX_ATTEMPTS workers died on them. Returns (requeued, failed)."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(seconds=settings.TASK_ORPHAN_AFTER)
    alive = set(WorkerBeat.objects.filter(beat_at__gte=cutoff).values_list("worker_id", flat=True))
    requeued = failed = 0
    running = DBTaskResult.objects.running().filter(started_at__lt=cutoff)
    for task in running.only("id", "worker_ids", "started_at", "task_path"):
        if task.worker_ids and task.worker_ids[-1] in alive:
            continue
        # Only if nobody claimed it again meanwhile (started_at moves at every claim).
        same_claim = DBTaskResult.objects.filter(
            pk=task.pk, status=TaskResultStatus.RUNNING, started_at=task.started_at
        )
        with transaction.atomic():
            if len(task.worker_ids) >= settings.TASK_MAX_ATTEMPTS:
                failed += same_claim.update(
                    status=TaskResultStatus.FAILED,
                    finished_at=now,
                    exception_class_path="dailypapers.workers.WorkerDied",
                    traceback=f"{counted(len(task.worker_ids), 'worker')} died running this task "
                    f"(TASK_MAX_ATTEMPTS = {settings.TASK_MAX_ATTEMPTS}): {task.worker_ids}",
                )
                log.error("task %s (%s): its workers died %s; marked failed",
                          task.pk, task.task_path,
                          counted(len(task.worker_ids), "time"))  # fmt: skip
            elif same_claim.update(status=TaskResultStatus.READY, started_at=None):
                requeued += 1
                log.warning("task %s (%s): worker %s stopped beating; queued again",
                            task.pk, task.task_path, task.worker_ids[-1:])  # fmt: skip
    return requeued, failed


def task_release(task):
    """Back to the queue, a task its worker claimed but could not finish (the database
    went away under it), unless someone claimed it again meanwhile (started_at moves at
    every claim). Returns whether it went back."""
    same_claim = DBTaskResult.objects.filter(
        pk=task.pk, status=TaskResultStatus.RUNNING, started_at=task.started_at
    )
    return bool(same_claim.update(status=TaskResultStatus.READY, started_at=None))
