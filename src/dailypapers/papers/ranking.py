"""The Trending page and the API's `sort=trending` order papers by a score:

    trending_score = log10(max(upvotes, 1)) + featured_at / 86400

where `featured_at` is the moment the paper was first put on a daily page (its arXiv
announcement otherwise), in seconds since January 1, 1970 (Unix time).

Ten times the upvotes are worth one day of freshness: a paper featured today with 10
upvotes ranks level with one featured yesterday with 100. Because the time term grows
with the clock rather than decaying, a score never needs recomputing as time passes; it
changes only when the paper's upvotes change.
"""

# The /about page shows the docstring above to readers (web/views.py, about), and
# tests/web/test_pages.py checks that its formula computes trending_score(). The score is
# stored in an indexed column (Paper.trending_score).

import math

SECONDS_PER_DECADE_OF_VOTES = 86400


def trending_score(*, upvotes, featured_at):
    return round(
        math.log10(max(upvotes, 1)) + featured_at.timestamp() / SECONDS_PER_DECADE_OF_VOTES, 6
    )
