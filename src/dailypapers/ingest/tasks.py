"""Scheduled ingest: `dailypapers serve` runs the crontask scheduler, which enqueues this
task after each arXiv announcement (Sunday to Thursday, 20:00 US Eastern; we ask at 20:30
so the API has the new papers). Also runnable by hand: `dailypapers ingest arxiv
--auto-feature` does the same from cron.

With DAILYPAPERS_MIRROR_URL set, `mirror_daily_papers` imports that server's daily pages of
yesterday and today every 6 hours, so each day is asked about 8 times while its upvotes grow
(`dailypapers ingest hf-daily --api URL --since YESTERDAY` from cron does the same)."""

import datetime as dt
import logging
import zoneinfo

from apscheduler.triggers.cron import CronTrigger
from crontask import cron
from django.conf import settings
from django.tasks import task

log = logging.getLogger(__name__)

ANNOUNCEMENT_DAYS = "sun,mon,tue,wed,thu"  # arXiv announces at 20:00 US Eastern on these
ARXIV_TIME_ZONE = zoneinfo.ZoneInfo("America/New_York")
ANNOUNCEMENT_SCHEDULE = CronTrigger(
    day_of_week=ANNOUNCEMENT_DAYS, hour=20, minute=30, timezone=ARXIV_TIME_ZONE
)

MIRROR_SCHEDULE = CronTrigger(hour="*/6", minute=15, timezone=dt.UTC)


@cron(ANNOUNCEMENT_SCHEDULE)
@task
def ingest_announced_papers():
    """The operator's categories (settings.ARXIV_CATEGORIES), then auto-feature rules."""
    from .services import scheduled_ingest

    summary, featured = scheduled_ingest()
    report = " / ".join(summary.lines(max_reasons=5)) + f" / auto-featured: {featured}"
    log.info("scheduled arXiv ingest: %s", report)
    return report


@cron(MIRROR_SCHEDULE)
@task
def mirror_daily_papers():
    """The mirrored server's daily pages of yesterday and today (settings.MIRROR_URL)."""
    from .services import scheduled_mirror
    from .sources.hf_api import MirrorError

    try:
        result = scheduled_mirror()
    except MirrorError as exc:  # the next run tries again; say why in the log
        log.warning("mirror of %s failed: %s", settings.MIRROR_URL, exc)
        return f"failed: {exc}"
    if result is None:
        return "DAILYPAPERS_MIRROR_URL is not set: nothing to mirror"
    summary, days = result
    report = " / ".join(summary.lines(max_reasons=5))
    log.info("mirror of %s (%s to %s): %s", settings.MIRROR_URL, days[0], days[-1], report)
    return report
