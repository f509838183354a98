"""`dailypapers digest send` killed in the middle of a run and started again, as a real
process on a file-based SQLite database, against the loopback SMTP server."""

import os
import signal
import subprocess
import sys
import time
from collections import defaultdict

import pytest

from tests.conftest import REPO, SAMPLE_DATA

SEED = r"""
import datetime as dt, json, sys
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from dailypapers.papers.models import DailyEntry, Paper
from dailypapers.papers.services import paper_feature
from dailypapers.digests.models import Subscription
for item in json.load(open(sys.argv[1])):
    data = item["paper"]
    paper = Paper.objects.create(
        arxiv_id=data["id"], title=data["title"], abstract=data.get("summary", ""),
        authors=[{"name": a["name"]} for a in data["authors"]],
        published_at=dt.datetime.fromisoformat(data["publishedAt"]),
        imported_upvotes=data.get("upvotes", 0),
    )
    paper_feature(paper=paper, day=dt.date(2025, 12, 30), source=DailyEntry.Source.IMPORT)
for n in range(int(sys.argv[2])):
    Subscription.objects.create(email=f"s{n:02d}@example.org", status="active")
Subscription.objects.create(email="gone@example.org", status="active")
Subscription.objects.create(email="pending@example.org")
"""

SUBSCRIBERS = 30


@pytest.fixture
def environment(smtp, tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DAILYPAPERS_", "DATABASE_URL", "DJANGO_SETTINGS"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="dailypapers.settings",
        DAILYPAPERS_DATA_DIR=str(tmp_path / "data"),
        DAILYPAPERS_SEARCH_DIR=str(tmp_path / "search"),
        DAILYPAPERS_SMTP_URL=f"smtp://127.0.0.1:{smtp.port}",
        DAILYPAPERS_SITE_URL="https://papers.example.org",
        DAILYPAPERS_DIGEST_CLAIM_TIMEOUT="1",
        DAILYPAPERS_DIGEST_RETRY_DELAY="0.05",
        DAILYPAPERS_DIGEST_BOUNCE_LIMIT="1",
        # One connection, so that each kill lands at a known point of the protocol.
        DAILYPAPERS_DIGEST_WORKERS="1",
        DAILYPAPERS_LOG_LEVEL="ERROR",
    )
    day = SAMPLE_DATA / "hf-daily-papers" / "2025-12-30.json"
    seeded = subprocess.run(
        [sys.executable, "-c", SEED, str(day), str(SUBSCRIBERS)],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert seeded.returncode == 0, seeded.stderr
    return env


def send(env):
    command = [sys.executable, "-m", "dailypapers", "digest", "send", "--date", "2025-12-30"]
    return subprocess.Popen(
        [*command, "--no-progress"],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow  # ~30 s: three processes and a migrated file database
def test_it_sends_each_digest_once_across_kills_and_restarts(smtp, environment):
    smtp.rcpt_replies["gone@example.org"] = "550 5.1.1 no such user"
    running = {}

    def kill(count, at):
        if count == at and "process" in running:
            os.kill(running["process"].pid, signal.SIGKILL)

    # 1: killed when the 12th transaction starts (the 11th digest is marked, the 12th
    # claimed): the restart must send the 12th, and nothing else again.
    smtp.on_mail = lambda count: kill(count, 12)
    running["process"] = send(environment)
    assert running["process"].wait(timeout=120) == -signal.SIGKILL
    assert len(smtp.received) == 11

    # 2: killed after the server accepted a message but before the sender marked it:
    # the one window SMTP cannot close; the re-send carries the same Message-ID.
    time.sleep(1.2)  # the dead worker's claim times out
    accepted = len(smtp.received)
    smtp.on_mail = None
    smtp.on_data = lambda count: kill(count, accepted + 5)
    running["process"] = send(environment)
    assert running["process"].wait(timeout=120) == -signal.SIGKILL

    # 3: runs to the end.
    time.sleep(1.2)
    smtp.on_data = None
    running["process"] = send(environment)
    out, err = running["process"].communicate(timeout=120)
    assert running["process"].returncode == 0, err
    assert "sent" in out

    ids = defaultdict(list)
    for message in smtp.received:
        ids[message.to].append(message.message["Message-ID"])
    expected = {f"s{n:02d}@example.org" for n in range(SUBSCRIBERS)}
    assert set(ids) == expected  # everyone, and neither the bouncing nor the pending one
    assert all(len(set(message_ids)) == 1 for message_ids in ids.values())
    copies = sorted(len(message_ids) for message_ids in ids.values())
    assert copies == [1] * (SUBSCRIBERS - 1) + [2]  # the DATA-window one, same Message-ID
