import datetime as dt
import math

import pytest

from dailypapers.papers import services
from dailypapers.papers.models import Paper, Vote
from dailypapers.papers.ranking import trending_score

UTC = dt.UTC


def test_it_pins_the_trending_formula():
    noon = dt.datetime(2026, 11, 27, 12, tzinfo=UTC)
    assert trending_score(upvotes=0, featured_at=noon) == trending_score(
        upvotes=1, featured_at=noon
    )
    assert trending_score(upvotes=100, featured_at=noon) == pytest.approx(
        2 + noon.timestamp() / 86400
    )
    # ten times the votes are worth exactly one day of freshness
    a_day_later = noon + dt.timedelta(days=1)
    assert trending_score(upvotes=10, featured_at=a_day_later) == pytest.approx(
        trending_score(upvotes=100, featured_at=noon)
    )
    assert math.isfinite(trending_score(upvotes=10**9, featured_at=noon))


def test_it_counts_one_vote_per_member(make_paper, alice, bob):
    paper = make_paper(imported_upvotes=5)
    assert services.vote_cast(user=alice, paper=paper) is True
    assert services.vote_cast(user=alice, paper=paper) is False
    assert services.vote_cast(user=bob, paper=paper) is True
    paper.refresh_from_db()
    assert (paper.local_upvotes, paper.imported_upvotes, paper.upvotes) == (2, 5, 7)
    assert Vote.objects.filter(paper=paper).count() == 2
    assert paper.trending_score == pytest.approx(
        trending_score(upvotes=7, featured_at=paper.published_at)
    )


def test_it_retracts_a_vote_and_keeps_counters_in_step(make_paper, alice):
    paper = make_paper()
    services.vote_cast(user=alice, paper=paper)
    assert services.vote_retract(user=alice, paper=paper) is True
    assert services.vote_retract(user=alice, paper=paper) is False
    paper.refresh_from_db()
    assert paper.local_upvotes == 0 and paper.upvotes == 0


def test_it_rate_limits_votes(make_paper, alice, settings):
    settings.VOTES_PER_HOUR = 2
    papers = [make_paper() for _ in range(3)]
    services.vote_cast(user=alice, paper=papers[0])
    services.vote_cast(user=alice, paper=papers[1])
    with pytest.raises(services.RateLimited):
        services.vote_cast(user=alice, paper=papers[2])
    assert Paper.objects.get(pk=papers[2].pk).local_upvotes == 0
