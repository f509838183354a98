import datetime as dt

import pytest
from django.core.cache import cache

from dailypapers.papers.models import Author, DailyEntry, PaperAuthor
from dailypapers.papers.services import paper_refresh_trending

DAY = dt.date(2026, 11, 24)  # a Tuesday, ISO week 2026-W48


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()  # rate-limit windows live in the cache
    yield
    cache.clear()


@pytest.fixture
def feature():
    def feature(paper, day=DAY, *, hour=8, user=None, **fields):
        submitted = dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)
        source = DailyEntry.Source.MEMBER if user else DailyEntry.Source.IMPORT
        entry = DailyEntry.objects.create(
            paper=paper, day=day, submitted_at=submitted, submitted_by=user, source=source, **fields
        )
        paper_refresh_trending(paper=paper)
        return entry

    return feature


@pytest.fixture
def days(make_paper, feature, alice):
    """Three papers on DAY (5, 12 and 1 upvotes), one the day before, one hidden."""
    published = dt.datetime(2026, 11, 20, 18, tzinfo=dt.UTC)
    papers = {
        "mid": make_paper(imported_upvotes=5, published_at=published),
        "top": make_paper(imported_upvotes=12, published_at=published - dt.timedelta(days=2)),
        "low": make_paper(imported_upvotes=1, published_at=published + dt.timedelta(hours=1)),
        "yesterday": make_paper(imported_upvotes=30, published_at=published),
        "hidden": make_paper(imported_upvotes=99, published_at=published, hidden=True),
    }
    feature(papers["mid"], hour=7, user=alice)
    feature(papers["top"], hour=9, submitter={"name": "akhaliq", "user": "akhaliq"})
    feature(papers["low"], hour=10)
    feature(papers["yesterday"], DAY - dt.timedelta(days=1))
    feature(papers["hidden"])
    for paper in papers.values():
        paper.refresh_from_db()
        for position, author in enumerate(paper.authors):  # as the importer links them
            author_row, _ = Author.objects.get_or_create(name=author["name"])
            PaperAuthor.objects.create(paper=paper, author=author_row, position=position)
    return papers
