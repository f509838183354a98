"""A stand-in for arxiv.org/pdf on loopback: a real HTTP server answering from recorded
fixtures (tests/data/thumbnails/paper.pdf), so the thumbnail code runs its real client."""

import pytest

from tests.conftest import SAMPLE_DATA
from tests.loopback import RecordedService

PDF = (SAMPLE_DATA / "thumbnails" / "paper.pdf").read_bytes()


def the_fixture_pdf(server, path):
    return 200, PDF, {"Content-Type": "application/pdf"}


@pytest.fixture
def pdf_server(settings, tmp_path):
    """Its `answers` (path -> (status, body, headers)) override the fixture PDF."""
    with RecordedService(the_fixture_pdf) as server:
        settings.ARXIV_PDF_URL = server.url + "/pdf/{id}v{version}"
        settings.ARXIV_MIN_INTERVAL = 0  # the rate limiter's own tests wait; these need not
        settings.DATA_DIR = tmp_path
        settings.THUMBNAIL_DIR = tmp_path / "thumbnails"
        yield server
