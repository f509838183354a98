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
