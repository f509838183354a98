"""A stand-in for arxiv.org/pdf on loopback: a real HTTP server answering from recorded
fixtures (tests/data/thumbnails/paper.pdf), so the thumbnail code runs its real client."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.conftest import SAMPLE_DATA

PDF = (SAMPLE_DATA / "thumbnails" / "paper.pdf").read_bytes()


class PdfServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.answers = {}  # path -> (status, body, headers); anything else: the fixture PDF
        self.requests = []  # (path, user agent)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.server.requests.append((self.path, self.headers.get("User-Agent", "")))
        status, body, headers = self.server.answers.get(
            self.path, (200, PDF, {"Content-Type": "application/pdf"})
        )
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def pdf_server(settings, tmp_path):
    server = PdfServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.ARXIV_PDF_URL = server.url + "/pdf/{id}v{version}"
    settings.ARXIV_MIN_INTERVAL = 0  # the rate limiter's own tests wait; these need not
    settings.DATA_DIR = tmp_path
    settings.THUMBNAIL_DIR = tmp_path / "thumbnails"
    yield server
    server.shutdown()
    server.server_close()
