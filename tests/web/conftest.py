import datetime as dt

import pytest
from django.utils import timezone

from dailypapers.papers.models import DailyEntry

DAY = dt.date(2026, 11, 25)


@pytest.fixture
def feature(db):
    """Put a paper on the daily page of `day` (DAY by default)."""

    def feature(paper, day=DAY, user=None, when=None):
        return DailyEntry.objects.create(
            paper=paper,
            day=day,
            submitted_by=user,
            submitted_at=when or timezone.make_aware(dt.datetime.combine(day, dt.time(8))),
            source=DailyEntry.Source.IMPORT if user is None else DailyEntry.Source.MEMBER,
        )

    return feature


@pytest.fixture
def day_of_papers(make_paper, feature):
    """Three papers featured on DAY with 5, 30 and 12 imported upvotes."""
    papers = [
        make_paper(title="Low votes", imported_upvotes=5),
        make_paper(
            title="Top paper",
            imported_upvotes=30,
            github_repo="https://github.com/o/r",
            github_stars=42,
        ),
        make_paper(title="Middle paper", imported_upvotes=12),
    ]
    for paper in papers:
        feature(paper)
    return papers


def fake_arxiv(records_by_id=None, error=None):
    """A stand-in for the arXiv API client's fetch_by_ids: no network in tests."""
    calls = []

    def fetch_by_ids(ids, *args, **kwargs):
        calls.append(list(ids))
        if error is not None:
            raise error
        return [records_by_id[i] for i in ids if i in (records_by_id or {})]

    fetch_by_ids.calls = calls
    return fetch_by_ids


@pytest.fixture
def patch_arxiv(monkeypatch):
    """Replace the arXiv client used by paper_submit (whether or not it is written yet)."""
    import sys
    import types

    def patch(fetch):
        try:
            from dailypapers.ingest.sources import arxiv_api
        except ImportError:
            arxiv_api = types.ModuleType("dailypapers.ingest.sources.arxiv_api")
            monkeypatch.setitem(sys.modules, arxiv_api.__name__, arxiv_api)
        monkeypatch.setattr(arxiv_api, "fetch_by_ids", fetch, raising=False)
        return fetch

    return patch


def paper_record(arxiv_id, *, days_old=1, title="Fetched from arXiv"):
    from dailypapers.ingest.records import PaperRecord

    published = timezone.now() - dt.timedelta(days=days_old)
    return PaperRecord(
        arxiv_id=arxiv_id,
        title=title,
        published_at=published,
        versions=[{"version": 1, "created": published.isoformat()}],
        abstract="An abstract that came from the arXiv API.",
        authors=[{"name": "Grace Hopper"}, {"name": "Edsger Dijkstra"}],
        categories=["cs.LG"],
        primary_category="cs.LG",
    )
