"""`dailypapers db_worker`: django-tasks-db's worker, with a heartbeat (see the package's
docstring). Same options; it replaces django_tasks_db's command because our app comes
first in INSTALLED_APPS."""

import logging
import threading
import time

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Command as DatabaseWorkerCommand

from dailypapers.workers.services import tasks_requeue_orphaned, worker_beat, worker_forget

log = logging.getLogger(__name__)


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

    def beat(self):
        try:
            worker_beat(worker_id=self.worker_id, started_at=self.started_at)
            self.healthy_since = self.healthy_since or time.monotonic()
            if time.monotonic() - self.healthy_since >= settings.TASK_ORPHAN_AFTER:
                tasks_requeue_orphaned()
        except Exception as exc:  # the database is away: try again at the next beat
            log.warning("worker %s: heartbeat failed: %s", self.worker_id, exc)
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
            log.warning("worker %s: could not remove its heartbeat: %s", self.worker_id, exc)


class Command(DatabaseWorkerCommand):
    help = (
        "Run a task worker on the database queue; it beats every few seconds, and the "
        "running tasks of workers that stopped beating are queued again."
    )

    def handle(self, *args, **options):
        heart = Heart(options["worker_id"])
        heart.beat()  # at once: a worker that just started is alive
        heart.start()
        try:
            super().handle(*args, **options)
        finally:
            heart.stop()
