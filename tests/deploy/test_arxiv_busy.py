"""arXiv answering 503 with Retry-After again and again: `dailypapers ingest arxiv` waits as
told, more times than its plain retry count, and finishes. A real HTTP server on loopback
plays arXiv from a recorded answer (a Retry-After of 1 s stands for arXiv's minutes)."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import call_command

from dailypapers.papers.models import Paper
from tests.conftest import SAMPLE_DATA

RECORDED = SAMPLE_DATA / "arxiv-api/2016/id_list=1111.2011v2.xml"
BUSY_ANSWERS = 6  # more than ArxivHttp's 4 plain retries


class BusyArxiv(BaseHTTPRequestHandler):
    requests = []

    def do_GET(self):
        self.requests.append(self.path)
        if len(self.requests) <= BUSY_ANSWERS:
            self.send_response(503)
            self.send_header("Retry-After", "1")
            self.end_headers()
            self.wfile.write(b"Service Unavailable: try again later")
            return
        body = RECORDED.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "application/atom+xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def busy_arxiv(settings, tmp_path):
    BusyArxiv.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), BusyArxiv)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.ARXIV_API_URL = f"http://127.0.0.1:{server.server_port}/api/query"
    settings.ARXIV_MIN_INTERVAL = 0
    settings.DATA_DIR = tmp_path  # the politeness lock and the day cache
    yield BusyArxiv
    server.shutdown()
    server.server_close()


@pytest.mark.django_db
def test_ingest_backs_off_while_arxiv_is_busy_and_finishes(busy_arxiv, capsys):
    call_command("ingest", "arxiv", "--id", "1111.2011")

    assert len(busy_arxiv.requests) == BUSY_ANSWERS + 1
    paper = Paper.objects.get(arxiv_id="1111.2011")
    assert paper.version == 2
