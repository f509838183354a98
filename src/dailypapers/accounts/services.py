"""Members' accounts: personal API tokens (create, revoke, check); deleting an account
without taking other members' replies with it."""

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.db.models.signals import pre_delete
from django.dispatch import receiver
from django.utils import timezone

from .models import ApiToken

TOKEN_PREFIX = "dp_"
MAX_ACTIVE_TOKENS = 20
# Writing last_used_at on every request would turn each API read into a write.
LAST_USED_RESOLUTION = dt.timedelta(minutes=5)


class TokenError(ValueError):
    """A token request that cannot be honoured; the message is meant for the member."""


def _digest(secret):
    # Tokens are 256 random bits: a plain SHA-256 is enough (no dictionary to attack).
    return hashlib.sha256(secret.encode()).hexdigest()


def token_create(*, user, name, scopes):
    """A new token for `user`; returns (token, secret). The secret is never stored."""
    name = (name or "").strip()
    if not name:
        raise TokenError("Give the token a name, so that you can recognise it later.")
    if len(name) > 100:
        raise TokenError("The name is too long (100 characters at most).")
    unknown = set(scopes) - set(ApiToken.Scope.values)
    if unknown:
        raise TokenError(f"Unknown scope(s): {', '.join(sorted(unknown))}.")
    if not scopes:
        raise TokenError("Pick at least one scope.")
    if user.api_tokens.filter(revoked_at=None).count() >= MAX_ACTIVE_TOKENS:
        raise TokenError(f"You have {MAX_ACTIVE_TOKENS} active tokens; revoke one first.")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=secret[:10],
        digest=_digest(secret),
        scopes=sorted(set(scopes)),
    )
    return token, secret


def token_revoke(*, user, token_id):
    """Revoke one of `user`'s tokens; True when it was active."""
    updated = ApiToken.objects.filter(user=user, pk=token_id, revoked_at=None).update(
        revoked_at=timezone.now()
    )
    return bool(updated)


def token_authenticate(secret):
    """The active token for this secret (with its user), or None."""
    if not secret or not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=_digest(secret), revoked_at=None, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


# Deleting an account ---------------------------------------------------------------------


@receiver(pre_delete, sender=settings.AUTH_USER_MODEL, dispatch_uid="accounts.account_release")
def account_release(sender, instance, **kwargs):
    """Before an account goes (deleted by an operator in the admin, or by any code that
    deletes a user; in the same transaction): its votes and reports go and every count they fed is
    counted again; its comments that others replied to stay, without text, as the place
    of those replies (docs/community.md); the notifications it caused, which quote it, go."""
    from dailypapers.community.services import member_comments_remove
    from dailypapers.notifications.models import Notification
    from dailypapers.papers.services import member_votes_remove

    member_votes_remove(user=instance)
    member_comments_remove(user=instance)
    Notification.objects.filter(actor=instance).delete()
