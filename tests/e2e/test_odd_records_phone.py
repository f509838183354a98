"""The real records at the extremes (tests/data/odd-listings.jsonl.gz) on a 360 px phone:
no page scrolls sideways, whatever their titles, words and bylines."""

import gzip
import json
from pathlib import Path

import pytest

from dailypapers.ingest.sources.listings import parse_listing
from dailypapers.ingest.upsert import upsert_records
from dailypapers.papers.models import DailyEntry, Paper
from tests.e2e.test_phone_width import CHROMIUM, WIDER_THAN_SCREEN

ODD = Path(__file__).resolve().parents[1] / "data" / "odd-listings.jsonl.gz"
PHONE = {"width": 360, "height": 740}
PIDSR = "2504.07758"  # "PIDSR:ComplementaryPolarizedImageDemosaicingandSuper-Resolution"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is missing"),
]


@pytest.fixture
def odd(db):
    with gzip.open(ODD, "rt") as lines:
        upsert_records([parse_listing(json.loads(line)) for line in lines])
    papers = {paper.arxiv_id: paper for paper in Paper.objects.all()}
    for paper in papers.values():
        DailyEntry.objects.create(
            paper=paper, day=paper.published_at.date(), submitted_at=paper.published_at
        )
    return papers


def test_no_odd_paper_widens_a_phone_page(live_server, browser, odd, monkeypatch):
    # Every paper page lists the one with the longest title word among its related papers.
    monkeypatch.setattr(
        "dailypapers.web.views.related_papers", lambda paper, **kwargs: [odd[PIDSR]]
    )
    page = browser.new_context(viewport=PHONE).new_page()
    urls = [f"/papers/{arxiv_id}" for arxiv_id in odd]
    urls += [f"/papers/{arxiv_id}/authors" for arxiv_id in odd]
    urls += [f"/papers/date/{paper.published_at.date()}" for paper in odd.values()]
    urls += ["/search?q=PIDSR", "/search?q=Polycyclic+codes"]
    for url in urls:
        assert page.goto(live_server.url + url).status == 200, url
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{url} is {width}px: {page.evaluate(WIDER_THAN_SCREEN)}"
