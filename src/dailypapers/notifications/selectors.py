"""Reads on notifications: the page, the unread count in the menu, the digest's part."""

from .models import Notification

PAGE_SIZE = 50


def notifications_for(*, user, limit=PAGE_SIZE):
    rows = Notification.objects.shown().filter(user=user)
    return list(rows.select_related("actor", "paper", "comment")[:limit])


def unread_count(*, user):
    return Notification.objects.shown().unread().filter(user=user).count()


def notifications_for_digest(*, user, limit=20):
    """What the member has not seen on the site nor in an earlier digest, oldest first
    (never about a comment since deleted or hidden)."""
    rows = (
        Notification.objects.shown()
        .undigested()
        .filter(user=user)
        .select_related("actor", "paper", "comment")
        .order_by("created_at", "pk")
    )
    return list(rows[:limit])
