"""Mirroring: a second instance pulls a day from a first one through the HF-dialect API."""

import datetime as dt
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from django.core.management import call_command

from dailypapers.ingest.sources.hf_api import HfApiClient, MirrorError, period_days
from tests.conftest import SAMPLE_DATA

DAY = "2025-06-10"
BIN = Path(sys.executable).parent


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def first_instance(tmp_path_factory):
    """Another dailypapers: own SQLite data directory, real server (waitress), one day loaded."""
    data = tmp_path_factory.mktemp("first-instance")
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(DAILYPAPERS_DATA_DIR=str(data), DAILYPAPERS_API_RATE_ANON="0")
    cli = str(BIN / "dailypapers")
    subprocess.run([cli, "migrate", "-v0"], env=env, check=True, timeout=120)
    day_file = SAMPLE_DATA / "hf-daily-papers" / f"{DAY}.json"
    ingest = [cli, "ingest", "hf-daily", str(day_file), "--no-progress"]
    subprocess.run(ingest, env=env, check=True, timeout=120, capture_output=True)
    port = free_port()
    server = subprocess.Popen(
        [str(BIN / "waitress-serve"), f"--listen=127.0.0.1:{port}", "dailypapers.wsgi:application"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("the first instance did not start")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.mark.slow  # a second instance: migrate + serve in a subprocess (~20 s)
@pytest.mark.django_db
def test_it_mirrors_a_day_from_another_instance(first_instance, client, settings, tmp_path):
    settings.DATA_DIR = tmp_path  # the ETag cache of this (second) instance
    call_command("ingest", "hf-daily", "--api", first_instance, "--date", DAY, "--no-progress")
    theirs = httpx.get(f"{first_instance}/api/daily_papers", params={"date": DAY, "limit": 100})
    ours = client.get("/api/daily_papers", {"date": DAY, "limit": 100})
    on_file = json.loads((SAMPLE_DATA / "hf-daily-papers" / f"{DAY}.json").read_text())
    assert len(ours.json()) == len(on_file) == 28
    assert ours.json() == theirs.json()
    page = client.get(f"/papers/date/{DAY}").content.decode()
    positions = [page.index(f'id="paper-{e["paper"]["id"]}"') for e in theirs.json()]
    assert positions == sorted(positions)  # the same papers, in the same order, on the page


@pytest.mark.slow
@pytest.mark.django_db
def test_it_asks_again_with_the_etag_and_changes_nothing(first_instance, tmp_path, capsys):
    client = HfApiClient(first_instance, cache_dir=tmp_path, min_interval=0)
    day = dt.date.fromisoformat(DAY)
    first = list(client.day_entries(day))
    again = list(client.day_entries(day))
    assert first == again and client.not_modified == 1 and client.requests == 2
    with pytest.raises(MirrorError, match="404"):
        client.get_json("/api/nothing-here", {})


def test_it_turns_periods_into_days():
    today = dt.date(2026, 11, 28)
    assert len(period_days(week="2026-W48", today=today)) == 6  # up to today, not beyond
    assert len(period_days(month="2026-02", today=today)) == 28
    assert period_days(since=dt.date(2026, 11, 27), today=today) == [
        dt.date(2026, 11, 27),
        today,
    ]
    with pytest.raises(ValueError):
        period_days(today=today)


def test_it_retries_politely_on_429(tmp_path):
    answers = iter(
        [httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200, json=[])]
    )
    slept = []
    client = HfApiClient(
        "http://mirror.test",
        transport=httpx.MockTransport(lambda request: next(answers)),
        cache_dir=None,
        sleep=slept.append,
        min_interval=0,
    )
    assert list(client.day_entries(dt.date(2026, 1, 5))) == []
    assert slept == [7.0]
