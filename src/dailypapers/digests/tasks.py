"""Background work: subscription mails (queued by services) and the digest run, which
`dailypapers serve` schedules hourly from DIGEST_SEND_HOUR in DIGEST_TIME_ZONE (each run
is idempotent: it sends what is still owed and nothing twice)."""

import logging
import zoneinfo

from apscheduler.triggers.cron import CronTrigger
from crontask import cron
from django.conf import settings
from django.core.mail import mailers
from django.tasks import task

from . import emails, services
from .models import Subscription

log = logging.getLogger(__name__)


@task
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
@task
def send_digests():
    from .sending import digest_send

    report = digest_send()
    log.info("%s", report.summary())
    return report.summary()
