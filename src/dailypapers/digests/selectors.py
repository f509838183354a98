"""Reads on subscriptions and follows (the search app uses follows_for_user)."""

from .models import Follow, Subscription


def follows_for_user(user):
    """The topics, authors and categories a member follows (empty for anonymous users)."""
    if user is None or not user.is_authenticated:
        return []
    return list(Follow.objects.filter(subscription__user=user).order_by("kind", "value"))


def subscription_for_user(user):
    """The member's subscription, or None (it is created on their first follow)."""
    if user is None or not user.is_authenticated:
        return None
    return Subscription.objects.filter(user=user).first()


def subscription_by_email(email):
    return Subscription.objects.filter(email=email.strip().lower()).first() if email else None
