"""Reads of the API that no other app needs (the shared ones are in papers.selectors)."""

import base64
import binascii
import datetime as dt

from django.db.models import Count, Max, Q

from dailypapers.papers import selectors
from dailypapers.papers.models import DailyEntry, Paper, Vote


class BadParameter(ValueError):
    def __init__(self, field, message):
        super().__init__(message)
        self.field = field


def parse_day(text, field="date"):
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        message = f"{field} must be a real day as YYYY-MM-DD, not {text!r}"
        raise BadParameter(field, message) from None


def period_bounds(*, date=None, week=None, month=None):
    """(first_day, last_day) of the one period given, or None for "all days"."""
    given = [name for name, value in (("date", date), ("week", week), ("month", month)) if value]
    if len(given) > 1:
        raise BadParameter(given[1], f"give one of date, week or month, not {' and '.join(given)}")
    if date:
        day = parse_day(date)
        return day, day
    if week:
        try:
            return selectors.iso_week_bounds(int(week[:4]), int(week[6:]))
        except ValueError as exc:
            raise BadParameter("week", str(exc)) from None
    if month:
        try:
            return selectors.month_bounds(int(month[:4]), int(month[5:]))
        except ValueError as exc:
            raise BadParameter("month", str(exc)) from None
    return None


def _submitted_by(submitter):
    return (
        Q(submitted_by__username=submitter)
        | Q(submitter__user=submitter)
        | Q(submitter__name=submitter)
    )


def daily_entries(*, bounds, sort, submitter, offset, limit):
    """One page of daily entries, ordered as the HTML pages order them (sort=None: upvotes)."""
    if bounds is not None:
        entries = selectors.entries_between(
            first_day=bounds[0], last_day=bounds[1], sort=sort or "upvotes"
        )
        if submitter:
            if isinstance(entries, list):
                entries = [entry for entry in entries if _is_by(entry, submitter)]
            else:
                entries = entries.filter(_submitted_by(submitter))
        return list(entries[offset : offset + limit])
    # No period: every day, newest day first, each day ranked like its page.
    order = {
        None: ["-day", "-paper__upvotes", "submitted_at", "pk"],
        "trending": ["-paper__trending_score", "pk"],
        "publishedAt": ["-paper__published_at", "pk"],
    }[sort]
    entries = DailyEntry.objects.filter(paper__hidden=False)
    if submitter:
        entries = entries.filter(_submitted_by(submitter))
    entries = entries.select_related("paper", "paper__organization", "submitted_by")
    entries = entries.order_by(*order)
    return list(entries[offset : offset + limit])


def _is_by(entry, submitter):
    if entry.submitted_by is not None and entry.submitted_by.username == submitter:
        return True
    return submitter in (entry.submitter.get("user"), entry.submitter.get("name"))


def last_modified(papers, entries=()):
    """The newest change among these papers, their votes and these entries (None if empty)."""
    times = [paper.modified_at for paper in papers]
    times += [entry.submitted_at for entry in entries]
    ids = [paper.pk for paper in papers]
    if ids:
        latest_vote = Vote.objects.filter(paper_id__in=ids).aggregate(at=Max("created_at"))["at"]
        if latest_vote:
            times.append(latest_vote)
    return max(times, default=None)


def first_entries(papers):
    """{paper id: its first daily entry} for these papers (one query)."""
    entries = DailyEntry.objects.filter(paper__in=papers).select_related("submitted_by")
    first = {}
    for entry in entries.order_by("-day", "-pk"):
        first[entry.paper_id] = entry
    return first


def encode_cursor(paper):
    raw = f"{paper.published_at.isoformat()}|{paper.pk}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor):
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        published, pk = raw.split("|")
        return dt.datetime.fromisoformat(published), int(pk)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadParameter("cursor", "cursor is not one this server gave out") from None


def papers_page(*, cursor, limit):
    """Papers newest first (arXiv date), `limit` after the cursor; returns (papers, next)."""
    papers = Paper.objects.visible().select_related("organization").order_by("-published_at", "-pk")
    if cursor:
        published, pk = decode_cursor(cursor)
        papers = papers.filter(Q(published_at__lt=published) | Q(published_at=published, pk__lt=pk))
    page = list(papers[: limit + 1])
    following = encode_cursor(page[limit - 1]) if len(page) > limit else None
    return page[:limit], following


def trending(*, offset, limit):
    """The trending page's entries: the last TRENDING_DAYS days, by stored trending score."""
    window = selectors.trending_window()
    if window is None:
        return []
    first, latest = window
    return selectors.entries_page(
        first_day=first, last_day=latest, sort="trending", offset=offset, limit=limit
    )


def papers_without_query(*, limit):
    """What a search with no query lists: the trending page's papers, then, when that is
    fewer than `limit`, the newest other papers (a site that ingests arXiv without daily
    pages, or whose trending window is short, still lists papers)."""
    papers = [entry.paper for entry in trending(offset=0, limit=limit)]
    if len(papers) < limit:
        newest = (
            Paper.objects.visible()
            .exclude(pk__in=[paper.pk for paper in papers])
            .select_related("organization")
            .order_by("-published_at", "-pk")
        )
        papers += list(newest[: limit - len(papers)])
    return papers


def categories():
    rows = (
        Paper.objects.visible()
        .exclude(primary_category="")
        .values("primary_category")
        .annotate(papers=Count("pk"))
        .order_by("-papers", "primary_category")
    )
    return [{"id": row["primary_category"], "papers": row["papers"]} for row in rows]


def search(query, *, limit):
    """(papers, mode) from the search app's hybrid search."""
    from dailypapers.search import search_papers

    results = search_papers(query, limit=limit)
    return list(results.papers), results.mode
