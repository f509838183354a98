"""Two `dailypapers db_worker` processes share one day's digests on PostgreSQL; one is
killed in the middle of the run (SIGKILL, between two mails) and started again. A real
SMTP server on loopback counts the Message-IDs: exactly one digest per subscriber."""

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from urllib.parse import urlsplit

import psutil
import pytest
from aiosmtpd.controller import Controller

from tests.conftest import REPO, SAMPLE_DATA
from tests.digests.conftest import free_port

# Six batches of 50: a worker claims up to a batch ahead of what it sends (its preparing
# thread), so with fewer, the first worker up could hold most of the day before the
# second had started.
SUBSCRIBERS = 300
KILL_AT = 120  # the MAIL FROM at which the worker sending it is killed

SEED = r"""
import datetime as dt, json, sys
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from dailypapers.papers.models import DailyEntry, Paper
from dailypapers.papers.services import paper_feature
from dailypapers.digests.models import Subscription
from dailypapers.digests.tasks import send_digests
day = dt.date(2025, 12, 30)
for item in json.load(open(sys.argv[1]))[:8]:
    data = item["paper"]
    paper = Paper.objects.create(
        arxiv_id=data["id"], title=data["title"], abstract=data.get("summary", ""),
        authors=[{"name": a["name"]} for a in data["authors"]],
        published_at=dt.datetime.fromisoformat(data["publishedAt"]),
    )
    paper_feature(paper=paper, day=day, source=DailyEntry.Source.IMPORT)
Subscription.objects.bulk_create(
    [Subscription(email=f"s{n:03d}@example.org", status="active") for n in range(int(sys.argv[2]))]
)
send_digests.enqueue(day=day.isoformat())
"""

ENQUEUE = r"""
import django
django.setup()
from dailypapers.digests.tasks import send_digests
send_digests.enqueue(day="2025-12-30")
"""

STATE = r"""
import django
django.setup()
from dailypapers.digests.models import Delivery
print(Delivery.objects.exclude(status="sent").count())
"""


class CountingInbox:
    """Keeps each message's recipient and Message-ID; calls on_mail(number, peer port)
    when a MAIL FROM arrives, before answering it."""

    def __init__(self):
        self.received = []
        self.mails = 0
        self.lock = threading.Lock()
        self.on_mail = None

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        with self.lock:
            self.mails += 1
            number = self.mails
        if self.on_mail is not None:
            self.on_mail(number, session.peer[1])
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        head = envelope.original_content.split(b"\r\n\r\n", 1)[0].decode()
        message_id = next(
            line.split(":", 1)[1].strip()
            for line in head.split("\r\n")
            if line.lower().startswith("message-id:")
        )
        with self.lock:
            self.received.append((envelope.rcpt_tos[0], message_id))
        return "250 OK"


@pytest.fixture
def postgres_url():
    """A fresh PostgreSQL database on the server of DATABASE_URL, dropped afterwards."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        pytest.skip("needs DATABASE_URL=postgres://... (workers share PostgreSQL)")
    import psycopg

    name = f"dp_test_workers_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    yield urlsplit(url)._replace(path=f"/{name}").geturl()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def run(env, code, *args):
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def worker(env):
    command = [sys.executable, "-m", "dailypapers", "db_worker", "--interval", "0.2"]
    return subprocess.Popen(
        [*command, "--no-startup-delay", "--verbosity", "0"],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def owner_of(port, processes):
    """The worker whose socket has local port `port`."""
    for process in processes:
        for connection in psutil.Process(process.pid).net_connections(kind="tcp"):
            if connection.laddr and connection.laddr.port == port:
                return process
    return None


@pytest.mark.slow  # ~1 min: three worker processes, a migrated PostgreSQL database
def test_two_workers_send_each_digest_once_when_one_is_killed_and_restarted(postgres_url, tmp_path):
    inbox = CountingInbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DAILYPAPERS_", "DATABASE_URL", "DJANGO_SETTINGS"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="dailypapers.settings",
        DATABASE_URL=postgres_url,
        DAILYPAPERS_DATA_DIR=str(tmp_path / "data"),
        DAILYPAPERS_SEARCH_DIR=str(tmp_path / "search"),
        DAILYPAPERS_SMTP_URL=f"smtp://127.0.0.1:{port}",
        DAILYPAPERS_SITE_URL="https://papers.example.org",
        DAILYPAPERS_DIGEST_TASKS="2",
        DAILYPAPERS_DIGEST_WORKERS="1",  # one connection each: a kill lands between mails
        DAILYPAPERS_DIGEST_CLAIM_TIMEOUT="4",
        DAILYPAPERS_LOG_LEVEL="ERROR",
    )
    workers = []
    try:
        day = SAMPLE_DATA / "hf-daily-papers" / "2025-12-30.json"
        run(env, SEED, str(day), str(SUBSCRIBERS))
        killed = []
        senders = Counter()  # MAIL FROMs per worker process, before the kill

        def kill(number, peer_port):
            if killed:
                return
            sender = owner_of(peer_port, workers)
            senders[sender.pid if sender else None] += 1
            if number == KILL_AT:
                os.kill(sender.pid, signal.SIGKILL)
                killed.append(sender)

        inbox.on_mail = kill
        workers += [worker(env), worker(env)]
        deadline = time.monotonic() + 120
        while not killed and time.monotonic() < deadline:
            time.sleep(0.1)
        assert killed, "nothing was sent"
        assert killed[0].wait(timeout=10) == -signal.SIGKILL
        assert len(inbox.received) < SUBSCRIBERS  # killed mid-run
        workers.append(worker(env))  # the restart
        run(env, ENQUEUE)  # and the next hourly run of the scheduler

        while time.monotonic() < deadline:
            if run(env, STATE).strip() == "0":
                break
            time.sleep(0.5)
        time.sleep(1)  # anything still in flight arrives
    finally:
        for process in workers:
            if process.poll() is None:
                process.terminate()
        for process in workers:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        controller.stop()

    message_ids = Counter(message_id for _, message_id in inbox.received)
    recipients = Counter(rcpt for rcpt, _ in inbox.received)
    assert len(message_ids) == SUBSCRIBERS and set(message_ids.values()) == {1}
    assert recipients == Counter({f"s{n:03d}@example.org": 1 for n in range(SUBSCRIBERS)})
    # Both workers were sending before the kill (the day was split between them).
    assert len(senders) == 2 and None not in senders and min(senders.values()) >= 5, senders
