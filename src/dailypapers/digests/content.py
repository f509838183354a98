"""What a digest holds: the period's top trending papers, then new papers for each thing
the subscriber follows, never a paper they were already sent.

Everything that is the same for all subscribers (trending list, results per topic query,
papers per author or category) is computed once per period and cached here.
"""

import datetime as dt
import functools
import logging
import threading
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q

from dailypapers.papers.models import DailyEntry, Paper
from dailypapers.papers.selectors import entries_between
from dailypapers.people.models import AuthorMerge

from .emails import Section
from .models import Follow

log = logging.getLogger(__name__)

# A paper counts as new for a day's topic alerts when arXiv published it in the few days
# before (Monday's announcement covers the weekend's submissions).
NEW_PAPER_DAYS = 3
KIND_LABELS = {kind: str(label).lower() for kind, label in Follow.Kind.choices}


@dataclass(frozen=True)
class Period:
    key: str  # "2026-11-27" or "2026-W48": one Delivery per subscription and key
    kind: str  # "daily" or "weekly" (= Subscription.Frequency)
    first_day: dt.date
    last_day: dt.date

    @property
    def label(self):
        if self.kind == "daily":
            return f"{self.first_day:%a %d %b %Y}"
        return f"week of {self.first_day:%d %b %Y}"


def daily_period(day):
    return Period(key=day.isoformat(), kind="daily", first_day=day, last_day=day)


def weekly_period(day):
    """The ISO week that contains `day`."""
    year, week, weekday = day.isocalendar()
    monday = day - dt.timedelta(days=weekday - 1)
    return Period(
        key=f"{year}-W{week:02d}",
        kind="weekly",
        first_day=monday,
        last_day=monday + dt.timedelta(days=6),
    )


def digest_today():
    return dt.datetime.now(zoneinfo.ZoneInfo(settings.DIGEST_TIME_ZONE)).date()


def has_papers(period):
    return DailyEntry.objects.filter(
        day__gte=period.first_day, day__lte=period.last_day, paper__hidden=False
    ).exists()


def period_from_key(key):
    """The Period of a Delivery.period key ("2026-11-27" or "2026-W48"), or None."""
    try:
        if "-W" in key:
            year, week = key.split("-W")
            return weekly_period(dt.date.fromisocalendar(int(year), int(week), 1))
        return daily_period(dt.date.fromisoformat(key))
    except ValueError:
        return None


def periods_unfinished(today, *, days=7):
    """Earlier periods (ending within `days` of `today`) that still have digests to retry
    or digests claimed by a worker that died: later runs finish them."""
    from .models import Delivery

    keys = (
        Delivery.objects.filter(status__in=[Delivery.Status.PENDING, Delivery.Status.SENDING])
        .values_list("period", flat=True)
        .distinct()
    )
    periods = [period_from_key(key) for key in keys]
    oldest = today - dt.timedelta(days=days)
    return sorted(
        (p for p in periods if p is not None and oldest <= p.last_day and p.first_day <= today),
        key=lambda period: period.first_day,
    )


def periods_due(today):
    """The digests owed on `today`: the daily one when `today` has papers (so no mail on
    weekends and holidays), and on the weekly day, last week's."""
    periods = [daily_period(today)]
    if today.isoweekday() == settings.DIGEST_WEEKLY_DAY:
        periods.append(weekly_period(today - dt.timedelta(days=7)))
    return [period for period in periods if has_papers(period)]


# The most specific follows first: a paper that a topic and a whole category both match
# is listed under the topic, which says more about why it is there.
SECTION_ORDER = {
    Follow.Kind.AUTHOR: 0,
    Follow.Kind.TOPIC: 1,
    Follow.Kind.ORG: 2,
    Follow.Kind.CATEGORY: 3,
}


def _topic_sentences(topic, papers):
    """{paper id: the sentence of its abstract that holds the topic's words}, for the mail
    to show why each paper was sent (none for a paper whose title holds them)."""
    from dailypapers.search import topic_sentence

    found = {paper.pk: topic_sentence(topic, paper) for paper in papers}
    return {pk: sentence for pk, sentence in found.items() if sentence}


def section_key(follow):
    """Where a follow's section goes: by kind (SECTION_ORDER), then by its value
    alphabetically, whatever the case ("diffusion" before "LLM")."""
    return SECTION_ORDER.get(follow.kind, len(SECTION_ORDER)), follow.value.casefold()


class PeriodContent:
    def __init__(self, period, *, search=None):
        self.period = period
        self.trending_limit = settings.DIGEST_TRENDING_LIMIT
        self.topic_limit = settings.DIGEST_TOPIC_LIMIT
        # More candidates than shown, so the cap still fills after removing papers a
        # subscriber was already sent.
        entries = entries_between(
            first_day=period.first_day, last_day=period.last_day, sort="trending"
        )
        self.trending = [entry.paper for entry in list(entries[: self.trending_limit * 3])]
        tz = zoneinfo.ZoneInfo(settings.DIGEST_TIME_ZONE)
        self.new_after = dt.datetime.combine(
            period.first_day - dt.timedelta(days=NEW_PAPER_DAYS), dt.time(), tz
        )
        self.new_before = dt.datetime.combine(period.last_day + dt.timedelta(days=1), dt.time(), tz)
        self.featured_ids = set(
            DailyEntry.objects.filter(
                day__gte=period.first_day, day__lte=period.last_day, paper__hidden=False
            ).values_list("paper_id", flat=True)
        )
        self._search = search
        self._matches = {}
        self._sentences = {}
        self._candidates = {paper.pk for paper in self.trending}
        self._lock = threading.RLock()

    def candidate_ids(self):
        """Ids of every paper seen so far (to look up what was already sent)."""
        with self._lock:
            return set(self._candidates)

    def matches(self, kind, value):
        key = (kind, value.lower())
        found = self._matches.get(key)  # a dict read is atomic: no lock once cached
        if found is None:
            with self._lock:  # worker threads share this cache (and the search index)
                if key not in self._matches:
                    papers = self._find(kind, value)
                    self._candidates.update(paper.pk for paper in papers)
                    if kind == Follow.Kind.TOPIC:
                        self._sentences[key] = _topic_sentences(value, papers)
                    self._matches[key] = papers
                found = self._matches[key]
        return found

    def sentences(self, kind, value):
        """{paper id: the sentence by which it matched} of a topic's papers (matches())."""
        return self._sentences.get((kind, value.lower()), {})

    def _find(self, kind, value):
        limit = self.topic_limit * 3
        if kind == Follow.Kind.TOPIC:
            return self._search_topic(value, limit)
        index = self._new_papers_index[kind]
        if kind != Follow.Kind.AUTHOR:
            return index.get(value.lower(), [])[:limit]
        # an author's spellings merged by moderators count as that author
        found = {p.pk: p for name in self.spellings(value) for p in index.get(name, [])}
        return sorted(
            found.values(), key=lambda p: (-p.trending_score, -p.published_at.timestamp())
        )[:limit]

    @functools.cached_property
    def _new_papers_index(self):
        """{kind: {name: the period's new papers, best first}} for authors, categories and
        organisations: one query for everyone's follows of these kinds."""
        new = (
            Paper.objects.visible()
            .filter(self._new_q())
            .select_related("organization")
            .distinct()
            .order_by("-trending_score", "-published_at")
        )
        by_author, by_category, by_org = defaultdict(list), defaultdict(list), defaultdict(list)
        for paper in new:
            for name in {author["name"].lower() for author in paper.authors}:
                by_author[name].append(paper)
            for category in {paper.primary_category, *paper.categories} - {""}:
                by_category[category.lower()].append(paper)
            if paper.organization is not None:
                by_org[paper.organization.name.lower()].append(paper)
        return {
            Follow.Kind.AUTHOR: by_author,
            Follow.Kind.CATEGORY: by_category,
            Follow.Kind.ORG: by_org,
        }

    def spellings(self, author):
        """An author's name and every spelling merged with it, in lower case."""
        return self._spellings.get(author.lower(), {author.lower()})

    @functools.cached_property
    def _spellings(self):
        """{name: every spelling merged with it} (lower case), for the authors that have
        merges: one query for the period, not three per followed author."""
        groups = defaultdict(set)
        for variant, canonical in AuthorMerge.objects.values_list(
            "variant__name", "canonical__name"
        ):
            groups[canonical.lower()].update([variant.lower(), canonical.lower()])
        return {name: group for group in groups.values() for name in group}

    def _new_q(self):
        """New to this subscriber's period: published on arXiv in the last few days, or
        featured on a daily page of the period (older papers often are)."""
        published = Q(published_at__gte=self.new_after, published_at__lt=self.new_before)
        featured = Q(
            daily_entries__day__gte=self.period.first_day,
            daily_entries__day__lte=self.period.last_day,
        )
        return published | featured

    def _search_topic(self, query, limit):
        search = self._search
        if search is None:
            from dailypapers.search import search_papers as search
        try:
            published = search(
                query,
                limit=limit,
                sort="relevance",
                published_after=self.new_after,
                published_before=self.new_before,
                every_word=True,
            ).papers
            featured = search(
                query, limit=limit * 4, sort="relevance", featured_only=True, every_word=True
            ).papers
        except Exception:  # a broken query must not stop everybody's digest
            log.exception("digest: search for topic %r failed", query)
            return []
        featured = [paper for paper in featured if paper.pk in self.featured_ids]
        return list({paper.pk: paper for paper in [*published, *featured]}.values())[:limit]

    def sections_for(self, subscription, follows, already_sent):
        """[Section, ...] for one subscriber; empty when there is nothing new for them."""
        seen = set(already_sent)
        sections = []
        if subscription.include_trending:
            fresh = [paper for paper in self.trending if paper.id not in seen]
            fresh = fresh[: self.trending_limit]
            if fresh:
                sections.append(Section(heading="", papers=fresh))
                seen.update(paper.id for paper in fresh)
        for follow in sorted(follows, key=section_key):
            fresh = [p for p in self.matches(follow.kind, follow.value) if p.id not in seen]
            fresh = fresh[: self.topic_limit]
            if fresh:
                heading = (
                    follow.value
                    if follow.kind == Follow.Kind.TOPIC
                    else f"{KIND_LABELS.get(follow.kind, follow.kind)} {follow.value}"
                )
                is_author = follow.kind == Follow.Kind.AUTHOR
                named = tuple(sorted(self.spellings(follow.value))) if is_author else ()
                matched = self.sentences(follow.kind, follow.value)
                sections.append(
                    Section(heading=heading, papers=fresh, authors_sought=named, matched=matched)
                )
                seen.update(paper.id for paper in fresh)
        return sections
