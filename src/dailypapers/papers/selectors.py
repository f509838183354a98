"""Reads that several places need (pages, API, feeds, digests)."""

import datetime as dt

from django.db.models import Max, Min

from .models import DailyEntry, Paper


def entries_between(*, first_day, last_day, sort="upvotes"):
    """Daily entries of the days first_day..last_day (inclusive), best first.

    One entry per paper (its first day in the period). `sort`: "upvotes" (imported plus
    local; ties by submission time), "trending" (stored score) or "publishedAt" (newest
    arXiv date first). The paper and its organisation come in the same query.
    """
    order = {
        "upvotes": ["-paper__upvotes", "submitted_at", "pk"],
        "trending": ["-paper__trending_score", "pk"],
        "publishedAt": ["-paper__published_at", "pk"],
    }[sort]
    entries = (
        DailyEntry.objects.filter(day__gte=first_day, day__lte=last_day, paper__hidden=False)
        .select_related("paper", "paper__organization", "submitted_by")
        .order_by(*order)
    )
    if first_day == last_day:
        return entries
    seen = set()
    unique = []
    for entry in entries:
        if entry.paper_id not in seen:
            seen.add(entry.paper_id)
            unique.append(entry)
    return unique


def latest_day_with_papers(*, on_or_before=None):
    entries = DailyEntry.objects.filter(paper__hidden=False)
    if on_or_before is not None:
        entries = entries.filter(day__lte=on_or_before)
    return entries.aggregate(day=Max("day"))["day"]


def neighbour_days(day):
    """(previous day with papers, next day with papers), either may be None."""
    visible = DailyEntry.objects.filter(paper__hidden=False)
    previous = visible.filter(day__lt=day).aggregate(day=Max("day"))["day"]
    following = visible.filter(day__gt=day).aggregate(day=Min("day"))["day"]
    return previous, following


def iso_week_bounds(year, week):
    """Monday and Sunday of ISO week `week` of `year`; ValueError when there is no such week."""
    monday = dt.date.fromisocalendar(year, week, 1)
    return monday, monday + dt.timedelta(days=6)


def month_bounds(year, month):
    first = dt.date(year, month, 1)
    following = dt.date(year + month // 12, month % 12 + 1, 1)
    return first, following - dt.timedelta(days=1)


def paper_by_arxiv_id(arxiv_id):
    """The visible paper with this base id, or None."""
    return Paper.objects.visible().select_related("organization").filter(arxiv_id=arxiv_id).first()
