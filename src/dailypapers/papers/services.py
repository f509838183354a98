"""Writes on papers: votes, featuring, submissions. Views, API and commands call these."""

import datetime as dt
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from dailypapers.plural import counted

from .arxiv_ids import parse_arxiv_id
from .models import DailyEntry, Paper, Vote
from .ranking import trending_score
from .selectors import submissions_waiting

log = logging.getLogger(__name__)


class SubmissionError(ValueError):
    """A submission that cannot be accepted; the message is meant for the member."""


class SubmissionQueued(Exception):
    """arXiv did not answer in time: the submission is kept and finished in the background
    (papers.tasks.finish_submission). The message is meant for the member."""

    def __init__(self, message, arxiv_id):
        super().__init__(message)
        self.arxiv_id = arxiv_id


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


def member_votes_remove(*, user):
    """Take back all of `user`'s upvotes (their account is being deleted): each paper's
    counter is counted again from the rows, and its trending score follows."""
    with transaction.atomic():
        paper_ids = list(Vote.objects.filter(user=user).values_list("paper_id", flat=True))
        Vote.objects.filter(user=user).delete()
        for paper in Paper.objects.filter(pk__in=paper_ids):
            Paper.objects.filter(pk=paper.pk).update(local_upvotes=paper.votes.count())
            paper_refresh_trending(paper=paper)
    return len(paper_ids)


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

    Fetches it from arXiv when it is unknown, quickly (the member waits): when arXiv does
    not answer within seconds, the submission is queued for the worker, which asks again
    patiently and features the paper on the day it was submitted, and SubmissionQueued
    says so. Raises SubmissionError with a message for the member (malformed,
    non-existent, too old, already featured) or RateLimited.
    `fetch(base_ids, http=...) -> list[PaperRecord]` defaults to the arXiv API client.
    """
    parsed = parse_arxiv_id(arxiv_id)  # InvalidArxivId is a ValueError with a clear message
    today = timezone.localdate()
    day_start = timezone.now() - dt.timedelta(days=1)
    waiting = [s for s in submissions_waiting(user) if s["submitted_at"] >= day_start]
    if any(submission["arxiv_id"] == parsed.base for submission in waiting):
        raise SubmissionQueued(
            f"Your submission of {parsed.base} is already saved: it will be on the daily page "
            "as soon as arXiv answers.",
            arxiv_id=parsed.base,
        )
    submitted_today = DailyEntry.objects.filter(submitted_by=user, submitted_at__gte=day_start)
    if submitted_today.count() + len(waiting) >= settings.SUBMISSIONS_PER_DAY:
        raise RateLimited(
            f"You can submit {settings.SUBMISSIONS_PER_DAY} papers a day; try again tomorrow.",
            retry_after=86400,
        )
    paper = Paper.objects.filter(arxiv_id=parsed.base).first()
    if paper is None:
        _check_id_recent(parsed)  # no need to ask arXiv about a paper too old to submit
        paper = _fetch_and_store(parsed.base, fetch, user=user, day=today)
    _check_submittable(paper)
    entry, _ = paper_feature(paper=paper, day=today, source=DailyEntry.Source.MEMBER, user=user)
    return entry


def _check_submittable(paper):
    if paper.hidden:
        raise SubmissionError("This paper has been removed by the moderators.")
    max_age = dt.timedelta(days=settings.SUBMIT_MAX_AGE_DAYS)
    if paper.published_at < timezone.now() - max_age:
        raise _too_old(paper.arxiv_id, f"on {paper.published_at:%Y-%m-%d}")
    existing = paper.daily_entries.order_by("-day").first()
    if existing is not None:
        raise SubmissionError(
            f"arXiv:{paper.arxiv_id} is already on the daily page of {existing.day:%Y-%m-%d}."
        )


def _check_id_recent(parsed):
    """An id carries the month of its first version (YYMM): one whose month ended more than
    SUBMIT_MAX_AGE_DAYS ago is too old, whatever arXiv would say."""
    year, month = parsed.yymm
    # arXiv numbers by its own (US Eastern) month: a day of slack past the month's end in UTC.
    month_end = dt.datetime(year + month // 12, month % 12 + 1, 2, tzinfo=dt.UTC)
    if month_end < timezone.now() - dt.timedelta(days=settings.SUBMIT_MAX_AGE_DAYS):
        raise _too_old(parsed.base, f"in {dt.date(year, month, 1):%B %Y}")


def _too_old(arxiv_id, when):
    return SubmissionError(
        f"arXiv:{arxiv_id} was first published {when}; "
        f"only papers from the last {settings.SUBMIT_MAX_AGE_DAYS} days can be submitted."
    )


def _fetch_and_store(base_id, fetch, *, user, day):
    from dailypapers.ingest.http import ArxivError, ArxivHttp, ArxivRequestError
    from dailypapers.ingest.upsert import upsert_records

    if fetch is None:
        from dailypapers.ingest.sources.arxiv_api import fetch_by_ids as fetch
    http = ArxivHttp.interactive()
    try:
        records = fetch([base_id], http=http)
    except ArxivRequestError as exc:  # arXiv refused the request itself: asking again won't help
        log.warning("arXiv refused to look up %s: %s", base_id, exc)
        raise SubmissionError(
            f"arXiv could not look up {base_id}. Check the id and try again."
        ) from exc
    except (ArxivError, OSError) as exc:  # busy, unreachable or slow: the worker asks again
        log.info("arXiv did not answer for %s in time, queued: %s", base_id, exc)
        _queue_submission(user=user, arxiv_id=base_id, day=day)
        raise SubmissionQueued(
            f"arXiv did not answer in time, so {base_id} could not be looked up yet. Your "
            "submission is saved: it will be on today’s page as soon as arXiv answers, if "
            "arXiv has this paper and it is recent enough.",
            arxiv_id=base_id,
        ) from exc
    finally:
        http.close()
    records = [record for record in records if record.arxiv_id == base_id]
    if not records:
        raise SubmissionError(f"arXiv has no paper {base_id}. Check the id and try again.")
    upsert_records(records)
    return Paper.objects.get(arxiv_id=base_id)


def _queue_submission(*, user, arxiv_id, day, submitted_at=None, attempt=1, run_after=None):
    from .tasks import finish_submission

    task = finish_submission.using(run_after=run_after) if run_after else finish_submission
    task.enqueue(
        user_id=user.pk,
        arxiv_id=arxiv_id,
        day=day.isoformat(),
        submitted_at=(submitted_at or timezone.now()).isoformat(),
        attempt=attempt,
    )


# Queued submissions: tried again by the worker every QUEUED_RETRY_MINUTES, doubling, for
# QUEUED_ATTEMPTS tries (15 + 30 + ... + 240 minutes: about 8 hours in all) while arXiv
# stays unavailable.
QUEUED_ATTEMPTS = 6
QUEUED_RETRY_MINUTES = 15


def paper_submit_queued(*, user, arxiv_id, day, submitted_at, attempt=1, fetch=None):
    """Finish a submission that arXiv did not answer in time (run by the worker): fetch the
    paper, then put it on the daily page of `day`, the day the member submitted it. The
    member is told how it ended (a notification); returns it in a sentence for the log.

    One bounded try per run (ArxivHttp.interactive(): seconds, no retries), so that an
    unreachable arXiv never holds the worker, and the mail queued behind it, for long:
    the waiting between tries is the queue's (run_after), not the worker's."""
    from dailypapers.ingest.http import ArxivError, ArxivHttp, ArxivRequestError
    from dailypapers.ingest.upsert import upsert_records

    paper = Paper.objects.filter(arxiv_id=arxiv_id).first()
    if paper is None:
        try:
            _check_id_recent(parse_arxiv_id(arxiv_id))  # its month has ended long ago since
        except SubmissionError as exc:
            _tell(user, f"Your submission of arXiv:{arxiv_id} was not added: {exc}")
            return str(exc)
        if fetch is None:
            from dailypapers.ingest.sources.arxiv_api import fetch_by_ids as fetch
        http = ArxivHttp.interactive()
        try:
            records = [r for r in fetch([arxiv_id], http=http) if r.arxiv_id == arxiv_id]
        except ArxivRequestError as exc:
            _tell(user, f"arXiv could not look up {arxiv_id}, so it was not added. Check the id.")
            return f"arXiv refused to look up {arxiv_id}: {exc}"
        except (ArxivError, OSError) as exc:
            if attempt >= QUEUED_ATTEMPTS:
                _tell(user, f"arXiv did not answer about {arxiv_id} for 8 hours, so it was not "
                            "added. Please submit it again.")  # fmt: skip
                return f"gave up on {arxiv_id} after {counted(attempt, 'try', 'tries')}: {exc}"
            delay = dt.timedelta(minutes=QUEUED_RETRY_MINUTES * 2 ** (attempt - 1))
            _queue_submission(
                user=user, arxiv_id=arxiv_id, day=day, submitted_at=submitted_at,
                attempt=attempt + 1, run_after=timezone.now() + delay,
            )  # fmt: skip
            return f"arXiv still unavailable for {arxiv_id}; asking again in {delay}"
        finally:
            http.close()
        if not records:
            _tell(user, f"arXiv has no paper {arxiv_id}, so your submission was not added.")
            return f"arXiv has no paper {arxiv_id}"
        upsert_records(records)
        paper = Paper.objects.get(arxiv_id=arxiv_id)
    try:
        _check_submittable(paper)
    except SubmissionError as exc:
        _tell(user, f"Your submission of arXiv:{arxiv_id} was not added: {exc}", paper=paper)
        return str(exc)
    paper_feature(
        paper=paper, day=day, source=DailyEntry.Source.MEMBER, user=user, when=submitted_at
    )
    _tell(user, f"Your submission “{paper.plain_title}” is on the daily page of {day:%B %-d}.",
          paper=paper)  # fmt: skip
    return f"arXiv:{arxiv_id} featured on {day}"


def _tell(user, text, paper=None):
    """How a queued submission ended, on the member's notifications page."""
    from dailypapers.notifications.models import Notification
    from dailypapers.notifications.services import notification_create

    notification_create(user=user, kind=Notification.Kind.SUBMISSION, paper=paper, text=text)
