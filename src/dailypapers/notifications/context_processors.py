import functools

from .selectors import unread_count


def unread(request):
    """The member's unread count for the menu, counted only if a template shows it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": functools.cache(functools.partial(unread_count, user=user))}
