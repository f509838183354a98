"""Scheduled ingest: `dailypapers serve` runs the crontask scheduler, which enqueues this
task after each arXiv announcement (Sunday to Thursday, 20:00 US Eastern; we ask at 20:30
so the API has the new papers). Also runnable by hand: `dailypapers ingest arxiv
--auto-feature` does the same from cron."""

import logging
import zoneinfo

from apscheduler.triggers.cron import CronTrigger
from crontask import cron
from django.tasks import task

log = logging.getLogger(__name__)

ANNOUNCEMENT_SCHEDULE = CronTrigger(
    day_of_week="sun,mon,tue,wed,thu",
    hour=20,
    minute=30,
    timezone=zoneinfo.ZoneInfo("America/New_York"),
)


@cron(ANNOUNCEMENT_SCHEDULE)
@task
def ingest_announced_papers():
    """The operator's categories (settings.ARXIV_CATEGORIES), then auto-feature rules."""
    from .services import scheduled_ingest

    summary, featured = scheduled_ingest()
    report = " / ".join(summary.lines(max_reasons=5)) + f" / auto-featured: {featured}"
    log.info("scheduled arXiv ingest: %s", report)
    return report
