"""Scheduled retraining: `dailypapers serve` runs the crontask scheduler, which retrains the
suggestion model on all the daily pages so far an hour before each arXiv announcement is
ingested (Sunday to Thursday, 19:30 US Eastern; the ingest runs at 20:30), so that
DAILYPAPERS_AUTO_FEATURE=top:N and the Suggested tab rank the new papers with what the
community featured up to yesterday. `dailypapers feature train` does the same by hand."""

import logging

from apscheduler.triggers.cron import CronTrigger
from crontask import cron
from django.tasks import task

from dailypapers.ingest.tasks import ANNOUNCEMENT_DAYS, ARXIV_TIME_ZONE
from dailypapers.plural import counted

log = logging.getLogger(__name__)

# An hour before the announcement ingest that DAILYPAPERS_AUTO_FEATURE=top:N follows.
RETRAIN_SCHEDULE = CronTrigger(
    day_of_week=ANNOUNCEMENT_DAYS, hour=19, minute=30, timezone=ARXIV_TIME_ZONE
)


@cron(RETRAIN_SCHEDULE)
@task
def retrain_suggestion_model():
    """Learn from every daily page so far; a site with too little history says so and waits."""
    from .services import CurationError, train

    try:
        summary = train()
    except CurationError as exc:
        log.info("suggestion model not retrained: %s", exc)
        return f"not trained: {exc}"
    report = (
        f"trained on {counted(summary['days'], 'day')}, {counted(summary['rows'], 'candidate')}, "
        f"{summary['featured']} featured"
    )
    log.info("suggestion model retrained: %s", report)
    return report
