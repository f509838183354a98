from pathlib import Path

import pytest

from dailypapers.ingest.http import ArxivError
from dailypapers.ingest.records import PaperRecord, Rejected
from dailypapers.ingest.sources import rss
from dailypapers.ingest.upsert import upsert_records
from dailypapers.papers.models import Paper

from .conftest import Recorded

FEED = Path(__file__).parent / "data" / "rss-cs.CL.atom"


def test_it_tells_new_from_cross_and_replace_announcements():
    items = rss.parse_feed(FEED.read_bytes())

    kinds = [(kind, getattr(item, "arxiv_id", None)) for kind, item in items]
    assert kinds == [
        ("new", "2512.23675"), ("cross", "2512.22525"), ("replace", "hep-th/9901001"),
        ("new", None),
    ]  # fmt: skip
    new = items[0][1]
    assert new.abstract.startswith("We formulate long-context") and "Announce" not in new.abstract
    assert [a["name"] for a in new.authors][:2] == ["Arnuv Tandon", "Karan Dalal"]
    assert new.categories == ["cs.LG", "cs.CL"] and new.version == 1
    replaced = items[2][1]
    assert replaced.version == 3 and replaced.authors == [{"name": "Ada Lovelace"},
                                                          {"name": "Alan Turing"}]  # fmt: skip
    assert isinstance(items[3][1], Rejected)


def test_it_fetches_only_the_announcement_types_asked_for(make_http):
    recorded = Recorded()
    recorded.add("https://rss.arxiv.org/atom/cs.CL", FEED.read_bytes())

    items = rss.fetch_announcements("cs.CL", http=make_http(recorded), types=("new",))

    assert [kind for kind, _ in items] == ["new", "new"]
    assert str(recorded.requests[0].url) == "https://rss.arxiv.org/atom/cs.CL"


def test_it_says_when_the_feed_is_not_a_feed():
    with pytest.raises(ArxivError, match="not an Atom or RSS feed"):
        rss.parse_feed(b"<html><body>maintenance</body></html>")


@pytest.mark.django_db
def test_it_ingests_the_feed_and_a_rerun_changes_nothing():
    records = [item for _, item in rss.parse_feed(FEED.read_bytes())]

    first = upsert_records(records)
    second = upsert_records(records)

    assert first.new == Paper.objects.count() == 3 and len(first.rejected) == 1
    assert second.unchanged == 3
    assert all(isinstance(r, PaperRecord) for r in records[:3])
