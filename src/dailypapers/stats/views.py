import time

from django.core.cache import cache
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe

from dailypapers.caching.generation import current

from . import charts, selectors

# The figures are kept with the site generation they were computed at, and computed again
# when it moves, but at most once a minute: every vote moves the generation, and computing
# the figures of 80k papers costs a few daily pages (docs/pages.md).
FRESH_SECONDS = 60
CACHE_SECONDS = 24 * 3600


def stats(request):
    """/stats: the site in figures, charts drawn on the server with their numbers beside."""
    today = timezone.localdate()
    key = f"stats:{today.isoformat()}"
    generation = current()[0]
    kept = cache.get(key)  # (generation, when computed, HTML)
    if kept is None or (kept[0] != generation and time.time() - kept[1] >= FRESH_SECONDS):
        context = chart_context(selectors.site_stats(today=today))
        kept = (generation, time.time(), render_to_string("stats/_figures.html", context, request))
        cache.set(key, kept, CACHE_SECONDS)
    return render(request, "stats/stats.html", {"figures": mark_safe(kept[2])})


def chart_context(data):
    """The figures of selectors.site_stats with the geometry of their charts."""
    weeks = _from_first_value(data["per_week"], keep=8)
    return {
        "totals": data["totals"],
        "published": _daily(data["published"]),
        "ingested": _daily(data["ingested"]),
        "weekly_entries": _weekly(weeks, 1, "featured"),
        "weekly_upvotes": _weekly(weeks, 2, "upvotes"),
        "weeks": weeks,
        "categories": _top(data["categories"], "papers"),
        "authors": _top(data["authors"], "featured papers"),
        "organizations": _top(data["organizations"], "featured papers"),
    }


def _daily(points):
    points = _from_first_value(points, keep=14)
    if not points:
        return None
    days = [day for day, _ in points]
    values = [value for _, value in points]
    chart = charts.columns(values, [f"{day:%a %b %-d, %Y}: {n:,}" for day, n in points])
    chart["dates"] = charts.date_labels(days)
    busiest = max(points, key=lambda point: point[1])
    return {
        "chart": chart,
        "points": points,
        "first": days[0],
        "last": days[-1],
        "total": sum(values),
        "median": sorted(values)[len(values) // 2],
        "busiest": busiest,
    }


def _weekly(weeks, column, what):
    if not weeks:
        return None
    values = [week[column] for week in weeks]
    labels = [f"week of {week[0]:%b %-d, %Y}: {week[column]:,} {what}" for week in weeks]
    chart = charts.columns(values, labels)
    chart["dates"] = charts.date_labels([week[0] for week in weeks])
    return {"chart": chart, "total": sum(values), "busiest": max(weeks, key=lambda w: w[column])}


def _from_first_value(points, *, keep):
    """points from the first that is not zero (a young site's chart is not mostly empty),
    but at least the last `keep` of them."""
    first = next((n for n, point in enumerate(points) if point[1]), len(points))
    return points[min(first, max(len(points) - keep, 0)) :]


def _top(rows, unit):
    if not rows:
        return None
    with_extra = [(row[0], row[1], _upvotes(row)) for row in rows]
    return {"chart": charts.bars(with_extra), "rows": rows, "unit": unit}


def _upvotes(row):
    return f"{row[2]:,} upvotes" if len(row) > 2 and row[2] is not None else ""
