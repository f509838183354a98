"""Writes on papers: votes, featuring, submissions. Views, API and commands call these."""

import datetime as dt

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from .arxiv_ids import parse_arxiv_id
from .models import DailyEntry, Paper, Vote
from .ranking import trending_score


class SubmissionError(ValueError):
    """A submission that cannot be accepted; the message is meant for the member."""


class RateLimited(Exception):
    def __init__(self, message, retry_after):
        super().__init__(message)
        self.retry_after = retry_after


def first_featured_at(paper):
    entry = paper.daily_entries.order_by("submitted_at").values_list("submitted_at", flat=True)
    return entry.first() or paper.published_at


def paper_refresh_trending(*, paper):
    """Recompute the stored score from the current counters (inside the caller's transaction)."""
    paper.refresh_from_db(fields=["imported_upvotes", "local_upvotes"])
    paper.trending_score = trending_score(
        upvotes=paper.imported_upvotes + paper.local_upvotes, featured_at=first_featured_at(paper)
    )
    Paper.objects.filter(pk=paper.pk).update(trending_score=paper.trending_score)


def _check_vote_rate(user):
    hour_ago = timezone.now() - dt.timedelta(hours=1)
    if Vote.objects.filter(user=user, created_at__gte=hour_ago).count() >= settings.VOTES_PER_HOUR:
        raise RateLimited("Too many votes in the last hour; try again later.", retry_after=3600)


def vote_cast(*, user, paper):
    """Upvote; voting twice is a no-op. Returns True when a vote was added."""
    _check_vote_rate(user)
    with transaction.atomic():
        try:
            with transaction.atomic():
                Vote.objects.create(user=user, paper=paper)
        except IntegrityError:
            return False
        Paper.objects.filter(pk=paper.pk).update(local_upvotes=F("local_upvotes") + 1)
        paper_refresh_trending(paper=paper)
    return True


def vote_retract(*, user, paper):
    """Remove an upvote; returns True when there was one."""
    with transaction.atomic():
        deleted, _ = Vote.objects.filter(user=user, paper=paper).delete()
        if not deleted:
            return False
        Paper.objects.filter(pk=paper.pk, local_upvotes__gt=0).update(
            local_upvotes=F("local_upvotes") - 1
        )
        paper_refresh_trending(paper=paper)
    return True


def paper_feature(*, paper, day, source, user=None, when=None):
    """Put `paper` on the daily page of `day` (once). Returns (entry, created)."""
    with transaction.atomic():
        entry, created = DailyEntry.objects.get_or_create(
            paper=paper,
            day=day,
            defaults={
                "submitted_by": user,
                "submitted_at": when or timezone.now(),
                "source": source,
            },
        )
        if created:
            paper_refresh_trending(paper=paper)
    return entry, created


def paper_submit(*, user, arxiv_id, fetch=None):
    """A member puts a paper on today's page by arXiv id or URL.

    Fetches it from arXiv when it is unknown. Raises SubmissionError with a message for the
    member (malformed, non-existent, too old, already featured) or RateLimited.
    `fetch(base_ids) -> list[PaperRecord]` defaults to the arXiv API client.
    """
    parsed = parse_arxiv_id(arxiv_id)  # InvalidArxivId is a ValueError with a clear message
    today = timezone.localdate()
    day_start = timezone.now() - dt.timedelta(days=1)
    submitted_today = DailyEntry.objects.filter(submitted_by=user, submitted_at__gte=day_start)
    if submitted_today.count() >= settings.SUBMISSIONS_PER_DAY:
        raise RateLimited(
            f"You can submit {settings.SUBMISSIONS_PER_DAY} papers a day; try again tomorrow.",
            retry_after=86400,
        )
    paper = Paper.objects.filter(arxiv_id=parsed.base).first()
    if paper is None:
        paper = _fetch_and_store(parsed.base, fetch)
    if paper.hidden:
        raise SubmissionError("This paper has been removed by the moderators.")
    max_age = dt.timedelta(days=settings.SUBMIT_MAX_AGE_DAYS)
    if paper.published_at < timezone.now() - max_age:
        raise SubmissionError(
            f"arXiv:{paper.arxiv_id} was first published on {paper.published_at:%Y-%m-%d}; "
            f"only papers from the last {settings.SUBMIT_MAX_AGE_DAYS} days can be submitted."
        )
    existing = paper.daily_entries.order_by("-day").first()
    if existing is not None:
        raise SubmissionError(
            f"arXiv:{paper.arxiv_id} is already on the daily page of {existing.day:%Y-%m-%d}."
        )
    entry, _ = paper_feature(paper=paper, day=today, source=DailyEntry.Source.MEMBER, user=user)
    return entry


def _fetch_and_store(base_id, fetch):
    from dailypapers.ingest.upsert import upsert_records

    if fetch is None:
        from dailypapers.ingest.sources.arxiv_api import fetch_by_ids as fetch
    try:
        records = fetch([base_id])
    except Exception as exc:  # network, HTTP or parse failure: tell the member, keep nothing
        raise SubmissionError(
            f"arXiv could not be reached to look up {base_id} ({exc.__class__.__name__}); "
            "please try again in a few minutes."
        ) from exc
    records = [record for record in records if record.arxiv_id == base_id]
    if not records:
        raise SubmissionError(f"arXiv has no paper {base_id}. Check the id and try again.")
    upsert_records(records)
    return Paper.objects.get(arxiv_id=base_id)
