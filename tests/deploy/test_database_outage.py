"""PostgreSQL restarted under a running task worker and scheduler (a throwaway cluster,
really stopped and started): both live on and take up their work again, with a line in
the log, never a traceback; a task cut off by the restart runs again."""

import os
import subprocess
import sys
import tempfile
import time

import psycopg
import pytest

from tests.conftest import REPO

from .servers import PostgresCluster, site_env, stop

pytestmark = [
    pytest.mark.slow,  # ~1 min each: a PostgreSQL cluster of its own, restarted
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="a database outage is a server's (PostgreSQL) restart: these run in the "
        "PostgreSQL pass (DATABASE_URL=postgres://...), on a throwaway cluster",
    ),
]

ENQUEUE = """
import sys
import django
django.setup()
from tests.deploy import outage_tasks
name, *args = sys.argv[1:]
task = getattr(outage_tasks, name)
print(task.enqueue(*[int(a) if a.isdigit() else a for a in args]).id)
"""

# The scheduler with one job of our own, every second, beside the project's (crontask's
# jobs are at least a minute apart).
SCHEDULER = """
import django
django.setup()
from apscheduler.triggers.interval import IntervalTrigger
from crontask import scheduler
from django.core.management import call_command
from tests.deploy.outage_tasks import note
scheduler.add_job(note.enqueue, IntervalTrigger(seconds=1), args=["tick"], name="tick")
call_command("crontask", "--no-task-loading")
"""


class Process:
    """A dailypapers process whose output goes to a file (a pipe nobody reads blocks it)."""

    def __init__(self, args, env):
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [sys.executable, *args], env=env, cwd=REPO, stdout=self.log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip

    def alive(self):
        return self.process.poll() is None

    def output(self):
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def stop(self):
        stop(self.process)
        self.log.close()


@pytest.fixture
def cluster_site(tmp_path):
    cluster = PostgresCluster()
    cluster.init().start()
    env = site_env(
        tmp_path / "data",
        DATABASE_URL=cluster.url,
        DAILYPAPERS_LOG_LEVEL="INFO",
        PYTHONPATH=os.pathsep.join([str(REPO / "src"), str(REPO)]),
    )
    done = subprocess.run([sys.executable, "-m", "dailypapers", "migrate", "-v0"], env=env,
                          cwd=REPO, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    try:
        yield cluster, env
    finally:
        cluster.remove()


def enqueue(env, *args):
    done = subprocess.run([sys.executable, "-c", ENQUEUE, *args], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.split()[-1]


def query(cluster, sql, *params):
    with psycopg.connect(cluster.url, connect_timeout=5) as db:
        return db.execute(sql, params).fetchall()


def status(cluster, task_id):
    rows = query(cluster, "SELECT status FROM django_tasks_database_dbtaskresult WHERE id = %s",
                 task_id)  # fmt: skip
    return rows[0][0]


def wait_until(condition, what, timeout=90, process=None):
    deadline = time.monotonic() + timeout
    while not condition():
        if process is not None and not process.alive():
            pytest.fail(f"the process ended while waiting: {what}\n{process.output()[-3000:]}")
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        time.sleep(0.2)


def restart(cluster, down_for):
    cluster.stop("fast")  # open connections are cut off, as `systemctl restart postgresql`
    time.sleep(down_for)
    cluster.start()


def test_a_task_worker_waits_out_a_restart_and_runs_the_task_it_held_again(cluster_site):
    cluster, env = cluster_site
    worker = Process(["-m", "dailypapers", "db_worker", "--queue-name", "*", "--no-reload",
                      "--no-startup-delay", "--interval", "0.2"], env)  # fmt: skip
    try:
        first = enqueue(env, "note", "before")
        wait_until(lambda: status(cluster, first) == "SUCCESSFUL", "a task ran", process=worker)

        # Idle through an outage of a few seconds (it polls the queue meanwhile).
        restart(cluster, down_for=4)
        after = enqueue(env, "note", "after")
        wait_until(lambda: status(cluster, after) == "SUCCESSFUL", "a task ran after the restart",
                   process=worker)  # fmt: skip

        # Running a task when the database restarts: its result cannot be written; the task
        # goes back to the queue and runs again.
        held = enqueue(env, "slow_note", "held", "4")
        wait_until(lambda: status(cluster, held) == "RUNNING", "the slow task started",
                   process=worker)  # fmt: skip
        restart(cluster, down_for=1)
        wait_until(lambda: status(cluster, held) == "SUCCESSFUL", "the cut-off task ran again",
                   process=worker)  # fmt: skip
        claims = query(cluster, "SELECT worker_ids FROM django_tasks_database_dbtaskresult "
                       "WHERE id = %s", held)[0][0]  # fmt: skip
        assert len(claims) == 2  # claimed, cut off, queued again, claimed again
        assert worker.alive()
    finally:
        output = worker.output()
        worker.stop()
    assert "Traceback" not in output, output[-3000:]
    assert "the database is unavailable" in output
    assert "was cut off by the outage; queued again" in output
    assert output.count("the database is back after") == 2, output[-3000:]


def test_the_scheduler_reconnects_after_a_restart(cluster_site):
    cluster, env = cluster_site

    def ticks():
        return query(cluster, "SELECT count(*) FROM django_tasks_database_dbtaskresult "
                     "WHERE task_path LIKE %s", "%outage_tasks.note")[0][0]  # fmt: skip

    def failures():
        output = scheduler.output()
        return output.count("raised an exception") + output.count("database is unavailable")

    scheduler = Process(["-c", SCHEDULER], env)
    try:
        wait_until(lambda: ticks() >= 2, "the scheduler queued its job", process=scheduler)
        cluster.stop("fast")
        time.sleep(4)  # a few runs fail meanwhile
        cluster.start()
        time.sleep(2)  # a run that began while the database was starting up may fail
        failed, queued = failures(), ticks()
        time.sleep(6)
        # Every run since succeeded (a thread that kept its dead connection fails forever).
        assert failures() == failed, scheduler.output()[-3000:]
        assert ticks() >= queued + 4
        assert scheduler.alive()
    finally:
        output = scheduler.output()
        scheduler.stop()
    assert "Traceback" not in output, output[-3000:]
    failed = [line for line in output.splitlines() if "the database is unavailable" in line]
    assert failed and "tick not queued" in failed[0], output[-3000:]  # one line a failed run
