"""Writes on notifications. Other apps call `notification_create`; it is idempotent."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from dailypapers.caching.generation import bump

from .models import Notification

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
