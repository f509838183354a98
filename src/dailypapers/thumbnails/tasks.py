"""The worker renders the thumbnails of newly featured papers every 20 minutes, a small
batch at a time (each PDF waits its turn in arXiv's rate limit). Also a command for cron:
`dailypapers thumbnails`."""

import logging

from apscheduler.triggers.cron import CronTrigger
from crontask import cron
from django.conf import settings
from django.tasks import task

log = logging.getLogger(__name__)

BATCH = 20  # at one PDF every 3 s or more: a minute or two of the worker's time


@cron(CronTrigger(minute="*/20"))
@task
def make_thumbnails():
    if not settings.THUMBNAILS:
        return "DAILYPAPERS_THUMBNAILS is off"
    from .services import thumbnails_make

    report = thumbnails_make(limit=BATCH).line()
    log.info(report)
    return report
