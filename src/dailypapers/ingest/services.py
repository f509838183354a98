"""Ingest jobs: one function per source, shared by `dailypapers ingest ...` and the
scheduled tasks; and the operator's auto-feature rules."""

import datetime as dt
import logging
import re

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from dailypapers.papers.arxiv_ids import parse_arxiv_id
from dailypapers.papers.models import DailyEntry, Paper
from dailypapers.papers.services import paper_feature

from .http import ArxivError
from .records import Rejected
from .sources import arxiv_api, oai, rss
from .sources.common import read_ahead
from .sources.hf_daily import read_hf_daily
from .sources.listings import read_listings
from .sources.snapshot import read_snapshot
from .upsert import IngestSummary, upsert_daily_records, upsert_records

# How far back the scheduled job asks the query API: announcements cover submissions of
# the previous working days; the overlap is free because the upsert is idempotent.
log = logging.getLogger(__name__)

SCHEDULED_WINDOW_DAYS = 3


def _tracked(items, progress):
    """Feed `progress(1)` per item (a tqdm bar's update) while passing items through."""
    for item in items:
        if progress:
            progress(1)
        yield item


def ingest_arxiv(*, categories=(), ids=(), since=None, until=None, http=None, dry_run=False,
                 progress=None):  # fmt: skip
    """Papers of `categories` submitted since `since` (query API), and/or papers by id."""
    summary = IngestSummary()
    if ids:
        records = arxiv_api.fetch_by_ids(ids, http=http)
        summary.add(upsert_records(_tracked(records, progress), dry_run=dry_run))
        found = {record.arxiv_id for record in records}
        for arxiv_id in ids:
            base = parse_arxiv_id(arxiv_id).base
            if base not in found:
                summary.rejected.append(Rejected(base, "arXiv has no paper with this id"))
    for category in categories:
        records = arxiv_api.fetch_category(category, since=since, until=until, http=http)
        summary.add(upsert_records(_tracked(records, progress), dry_run=dry_run))
    return summary


def ingest_oai(*, set_spec="", from_date=None, until=None, metadata_prefix="arXivRaw",
               http=None, dry_run=False, progress=None):  # fmt: skip
    def page_progress(count, _size):
        if progress:
            progress(count)

    summary, _state = oai.harvest(
        set_spec=set_spec, from_date=from_date, until=until, metadata_prefix=metadata_prefix,
        http=http, dry_run=dry_run, progress=page_progress,
    )  # fmt: skip
    return summary


def ingest_rss(*, categories=(), types=rss.ANNOUNCE_TYPES, http=None, dry_run=False,
               progress=None):  # fmt: skip
    """Today's announcements; returns (summary, {announce type: count})."""
    summary, kinds = IngestSummary(), {}
    for category in categories:
        items = rss.fetch_announcements(category, http=http, types=types)
        for kind, _ in items:
            kinds[kind] = kinds.get(kind, 0) + 1
        records = _tracked((item for _, item in items), progress)
        summary.add(upsert_records(records, dry_run=dry_run))
    return summary, kinds


FILE_READERS = {"listings": read_listings, "snapshot": read_snapshot}
FILE_SOURCES = ("hf-daily", *FILE_READERS)


def ingest_file(kind, path, *, dry_run=False, progress=None):
    """`kind`: listings, snapshot or hf-daily (a file or a directory of day files)."""
    if kind == "hf-daily":
        return upsert_daily_records(_tracked(read_hf_daily(path), progress), dry_run=dry_run)
    records = read_ahead(FILE_READERS[kind](path))  # parsed in a child, beside the upsert
    return upsert_records(_tracked(records, progress), dry_run=dry_run)


# Auto-feature ---------------------------------------------------------------------------


def auto_feature_rule(value=None):
    """settings.AUTO_FEATURE -> None (feature nothing), "all", or a set of categories."""
    value = settings.AUTO_FEATURE if value is None else value
    if isinstance(value, (list, tuple, set)):
        categories = {str(c).strip() for c in value if str(c).strip()}
    else:
        text = str(value or "").strip()
        if text.lower() in ("", "none", "no", "off"):
            return None
        if text.lower() == "all":
            return "all"
        top = re.fullmatch(r"top:(\d+)", text.lower())
        if top and int(top[1]) > 0:
            return ("top", int(top[1]))  # the model's N best suggestions (curation app)
        categories = {c.strip() for c in text.split(",") if c.strip()}
    return categories or None


def papers_auto_feature(*, paper_ids, day=None, rule=None):
    """Put the freshly ingested papers that the operator's rule selects on the daily page
    of `day` (today by default), as source=AUTO. Returns how many entries were created.

    Only papers ingested just now (new ones), visible, not withdrawn, and never featured
    before are considered: an updated version never comes back to the front page."""
    rule = auto_feature_rule(rule)
    day = day or timezone.localdate()
    if isinstance(rule, tuple):
        return feature_top_suggestions(day, rule[1])
    if rule is None or not paper_ids:
        return 0
    candidates = Paper.objects.visible().filter(pk__in=list(paper_ids), withdrawn_at=None)
    candidates = candidates.exclude(pk__in=DailyEntry.objects.values("paper_id"))
    created = 0
    for paper in candidates.only("id", "categories", "published_at"):
        if rule == "all" or rule.intersection(paper.categories or []):
            _, was_created = paper_feature(paper=paper, day=day, source=DailyEntry.Source.AUTO)
            created += was_created
    return created


def feature_top_suggestions(day, count):
    """DAILYPAPERS_AUTO_FEATURE=top:N: put the suggestion model's N best candidates of `day`
    on its page. Without a trained model nothing is featured and the log says why."""
    from dailypapers.curation.services import CurationError, suggest

    try:
        suggestions = suggest(day, count)
    except CurationError as exc:
        log.warning("auto-feature top:%s on %s skipped: %s", count, day, exc)
        return 0
    created = 0
    for suggestion in suggestions:
        _, was_created = paper_feature(
            paper=suggestion.paper, day=day, source=DailyEntry.Source.AUTO
        )
        created += was_created
    return created


def scheduled_ingest(*, categories=None, http=None, today=None):
    """What the scheduler runs after each arXiv announcement: the operator's categories
    from the query API, then the auto-feature rules on the new papers, then arXiv's
    metadata for the recent papers known only from Hugging Face (arxiv_metadata_fill)."""
    today = today or timezone.localdate()
    since = today - dt.timedelta(days=SCHEDULED_WINDOW_DAYS)
    categories = settings.ARXIV_CATEGORIES if categories is None else categories
    summary = ingest_arxiv(categories=categories, since=since, until=today, http=http)
    featured = papers_auto_feature(paper_ids=summary.new_paper_ids, day=today)
    summary.add(arxiv_metadata_fill(since=today - dt.timedelta(days=FILL_DAYS), http=http))
    return summary, featured


# Hugging Face's daily papers carry no arXiv categories: a paper known only from them (the
# mirror, `ingest hf-daily`) is in no category, so no category follow of a digest finds it.
# The scheduled job asks arXiv for the metadata of those published or featured in the last
# FILL_DAYS, FILL_LIMIT at most (one query API call).
FILL_DAYS = 14
FILL_LIMIT = arxiv_api.PAGE_SIZE


def papers_without_categories(*, since):
    """The arXiv ids of the papers published or featured since `since` that are in no
    arXiv category (no primary category: ingest fills it whenever categories are known),
    newest first, FILL_LIMIT at most."""
    recent = Q(published_at__date__gte=since) | Q(daily_entries__day__gte=since)
    papers = Paper.objects.filter(recent, primary_category="").distinct()
    return list(papers.order_by("-published_at").values_list("arxiv_id", flat=True)[:FILL_LIMIT])


def arxiv_metadata_fill(*, since, http=None):
    """arXiv's metadata (categories, comments, ...) for papers_without_categories: an
    IngestSummary of their updates; an empty one, logged, when arXiv cannot answer (the
    next run asks again)."""
    ids = papers_without_categories(since=since)
    if not ids:
        return IngestSummary()
    try:
        records = arxiv_api.fetch_by_ids(ids, http=http)
    except ArxivError as exc:
        log.warning("arXiv metadata of %d papers without categories: %s", len(ids), exc)
        return IngestSummary()
    return upsert_records(records)


MIRROR_DAYS_BACK = 1  # upvotes grow for a day or two: ask again for yesterday's page too


def scheduled_mirror(*, today=None, transport=None, min_interval=1.0):
    """What the scheduler runs every few hours when DAILYPAPERS_MIRROR_URL is set: import
    the mirrored server's daily entries of yesterday and today through the same path as
    `ingest hf-daily --api`, which also refreshes their imported upvotes. Returns None when
    no mirror is configured, else (summary, days)."""
    from .sources.hf_api import HfApiClient

    if not settings.MIRROR_URL:
        return None
    today = today or dt.datetime.now(dt.UTC).date()  # HF dates its daily pages in UTC
    days = [today - dt.timedelta(days=n) for n in range(MIRROR_DAYS_BACK, -1, -1)]
    client = HfApiClient(settings.MIRROR_URL, transport=transport, min_interval=min_interval)
    try:
        return upsert_daily_records(client.daily_records(days)), days
    finally:
        client.close()
