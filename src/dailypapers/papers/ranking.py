"""Trending: how the /papers/trending page and `sort=trending` order papers.

    trending_score = log10(max(upvotes, 1)) + featured_at_unix_seconds / 86400

Ten times the upvotes are worth one day of freshness: a paper featured today with 10
upvotes ranks level with one featured yesterday with 100. Because the time term grows
with the clock rather than decaying, a score never needs recomputing as time passes; it
changes only when the paper's upvotes change, and is stored in an indexed column.
`featured_at` is when the paper was first put on a daily page (its arXiv date otherwise).
The /about page shows this formula; tests pin it.
"""

import math

SECONDS_PER_DECADE_OF_VOTES = 86400


def trending_score(*, upvotes, featured_at):
    return round(
        math.log10(max(upvotes, 1)) + featured_at.timestamp() / SECONDS_PER_DECADE_OF_VOTES, 6
    )
