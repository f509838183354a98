"""Reads on notifications: the page, the unread count in the menu, the digest's part."""

from .models import Notification

PAGE_SIZE = 50


def notifications_for(*, user, limit=PAGE_SIZE):
    return list(Notification.objects.filter(user=user).select_related("actor", "paper")[:limit])


def unread_count(*, user):
    return Notification.objects.unread().filter(user=user).count()


def notifications_for_digest(*, user, limit=20):
    """What the member has not seen on the site nor in an earlier digest, oldest first."""
    rows = (
        Notification.objects.undigested()
        .filter(user=user)
        .select_related("actor", "paper")
        .order_by("created_at", "pk")
    )
    return list(rows[:limit])
