"""arXiv answering 503 with Retry-After again and again: `dailypapers ingest arxiv` waits as
told, more times than its plain retry count, and finishes. A real HTTP server on loopback
plays arXiv from a recorded answer (a Retry-After of 1 s stands for arXiv's minutes)."""

import pytest
from django.core.management import call_command

from dailypapers.papers.models import Paper
from tests.conftest import SAMPLE_DATA
from tests.loopback import RecordedService

RECORDED = SAMPLE_DATA / "arxiv-api/2016/id_list=1111.2011v2.xml"
BUSY_ANSWERS = 6  # more than ArxivHttp's 4 plain retries


def busy_then_recorded(server, path):
    if len(server.requests) <= BUSY_ANSWERS:
        return 503, b"Service Unavailable: try again later", {"Retry-After": "1"}
    return 200, RECORDED.read_bytes(), {"Content-Type": "application/atom+xml"}


@pytest.fixture
def busy_arxiv(settings, tmp_path):
    with RecordedService(busy_then_recorded) as server:
        settings.ARXIV_API_URL = server.url + "/api/query"
        settings.ARXIV_MIN_INTERVAL = 0
        settings.DATA_DIR = tmp_path  # the politeness lock and the day cache
        yield server


@pytest.mark.django_db
def test_ingest_backs_off_while_arxiv_is_busy_and_finishes(busy_arxiv, capsys):
    call_command("ingest", "arxiv", "--id", "1111.2011")

    assert len(busy_arxiv.requests) == BUSY_ANSWERS + 1
    paper = Paper.objects.get(arxiv_id="1111.2011")
    assert paper.version == 2
