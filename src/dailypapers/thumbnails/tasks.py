"""The worker renders the thumbnails of newly featured papers every 20 minutes, a small
batch at a time (each PDF waits its turn in arXiv's rate limit). Also a command for cron:
`dailypapers thumbnails`."""

import logging

from apscheduler.triggers.cron import CronTrigger
from crontask import cron
from django.conf import settings
from django.tasks import task

from dailypapers.workers import ARXIV_FETCH_PRIORITY

log = logging.getLogger(__name__)

BATCH = 20  # at one PDF every 3 s or more; a run stops after BATCH_SECONDS all the same


@cron(CronTrigger(minute="*/20"))
@task(priority=ARXIV_FETCH_PRIORITY)
def make_thumbnails():
    if not settings.THUMBNAILS:
        return "DAILYPAPERS_THUMBNAILS is off"
    from .services import BATCH_SECONDS, thumbnails_make

    report = thumbnails_make(limit=BATCH, seconds=BATCH_SECONDS).line()
    log.info(report)
    return report
