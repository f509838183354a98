"""A task worker killed in the middle of a task (SIGKILL: no goodbye): another worker
notices that it stopped beating, runs the task again, and nothing is done twice. The
process test kills a real `dailypapers db_worker` halfway through the digest run."""

import datetime as dt
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter

import pytest
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from dailypapers.workers.models import WorkerBeat
from dailypapers.workers.services import tasks_requeue_orphaned
from tests.conftest import REPO, SAMPLE_DATA
from tests.digests.conftest import smtp  # noqa: F401 (a fixture)

from .servers import site_env

NOW = timezone.now()


def running_task(worker_ids, started_seconds_ago=120):
    from dailypapers.digests.tasks import send_digests

    result = send_digests.enqueue()
    task = DBTaskResult.objects.get(pk=result.id)
    DBTaskResult.objects.filter(pk=task.pk).update(
        status=TaskResultStatus.RUNNING,
        worker_ids=worker_ids,
        started_at=NOW - dt.timedelta(seconds=started_seconds_ago),
    )
    return task.pk


def beat(worker_id, seconds_ago):
    when = NOW - dt.timedelta(seconds=seconds_ago)
    WorkerBeat.objects.create(worker_id=worker_id, host="h", pid=1, started_at=when, beat_at=when)


def status(pk):
    return DBTaskResult.objects.get(pk=pk).status


@pytest.fixture
def database_queue(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.TASK_ORPHAN_AFTER = 60
    settings.TASK_MAX_ATTEMPTS = 3


@pytest.mark.django_db
def test_the_task_of_a_worker_that_stopped_beating_is_queued_again(database_queue):
    beat("dead", seconds_ago=90)
    beat("alive", seconds_ago=5)
    orphan = running_task(["dead"])
    never_beat = running_task(["gone-before-beating"])
    busy = running_task(["alive"])
    just_claimed = running_task(["dead"], started_seconds_ago=10)

    assert tasks_requeue_orphaned(now=NOW) == (2, 0)
    assert status(orphan) == status(never_beat) == TaskResultStatus.READY
    assert DBTaskResult.objects.get(pk=orphan).started_at is None
    assert status(busy) == status(just_claimed) == TaskResultStatus.RUNNING


@pytest.mark.django_db
def test_a_task_that_killed_its_workers_too_often_is_marked_failed(database_queue):
    poison = running_task(["w1", "w2", "w3"])
    assert tasks_requeue_orphaned(now=NOW) == (0, 1)
    task = DBTaskResult.objects.get(pk=poison)
    assert task.status == TaskResultStatus.FAILED
    assert "3 workers died" in task.traceback


SEED = r"""
import datetime as dt, json, sys
import django
django.setup()
from django.core.management import call_command
from django.utils import timezone
call_command("migrate", verbosity=0)
from dailypapers.papers.models import DailyEntry, Paper
from dailypapers.papers.services import paper_feature
from dailypapers.digests.models import Subscription
from dailypapers.digests.tasks import send_digests
today = timezone.localdate()
for item in json.load(open(sys.argv[1])):
    data = item["paper"]
    paper = Paper.objects.create(
        arxiv_id=data["id"], title=data["title"], abstract=data.get("summary", ""),
        authors=[{"name": a["name"]} for a in data["authors"]],
        published_at=timezone.now() - dt.timedelta(days=1),
        imported_upvotes=data.get("upvotes", 0),
    )
    paper_feature(paper=paper, day=today, source=DailyEntry.Source.IMPORT)
for n in range(int(sys.argv[2])):
    Subscription.objects.create(email=f"s{n:02d}@example.org", status="active")
from django_tasks_db.models import DBTaskResult
DBTaskResult.objects.all().delete()  # search indexing queued by the saves: not this test's
print(send_digests.enqueue().id)
"""

SUBSCRIBERS = 24


def worker(env):
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dailypapers",
            "db_worker",
            "--queue-name",
            "*",
            "--no-reload",
            "--no-startup-delay",
            "--interval",
            "0.1",
        ],  # fmt: skip
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def task_status(database, task_id):
    with sqlite3.connect(database) as db:
        row = db.execute(
            f"SELECT status, worker_ids FROM {DBTaskResult._meta.db_table} WHERE id = ?",
            (task_id.replace("-", ""),),
        ).fetchone()
    return row


@pytest.mark.slow  # ~20 s: two workers and a migrated file database
def test_a_killed_worker_s_digest_run_is_finished_by_another_without_doubles(
    smtp,  # noqa: F811
    tmp_path,
):
    env = site_env(
        tmp_path / "data",
        DAILYPAPERS_SEARCH_DIR=str(tmp_path / "search"),
        DAILYPAPERS_SMTP_URL=f"smtp://127.0.0.1:{smtp.port}",
        DAILYPAPERS_SITE_URL="https://papers.example.org",
        DAILYPAPERS_DIGEST_CLAIM_TIMEOUT="1",
        DAILYPAPERS_DIGEST_WORKERS="1",
        DAILYPAPERS_DIGEST_SEND_HOUR="0",
        DAILYPAPERS_TASK_WORKER_BEAT="0.2",
        DAILYPAPERS_TASK_ORPHAN_AFTER="1.5",
    )
    day = SAMPLE_DATA / "hf-daily-papers" / "2025-12-30.json"
    seeded = subprocess.run(
        [sys.executable, "-c", SEED, str(day), str(SUBSCRIBERS)],
        env=env, cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert seeded.returncode == 0, seeded.stderr
    task_id = seeded.stdout.strip().splitlines()[-1]
    database = tmp_path / "data" / "dailypapers.sqlite3"

    first = worker(env)

    def kill_the_first_worker(count):
        time.sleep(0.02)  # a digest run that takes its time
        if count == 10:  # the 10th digest claimed, its mail not yet sent
            os.kill(first.pid, signal.SIGKILL)

    smtp.on_mail = kill_the_first_worker
    assert first.wait(timeout=120) == -signal.SIGKILL
    assert task_status(database, task_id)[0] == "RUNNING"  # left behind by the dead
    assert len(smtp.received) == 9

    smtp.on_mail = None
    second = worker(env)
    try:
        deadline = time.monotonic() + 60
        while task_status(database, task_id)[0] != "SUCCESSFUL":
            assert time.monotonic() < deadline, task_status(database, task_id)
            assert second.poll() is None, second.stderr.read()
            time.sleep(0.1)
    finally:
        second.terminate()
        second.wait(timeout=30)

    assert len(json.loads(task_status(database, task_id)[1])) == 2  # two workers ran it
    copies = Counter(message.to for message in smtp.received)
    assert copies == Counter({f"s{n:02d}@example.org": 1 for n in range(SUBSCRIBERS)})
