"""`dailypapers crontask`: crontask's scheduler, whose jobs outlive a database outage.

Each job (queueing a scheduled task) runs in one of the scheduler's threads, each with its
own database connection, and nothing there ever drops a dead one: after PostgreSQL
restarted, every job failed on "the connection is closed" until the scheduler itself was
restarted. Here a job first drops its thread's unusable connection (as Django does at each
request), and a job that fails because the database is away is one line in the log; it
runs again at its next time. crontask's heartbeat (a task queued every minute, whose
worker prints a line) is not scheduled: `--no-heartbeat` is kept for compatibility.
"""

import functools
import logging

from crontask.management.commands import crontask
from django.db import close_old_connections

from dailypapers.workers.outage import database_down, reason

log = logging.getLogger(__name__)


def outlasting_outages(job, name):
    @functools.wraps(job)
    def run(*args, **kwargs):
        close_old_connections()
        try:
            return job(*args, **kwargs)
        except Exception as exc:
            if not database_down(exc):
                raise  # a bug: the scheduler logs it with its traceback
            log.warning(
                "scheduler: %s not queued, the database is unavailable (%s); it runs at its "
                "next time",
                name, reason(exc),
            )  # fmt: skip
            close_old_connections()

    return run


class Command(crontask.Command):
    help = (
        "Run the scheduler: it queues the scheduled tasks (ingest, digests, nightly jobs) "
        "for the task workers, and waits out a database outage."
    )

    def handle(self, *args, **options):
        options["no_heartbeat"] = True
        super().handle(*args, **options)

    def launch_scheduler(self, lock, scheduler):
        for job in scheduler.get_jobs():  # not started yet: the jobs the tasks declared
            scheduler.modify_job(job.id, func=outlasting_outages(job.func, job.name))
        super().launch_scheduler(lock, scheduler)
