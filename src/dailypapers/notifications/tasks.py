"""Background work: the hourly notification mails (services.notification_mails_send)."""

from apscheduler.triggers.cron import CronTrigger
from crontask import cron
from django.tasks import task

from dailypapers.workers import MAIL_PRIORITY


@cron(CronTrigger(minute=35))
@task(priority=MAIL_PRIORITY)
def send_notification_mails():
    """Replies and mentions, to the members whom no digest reaches (one mail each)."""
    from .services import notification_mails_send

    return f"{notification_mails_send()} notification mails"
