"""Reads that several places need (pages, API, feeds, digests)."""

import calendar
import datetime as dt

from django.db import connection

from .models import DailyEntry, Paper

ENTRY_ORDER = {
    "upvotes": ["-paper__upvotes", "submitted_at", "pk"],
    "trending": ["-paper__trending_score", "pk"],
    "publishedAt": ["-paper__published_at", "pk"],
}


def entries_between(*, first_day, last_day, sort="upvotes"):
    """Daily entries of the days first_day..last_day (inclusive), best first.

    One entry per paper (its first in that order). `sort`: "upvotes" (imported plus
    local; ties by submission time), "trending" (stored score) or "publishedAt" (newest
    arXiv date first). The paper and its organisation come in the same query.
    """
    entries = _period_entries(first_day, last_day, sort).select_related(
        "paper", "paper__organization", "submitted_by"
    )
    if first_day == last_day:
        return entries
    return _once_per_paper(entries, paper_of=lambda entry: entry.paper_id)


def entries_page(*, first_day, last_day, sort="upvotes", offset=0, limit=50):
    """entries_between(...)[offset:offset + limit], loading the rows of that page only.

    A week or a month holds thousands of entries; ordering them by their keys and fetching
    one page's papers made the month feed's miss 46 -> 22 ms.
    """
    keys = entry_keys_between(first_day=first_day, last_day=last_day, sort=sort)
    page = keys[offset : offset + limit]
    entries = DailyEntry.objects.filter(pk__in=page).select_related(
        "paper", "paper__organization", "submitted_by"
    )
    position = {pk: index for index, pk in enumerate(page)}
    return sorted(entries, key=lambda entry: position[entry.pk])


def entry_keys_between(*, first_day, last_day, sort="upvotes"):
    """The primary keys of entries_between's entries, in its order (one light query)."""
    keys = _period_entries(first_day, last_day, sort).values_list("pk", "paper_id")
    return [pk for pk, _ in _once_per_paper(keys, paper_of=lambda key: key[1])]


def period_stamps(*, first_day, last_day, sort="upvotes"):
    """entries_between's rows as stamps (paper id, upvotes, comments, modified_at, day).

    Light enough for a month of entries (no paper text, no JSON decoding): the pages show
    one page of them and fetch the full rows of that page only (see day_stamps).
    """
    stamps = _period_entries(first_day, last_day, sort).values_list(
        "paper_id", "paper__upvotes", "paper__num_comments", "paper__modified_at", "day"
    )
    return _once_per_paper(stamps, paper_of=lambda stamp: stamp[0])


def _period_entries(first_day, last_day, sort):
    return DailyEntry.objects.filter(
        day__gte=first_day, day__lte=last_day, paper__hidden=False
    ).order_by(*ENTRY_ORDER[sort])


def _once_per_paper(rows, *, paper_of):
    """The first row of each paper, in order: a paper featured on several days of a
    period is listed once."""
    seen = set()
    unique = []
    for row in rows:
        paper = paper_of(row)
        if paper not in seen:
            seen.add(paper)
            unique.append(row)
    return unique


def day_stamps(day, *, offset=0, limit=50):
    """[(paper id, upvotes, comments, modified_at, day)] of `day`, in entries_between's order.

    What the daily page's cache key is made of: a page of rows changes only when one of
    these does (votes and comment counts are UPDATEd with F(), other edits bump
    modified_at). Plain SQL for the same reason as days_around.
    """
    entry, paper = DailyEntry._meta.db_table, Paper._meta.db_table
    sql = (
        f"SELECT e.paper_id, p.upvotes, p.num_comments, p.modified_at, e.day FROM {entry} e"
        f" JOIN {paper} p ON p.id = e.paper_id WHERE e.day = %s AND NOT p.hidden"
        " ORDER BY p.upvotes DESC, e.submitted_at, e.id LIMIT %s OFFSET %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [day, limit, offset])
        return cursor.fetchall()  # dates as the driver gives them: stamps, not values


TRENDING_DAYS = 7  # the trending page ranks the papers featured in the last week


def trending_window():
    """(first day, last day) of the trending page: the TRENDING_DAYS days up to the latest
    day with papers (so that it is never empty on a weekend), or None with no papers."""
    latest = latest_day_with_papers()
    if latest is None:
        return None
    return latest - dt.timedelta(days=TRENDING_DAYS - 1), latest


def latest_day_with_papers(*, on_or_before=None):
    entries = DailyEntry.objects.filter(paper__hidden=False)
    if on_or_before is not None:
        entries = entries.filter(day__lte=on_or_before)
    return _first_day(entries.order_by("-day"))


def earliest_day_with_papers():
    return _first_day(DailyEntry.objects.filter(paper__hidden=False).order_by("day"))


def neighbour_days(day):
    """(previous day with papers, next day with papers), either may be None."""
    visible = DailyEntry.objects.filter(paper__hidden=False)
    previous = _first_day(visible.filter(day__lt=day).order_by("-day"))
    following = _first_day(visible.filter(day__gt=day).order_by("day"))
    return previous, following


def days_around(day=None):
    """(day, previous day with papers, next day with papers) in one query.

    `day` None means the latest day with papers. The daily page asks this on every request,
    so it is one plain SQL statement of three index walks: compiling the equivalent ORM
    subqueries costs ~10x more than running them (bench/daily_page.py).
    """
    entry, paper = DailyEntry._meta.db_table, Paper._meta.db_table
    visible = f"SELECT e.day FROM {entry} e JOIN {paper} p ON p.id = e.paper_id WHERE NOT p.hidden"
    anchor = f"({visible} ORDER BY e.day DESC LIMIT 1)" if day is None else "%s"
    sql = (
        f"WITH anchor(day) AS (SELECT {anchor}) SELECT anchor.day,"
        f" ({visible} AND e.day < anchor.day ORDER BY e.day DESC LIMIT 1),"
        f" ({visible} AND e.day > anchor.day ORDER BY e.day LIMIT 1) FROM anchor"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [] if day is None else [day])
        row = cursor.fetchone()
    return tuple(_as_date(value) for value in row)


def _as_date(value):
    # SQLite hands dates back as text, PostgreSQL as dates.
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def _first_day(entries):
    # ORDER BY day LIMIT 1 walks the (day, paper) index and stops at the first visible
    # paper; MAX(day) over the join would visit every entry (ms at 100k papers).
    return entries.values_list("day", flat=True).first()


def iso_week_bounds(year, week):
    """Monday and Sunday of ISO week `week` of `year`; ValueError, in a sentence, when there
    is no such week or it ends after the last day a date can hold (9999-12-31)."""
    try:
        monday = dt.date.fromisocalendar(year, week, 1)
    except ValueError:
        raise ValueError(f"{year} has no ISO week {week}") from None
    if monday > dt.date.max - dt.timedelta(days=6):
        raise ValueError(
            f"week {week} of {year} ends after {dt.date.max}, the last day this server knows"
        )
    return monday, monday + dt.timedelta(days=6)


def month_bounds(year, month):
    """First and last day of `month` of `year`; ValueError, in a sentence, for no such month."""
    if not (1 <= month <= 12 and dt.MINYEAR <= year <= dt.MAXYEAR):
        raise ValueError(f"{year:04d}-{month:02d} is not a month")
    return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])


def paper_by_arxiv_id(arxiv_id):
    """The visible paper with this base id, or None."""
    return Paper.objects.visible().select_related("organization").filter(arxiv_id=arxiv_id).first()


def submissions_waiting(user):
    """The member's submissions that wait for arXiv (queued papers.tasks.finish_submission,
    services.paper_submit_queued), oldest first, as dicts with "arxiv_id" and "submitted_at"
    (an aware datetime). Read from django-tasks-db's queue; [] with another task backend."""
    from django.apps import apps
    from django.utils.dateparse import parse_datetime

    if not apps.is_installed("django_tasks_db"):
        return []
    from django.tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from .tasks import finish_submission

    queued = DBTaskResult.objects.filter(
        task_path=finish_submission.module_path,
        status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING],
        args_kwargs__kwargs__user_id=user.pk,
    ).order_by("enqueued_at")
    waiting = {}
    for row in queued.values_list("args_kwargs", flat=True):
        kwargs = row.get("kwargs", {})
        submitted_at = parse_datetime(kwargs.get("submitted_at") or "")
        if kwargs.get("arxiv_id") and submitted_at:  # a retry's row and its running one: once
            waiting.setdefault(kwargs["arxiv_id"], submitted_at)
    return [{"arxiv_id": i, "submitted_at": at} for i, at in waiting.items()]
