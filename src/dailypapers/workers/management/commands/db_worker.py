"""`dailypapers db_worker`: django-tasks-db's worker, with a heartbeat (see the package's
docstring), that outlives a database outage (workers/outage.py). Same options; it replaces
django_tasks_db's command because our app comes first in INSTALLED_APPS."""

import logging
import threading
import time
from unittest import mock

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone
from django_tasks_db.management.commands import db_worker

from dailypapers.workers.outage import OUTAGE_ERRORS, database_down, reason
from dailypapers.workers.services import (
    task_release,
    tasks_requeue_orphaned,
    worker_beat,
    worker_forget,
)

log = logging.getLogger(__name__)

# Waits between attempts to reach the database again: 1, 2, 4, ... seconds, at most this.
OUTAGE_MAX_WAIT = 30.0


class Heart(threading.Thread):
    """Beats every TASK_WORKER_BEAT seconds and puts dead workers' tasks back.

    It reaps only after its own beats have succeeded for TASK_ORPHAN_AFTER seconds: after
    a database outage every worker's beat is old, and the living must get the time to
    beat again before anyone is taken for dead.
    """

    def __init__(self, worker_id):
        super().__init__(name="worker-heartbeat", daemon=True)
        self.worker_id = worker_id
        self.started_at = timezone.now()
        self.stopping = threading.Event()
        self.healthy_since = None
        self.failing = False

    def beat(self):
        try:
            worker_beat(worker_id=self.worker_id, started_at=self.started_at)
            self.healthy_since = self.healthy_since or time.monotonic()
            self.failing = False
            if time.monotonic() - self.healthy_since >= settings.TASK_ORPHAN_AFTER:
                tasks_requeue_orphaned()
        except Exception as exc:  # the database is away: try again at the next beat
            if not self.failing:  # one line an outage, not one a beat
                log.warning("worker %s: heartbeat failed: %s", self.worker_id, reason(exc))
            self.failing = True
            self.healthy_since = None
            connection.close()

    def run(self):
        while not self.stopping.wait(settings.TASK_WORKER_BEAT):
            close_old_connections()
            self.beat()
        connection.close()

    def stop(self):
        self.stopping.set()
        self.join(timeout=5)
        try:
            worker_forget(worker_id=self.worker_id)
        except Exception as exc:  # its beat simply grows old
            log.warning(
                "worker %s: could not remove its heartbeat: %s", self.worker_id, reason(exc)
            )


class Worker(db_worker.Worker):
    """django-tasks-db's loop, which ends at the first database error other than "locked":
    here an outage is waited out. The task a worker held when the database went away
    (its result could not be written) goes back to the queue once the database is back:
    our tasks are idempotent, and a running task nobody runs would be lost."""

    held = None  # the task being run, until its result is written

    def run_task(self, db_task_result):
        self.held = db_task_result
        super().run_task(db_task_result)
        self.held = None

    def run(self):
        while True:
            try:
                return super().run()
            except OUTAGE_ERRORS as exc:
                if not database_down(exc):
                    raise
                self.wait_for_database(exc)

    def wait_for_database(self, exc):
        log.warning(
            "worker %s: the database is unavailable (%s); waiting for it",
            self.worker_id, reason(exc),
        )  # fmt: skip
        down_since = time.monotonic()
        wait = 1.0
        while True:
            time.sleep(wait)  # SIGTERM/Ctrl-C here ends the worker (nothing is running)
            wait = min(wait * 2, OUTAGE_MAX_WAIT)
            close_old_connections()  # drops the dead connection: the next query reconnects
            try:
                self.release_held()
            except OUTAGE_ERRORS:
                continue
            log.warning(
                "worker %s: the database is back after %d s; going on",
                self.worker_id, time.monotonic() - down_since,
            )  # fmt: skip
            return

    def release_held(self):
        """Back to the queue, the task whose result could not be written (if nobody else
        took it meanwhile). Without one, only checks that the database answers."""
        if self.held is None:
            connection.ensure_connection()
            return
        if task_release(self.held):
            log.warning(
                "worker %s: task %s (%s) was cut off by the outage; queued again",
                self.worker_id, self.held.pk, self.held.task_path,
            )  # fmt: skip
        self.held = None


class Command(db_worker.Command):
    help = (
        "Run a task worker on the database queue; it beats every few seconds, the running "
        "tasks of workers that stopped beating are queued again, and it waits out a "
        "database outage."
    )

    def handle(self, *args, **options):
        heart = Heart(options["worker_id"])
        heart.beat()  # at once: a worker that just started is alive
        heart.start()
        try:
            # django-tasks-db's handle() (options, logging, reloader) with our loop.
            with mock.patch.object(db_worker, "Worker", Worker):
                super().handle(*args, **options)
        finally:
            heart.stop()
