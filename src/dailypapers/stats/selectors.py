"""The figures of /stats: aggregate reads over papers, daily entries and votes.

Each is one grouped query that the database answers from its indexes or one scan of a
small table (daily entries), so the page stays fast on 80k papers and more; the view
caches the result on the site's generation (caching/generation.py).
"""

import datetime as dt
from urllib.parse import quote

from django.db.models import Count, Max, Min, Sum
from django.utils import timezone

from dailypapers.community.models import Comment
from dailypapers.papers.models import Author, DailyEntry, Paper, PaperAuthor, Vote
from dailypapers.people.models import author_slug

DAYS = 90  # the window of the per-day chart
WEEKS = 52  # the window of the weekly chart
TOP = 12  # rows of the "top" charts


def site_stats(*, today=None):
    """Everything /stats shows, as plain data (cacheable)."""
    today = today or timezone.localdate()
    return {
        "totals": totals(),
        "published": papers_per_day("published_at", today=today),
        "ingested": papers_per_day("created_at", today=today),
        "per_week": entries_per_week(),
        "categories": top_categories(),
        "authors": busiest_authors(),
        "organizations": busiest_organizations(),
    }


def totals():
    """Counts over the whole site. Papers and categories count every stored paper (hidden
    ones too: a count reveals none of them, and skipping them would cost a table scan)."""
    featured = DailyEntry.objects.aggregate(
        entries=Count("pk"), days=Count("day", distinct=True), first=Min("day"), last=Max("day")
    )
    featured_papers = Paper.objects.visible().filter(pk__in=DailyEntry.objects.values("paper_id"))
    # the papers' own dates, and apart from them the ingest's (both read from an index)
    newest = Paper.objects.aggregate(published=Max("published_at"), added=Max("created_at"))
    return {
        "papers": Paper.objects.count(),
        "entries": featured["entries"],
        "days": featured["days"],
        "first_day": featured["first"],
        "last_day": featured["last"],  # the newest daily page
        "newest_published": newest["published"] and timezone.localdate(newest["published"]),
        "last_ingest": newest["added"],  # when the newest paper was added here
        "upvotes": featured_papers.aggregate(n=Sum("upvotes"))["n"] or 0,
        "local_votes": Vote.objects.count(),
        "comments": Comment.objects.visible().count(),
    }


def papers_per_day(field, *, today):
    """[(day, papers)] by `field` ("published_at": new on arXiv, "created_at": ingested here)
    for the DAYS days up to the newest such day, never after today: a site fed from an old
    snapshot still shows its data.

    One indexed range count a day: a day is counted in the site's time zone, and the cost
    follows the days shown, not the papers stored (grouping on a truncated date would read
    every paper of the window, all 80k of them on a site loaded in one go).
    """
    newest = Paper.objects.aggregate(newest=Max(field))["newest"]
    if newest is None:
        return []
    last = min(timezone.localdate(newest), today)
    days = [last - dt.timedelta(days=n) for n in range(DAYS - 1, -1, -1)]
    starts = [_midnight(day) for day in [*days, last + dt.timedelta(days=1)]]
    papers = Paper.objects.all()
    return [
        (day, papers.filter(**{f"{field}__gte": start, f"{field}__lt": end}).count())
        for day, start, end in zip(days, starts, starts[1:], strict=False)
    ]


def entries_per_week():
    """[(Monday, daily entries, upvotes of the featured papers)] for the last WEEKS weeks."""
    last = DailyEntry.objects.aggregate(last=Max("day"))["last"]
    if last is None:
        return []
    last_monday = last - dt.timedelta(days=last.weekday())
    first_monday = last_monday - dt.timedelta(weeks=WEEKS - 1)
    rows = (
        DailyEntry.objects.filter(day__gte=first_monday, paper__hidden=False)
        .values("day")
        .annotate(entries=Count("pk"), upvotes=Sum("paper__upvotes"))
        .values_list("day", "entries", "upvotes")
    )
    weeks = {}
    for day, entries, upvotes in rows:
        monday = day - dt.timedelta(days=day.weekday())
        count, votes = weeks.get(monday, (0, 0))
        weeks[monday] = (count + entries, votes + (upvotes or 0))
    mondays = (first_monday + dt.timedelta(weeks=n) for n in range(WEEKS))
    return [(monday, *weeks.get(monday, (0, 0))) for monday in mondays]


def top_categories():
    """[(primary category, papers)] most papers first (from the category index alone)."""
    rows = (
        Paper.objects.exclude(primary_category="")
        .values("primary_category")
        .annotate(papers=Count("pk"))
        .order_by("-papers", "primary_category")
        .values_list("primary_category", "papers")[:TOP]
    )
    return list(rows)


def busiest_authors():
    """[(author name, featured papers, their upvotes, page)]: who is on the daily pages most.

    Ranked on author ids first (one grouped pass over the featured papers' author links),
    then names and upvotes for the TOP alone: joining names and papers (to leave hidden
    ones out) into the grouping costs 2-3 times more, so hidden papers count here.
    """
    links = PaperAuthor.objects.filter(paper_id__in=DailyEntry.objects.values("paper_id"))
    ranked = list(
        links.values("author_id")
        .annotate(papers=Count("paper_id"))
        .order_by("-papers", "author_id")
        .values_list("author_id", "papers")[:TOP]
    )
    ids = [author_id for author_id, _ in ranked]
    names = dict(Author.objects.filter(pk__in=ids).values_list("pk", "name"))
    upvotes = dict(
        links.filter(author_id__in=ids)
        .values("author_id")
        .annotate(n=Sum("paper__upvotes"))
        .values_list("author_id", "n")
    )
    rows = [
        (names[pk], papers, upvotes.get(pk) or 0, f"/authors/{author_slug(pk, names[pk])}")
        for pk, papers in ranked
    ]
    return sorted(rows, key=lambda row: (-row[1], -row[2], row[0]))


def busiest_organizations():
    """[(organisation, featured papers, their upvotes, page)]."""
    featured = DailyEntry.objects.values("paper_id")
    rows = (
        Paper.objects.visible()
        .filter(pk__in=featured, organization__isnull=False)
        .values("organization__name", "organization__fullname")
        .annotate(papers=Count("pk"), upvotes=Sum("upvotes"))
        .order_by("-papers", "-upvotes", "organization__name")
        .values_list("organization__fullname", "organization__name", "papers", "upvotes")[:TOP]
    )
    return [
        (fullname or name, papers, upvotes, f"/orgs/{quote(name, safe='')}")
        for fullname, name, papers, upvotes in rows
    ]


def _midnight(day):
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))
