"""Writes on notifications. Other apps call `notification_create`; it is idempotent.

Replies and mentions reach a member by mail in their digest; a member whom no digest
reaches gets them in a notification mail (`notification_mails_send`, run hourly by the
task worker): at most one an hour, each notification once, unless they turned it off."""

import datetime as dt
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from dailypapers.caching.generation import bump

from .models import MailPreference, Notification

log = logging.getLogger(__name__)

MAILED_KINDS = (Notification.Kind.REPLY, Notification.Kind.MENTION)
MAIL_INTERVAL = dt.timedelta(hours=1)  # at most one notification mail per member
MAIL_MAX_AGE = dt.timedelta(days=2)  # older ones wait on /notifications only
MAIL_LIMIT = 20  # notifications in one mail; the rest go in the next
MAIL_OFF_SALT = "notifications.mail-off"

TEXT_LENGTH = 300


def notification_create(*, user, kind, actor=None, paper=None, comment=None, text=""):
    """Tell `user` about something; returns the new Notification, or None when it is not
    needed (the member caused it themselves, is inactive, or was told already)."""
    if actor is not None and actor.pk == user.pk:
        return None
    if not user.is_active:
        return None
    if len(text) > TEXT_LENGTH:
        text = text[: TEXT_LENGTH - 1] + "…"
    try:
        with transaction.atomic():
            return Notification.objects.create(
                user=user, kind=kind, actor=actor, paper=paper, comment=comment, text=text
            )
    except IntegrityError:  # the same reply, mention or paper, told already
        return None


def notifications_mark_read(*, user, ids=None):
    """Mark the member's unread notifications read (all, or those in `ids`); returns how many."""
    unread = Notification.objects.unread().filter(user=user)
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    count = unread.update(read_at=timezone.now())
    if count:
        bump()  # the unread count in the member's cached pages
    return count


def notifications_mark_digested(*, notifications):
    """Record that these went out in a digest, so the next digest does not repeat them."""
    ids = [notification.pk for notification in notifications]
    return Notification.objects.filter(pk__in=ids, digested_at__isnull=True).update(
        digested_at=timezone.now()
    )


# Notification mails ------------------------------------------------------------------


def digest_reaches(user_ids):
    """The members among `user_ids` whose digest subscription mails them (their
    notifications ride along in it)."""
    from dailypapers.digests.models import Subscription

    rows = Subscription.objects.filter(user_id__in=user_ids, status=Subscription.Status.ACTIVE)
    rows = rows.exclude(frequency=Subscription.Frequency.OFF).exclude(email="")
    return set(rows.values_list("user_id", flat=True))


def mail_enabled(user):
    preference = MailPreference.objects.filter(user=user).first()
    return preference is None or preference.enabled


def mail_preference_set(*, user, enabled):
    MailPreference.objects.update_or_create(user=user, defaults={"enabled": enabled})


def mail_off_token(user):
    """`<pk>-<mac>`: short, so that the List-Unsubscribe header holds the link unencoded."""
    return f"{user.pk}-{_mail_off_mac(user.pk)}"


def _mail_off_mac(pk):
    return salted_hmac(MAIL_OFF_SALT, str(pk), algorithm="sha256").hexdigest()[:16]


def mail_off_user(token):
    """The member a "stop these mails" link was made for, or None (tampered, unknown)."""
    pk, _, mac = token.partition("-")
    if not pk.isdigit() or not constant_time_compare(mac, _mail_off_mac(int(pk))):
        return None
    return get_user_model().objects.filter(pk=int(pk)).first()


def _pending(now):
    return (
        Notification.objects.shown()
        .undigested()
        .filter(kind__in=MAILED_KINDS, created_at__gte=now - MAIL_MAX_AGE)
    )


def notification_mails_send():
    """Mail each member whom no digest reaches their replies and mentions not yet read
    nor mailed: one mail per member, at most one per MAIL_INTERVAL. Returns how many."""
    now = timezone.now()
    user_ids = set(_pending(now).values_list("user_id", flat=True).distinct())
    user_ids -= digest_reaches(user_ids)
    resting = MailPreference.objects.filter(user_id__in=user_ids).filter(
        Q(enabled=False) | Q(last_sent_at__gt=now - MAIL_INTERVAL)
    )
    user_ids -= set(resting.values_list("user_id", flat=True))
    members = get_user_model().objects.filter(pk__in=user_ids, is_active=True).exclude(email="")
    members = members.filter(unconfirmed_email__isnull=True)  # mailed once confirmed
    members = members.exclude(Exists(_bouncing(OuterRef("email"))))
    return sum(_mail_member(member, now) for member in members.order_by("pk"))


def _bouncing(address):
    """The digest subscriptions that mark `address` as bouncing: mail to it comes back
    (digests/bounces.py), so no other mail goes there either until the member changes it."""
    from dailypapers.digests.models import Subscription

    return Subscription.objects.filter(status=Subscription.Status.BOUNCING, email__iexact=address)


def _mail_member(member, now):
    with transaction.atomic():
        preference, _ = MailPreference.objects.select_for_update().get_or_create(user=member)
        if not preference.enabled or (
            preference.last_sent_at and preference.last_sent_at > now - MAIL_INTERVAL
        ):
            return False  # turned off meanwhile, or another worker mailed them
        rows = _pending(now).filter(user=member).select_related("actor", "paper", "comment")
        notes = list(rows.order_by("created_at", "pk")[:MAIL_LIMIT])
        if not notes:
            return False
        try:
            _message(member, notes).send()
        except Exception as error:  # the next run tries again; the others still go
            log.warning("notification mail to member %s: %s", member.pk, error)
            return False
        notifications_mark_digested(notifications=notes)
        preference.last_sent_at = now
        preference.save(update_fields=["last_sent_at"])
    return True


def _message(member, notes):
    off_url = settings.SITE_URL + reverse("notifications_stop", args=[mail_off_token(member)])
    if len(notes) == 1:
        subject = notes[0].headline
    else:
        subject = f"{len(notes)} replies and mentions on {settings.SITE_NAME}"
    context = {
        "site_name": settings.SITE_NAME,
        "notifications_url": settings.SITE_URL + reverse("notifications"),
        "off_url": off_url,
        "items": [
            {
                "headline": note.headline,
                "snippet": note.snippet,
                "url": settings.SITE_URL + note.get_absolute_url(),
            }
            for note in notes
        ],
    }
    body = render_to_string("notifications/email/notifications.txt", context)
    headers = {
        "List-Unsubscribe": f"<{off_url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    return EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [member.email], headers=headers)
