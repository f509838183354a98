"""Background work: subscription mails (queued by services) and the digest run, which
`dailypapers serve` schedules hourly from DIGEST_SEND_HOUR in DIGEST_TIME_ZONE (each run
is idempotent: it sends what is still owed and nothing twice)."""

import datetime as dt
import logging
import zoneinfo

from apscheduler.triggers.cron import CronTrigger
from crontask import cron
from django.conf import settings
from django.core.mail import mailers
from django.tasks import task

from dailypapers.workers import MAIL_PRIORITY

from . import emails, services
from .content import digest_today
from .models import Subscription

log = logging.getLogger(__name__)


@task(priority=MAIL_PRIORITY)
def send_subscription_mail(subscription_id, kind, email):
    """The confirmation mail ("confirm") or the "manage your subscription" one."""
    subscription = Subscription.objects.filter(pk=subscription_id).first()
    if subscription is None:
        return
    if kind == "confirm":
        context = {
            "confirm_url": services.confirm_url(subscription, email),
            "valid_days": settings.DIGEST_CONFIRM_MAX_AGE // 86400,
        }
    else:
        context = {"manage_url": services.manage_url(subscription)}
    message = emails.build_email(kind, to=email, context=context)
    with mailers.default as connection:
        connection.send_messages([message])


@cron(
    CronTrigger(
        minute=5,
        hour=f"{settings.DIGEST_SEND_HOUR}-23",
        timezone=zoneinfo.ZoneInfo(settings.DIGEST_TIME_ZONE),
    )
)
@task(priority=MAIL_PRIORITY)
def send_digests(day=None, helper=False):
    """The day's digests. The scheduled run plans them, then queues DIGEST_TASKS - 1
    helpers, so that as many `db_worker`s (on this machine or others sharing the
    database) send at once; the claims keep them from sending anything twice."""
    from .sending import digest_plan, digest_send

    today = dt.date.fromisoformat(day) if day else digest_today()
    if not helper:
        digest_plan(today=today)
        for _ in range(settings.DIGEST_TASKS - 1):
            send_digests.enqueue(day=today.isoformat(), helper=True)
    report = digest_send(today=today)
    log.info("%s", report.summary())
    return report.summary()
