"""DAILYPAPERS_MIRROR_URL: the scheduler imports the mirrored server's days and refreshes
their upvotes; a fresh site tells its operator how to fill the page."""

import copy
import datetime as dt
import json

import httpx
import pytest

from dailypapers.ingest.services import scheduled_mirror
from dailypapers.papers.models import DailyEntry, Paper
from tests.conftest import SAMPLE_DATA

pytestmark = pytest.mark.django_db

DAY = dt.date(2025, 6, 10)
RECORDED = json.loads((SAMPLE_DATA / "hf-daily-papers" / f"{DAY}.json").read_text())


class MirroredServer:
    """A recorded HF-dialect server: DAY's entries (as saved from huggingface.co), no others."""

    def __init__(self):
        self.entries = copy.deepcopy(RECORDED)
        self.asked = []

    def __call__(self, request):
        self.asked.append((request.url.params["date"], request.headers["User-Agent"]))
        if request.url.params["date"] != DAY.isoformat():
            return httpx.Response(200, json=[])
        return httpx.Response(200, json=self.entries)


@pytest.fixture
def mirrored(settings, tmp_path):
    settings.MIRROR_URL = "https://hf.example.org"
    settings.DATA_DIR = tmp_path  # the ETag cache
    return MirroredServer()


def mirror(server, today):
    return scheduled_mirror(today=today, transport=httpx.MockTransport(server), min_interval=0)


def test_it_imports_yesterday_and_today_and_refreshes_upvotes(mirrored):
    summary, days = mirror(mirrored, today=DAY + dt.timedelta(days=1))

    assert days == [DAY, DAY + dt.timedelta(days=1)]
    assert [date for date, _ in mirrored.asked] == ["2025-06-10", "2025-06-11"]
    assert all(agent.startswith("dailypapers/") for _, agent in mirrored.asked)
    assert DailyEntry.objects.filter(day=DAY).count() == len(RECORDED) == 28

    top = mirrored.entries[0]
    arxiv_id, before = top["paper"]["id"], top["paper"]["upvotes"]
    top["paper"]["upvotes"] = before + 40  # the next run: upvotes grew on the mirrored server
    mirror(mirrored, today=DAY + dt.timedelta(days=1))

    assert Paper.objects.get(arxiv_id=arxiv_id).imported_upvotes == before + 40
    assert DailyEntry.objects.filter(day=DAY).count() == 28  # refreshed, not duplicated


def test_without_a_mirror_the_task_does_nothing(settings):
    from dailypapers.ingest.tasks import mirror_daily_papers

    settings.MIRROR_URL = ""
    assert scheduled_mirror() is None
    assert "not set" in mirror_daily_papers.call()
    assert not DailyEntry.objects.exists()


def test_a_failing_mirror_is_logged_not_raised(settings, tmp_path, caplog):
    from dailypapers.ingest.tasks import mirror_daily_papers

    settings.MIRROR_URL = "ftp://not-http.example.org"
    settings.DATA_DIR = tmp_path
    assert mirror_daily_papers.call().startswith("failed: 'ftp://not-http.example.org'")
    assert "mirror of ftp://not-http.example.org failed" in caplog.text


@pytest.mark.parametrize("url", ["", "https://hf.example.org"])
def test_the_empty_site_tells_the_operator_how_to_fill_it(client, settings, url):
    settings.MIRROR_URL = url
    page = client.get("/").content.decode()

    assert "No papers yet" in page
    if url:
        assert f"This site mirrors <code>{url}</code>" in page
        assert f"dailypapers ingest hf-daily --api {url} --since" in page
    else:
        assert "DAILYPAPERS_MIRROR_URL=https://huggingface.co" in page
