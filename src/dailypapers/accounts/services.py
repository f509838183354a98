"""Members' accounts: personal API tokens (create, revoke, check); confirming an address
(at sign-up, and when a member changes it); deleting an account without taking other
members' replies with it."""

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.db import transaction
from django.db.models.signals import pre_delete
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone

from .emails import mail_send
from .models import ApiToken, UnconfirmedEmail

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


# Addresses ---------------------------------------------------------------------------------

CONFIRM_SALT = "dailypapers.accounts.email-confirm"
CONFIRM_MAX_AGE = dt.timedelta(days=3)


class AccountError(ValueError):
    """A request about an account that cannot be honoured; the message is meant for the
    member."""


def email_is_confirmed(user):
    return not UnconfirmedEmail.objects.filter(user=user).exists()


def confirmed_owner(email, *, exclude=None):
    """The account whose confirmed address `email` is, if any: a confirmed address belongs
    to one account; an unconfirmed one proves nothing and holds no address against others."""
    owners = get_user_model().objects.filter(email__iexact=email, unconfirmed_email__isnull=True)
    if exclude is not None:
        owners = owners.exclude(pk=exclude.pk)
    return owners.order_by("pk").first()


def _confirm_link(user, email, *, old=None):
    data = {"u": user.pk, "e": email}
    if old is not None:
        data["o"] = old
    token = signing.dumps(data, salt=CONFIRM_SALT, compress=True)
    return settings.SITE_URL + reverse("accounts:email-confirm", args=[token])


def _send_confirmation(user, email, *, attempt, old=None):
    """Mail `email` the link that confirms it for `user`; or, when it is another account's
    confirmed address, tell that account's owner instead (the person who typed it sees the
    same page either way: sign-up reveals no address). False when the mail could not go."""
    owner = confirmed_owner(email, exclude=user)
    if owner is not None:
        context = {"owner": owner, "attempt": attempt}
        return mail_send("address_in_use", to=owner.email, context=context)
    context = {
        "user": user,
        "link": _confirm_link(user, email, old=old),
        "days": CONFIRM_MAX_AGE.days,
    }
    return mail_send("change" if old is not None else "confirm", to=email, context=context)


def email_mark_unconfirmed(*, user):
    """A new account's address is unconfirmed until its owner opens the link we mail it."""
    UnconfirmedEmail.objects.get_or_create(user=user)


def confirmation_send(*, user):
    """Mail the link to the account's unconfirmed address (at sign-up, and again on
    /settings); False when the mail could not go."""
    if email_is_confirmed(user):
        raise AccountError("Your address is confirmed already.")
    return _send_confirmation(user, user.email, attempt="signup")


def email_change_request(*, user, email):
    """Mail `email` a link that makes it the account's address when opened; until then the
    account keeps its address. The current address, when confirmed, is told."""
    email = get_user_model().objects.normalize_email(email.strip())
    if email.lower() == user.email.lower():
        raise AccountError("That is the address your account has already.")
    sent = _send_confirmation(user, email, attempt="change", old=user.email)
    if user.email and email_is_confirmed(user):
        mail_send("change_notice", to=user.email, context={"user": user, "new_email": email})
    return sent


def confirmation_read(token):
    """(user, address, previous address or None) of a confirmation link, or AccountError."""
    broken = AccountError(
        "This link does not work: it is incomplete or older than "
        f"{CONFIRM_MAX_AGE.days} days. Sign in and ask for a new one on your settings page."
    )
    try:
        data = signing.loads(token, salt=CONFIRM_SALT, max_age=CONFIRM_MAX_AGE)
        user = get_user_model().objects.get(pk=data["u"], is_active=True)
        email, old = str(data["e"]), data.get("o")
    except (signing.BadSignature, KeyError, TypeError, ValueError, AttributeError):
        raise broken from None
    except get_user_model().DoesNotExist:
        raise AccountError("This link is for an account that no longer exists.") from None
    return user, email, old


def email_confirm(*, token):
    """Open a confirmation link: the sign-up's address is confirmed, or the new address
    replaces the old one. Returns (user, address); AccountError when the link cannot apply."""
    user, email, old = confirmation_read(token)
    with transaction.atomic():
        user = get_user_model().objects.select_for_update().get(pk=user.pk)
        done = user.email.lower() == email.lower() and email_is_confirmed(user)
        if done:
            return user, email
        if old is None and user.email.lower() != email.lower():
            raise AccountError(
                "This link is for an address your account no longer has; nothing changed."
            )
        if old is not None and user.email.lower() != old.lower():
            raise AccountError(
                "Your account's address changed since this link was sent; nothing changed. "
                "Ask for a new link on your settings page."
            )
        if confirmed_owner(email, exclude=user) is not None:
            raise AccountError("This address belongs to another account now; nothing changed.")
        if old is not None:
            user.email = email
            user.save(update_fields=["email"])
        UnconfirmedEmail.objects.filter(user=user).delete()
    return user, email


# Deleting an account ---------------------------------------------------------------------


@receiver(pre_delete, sender=settings.AUTH_USER_MODEL, dispatch_uid="accounts.account_release")
def account_release(sender, instance, **kwargs):
    """Before an account goes (deleted by its owner on /settings, or by an operator in the
    admin; in the same transaction): its votes and reports go and every count they fed is
    counted again; its comments that others replied to stay, without text, as the place
    of those replies (docs/community.md); the notifications it caused, which quote it, go."""
    from dailypapers.community.services import member_comments_remove
    from dailypapers.notifications.models import Notification
    from dailypapers.papers.services import member_votes_remove

    member_votes_remove(user=instance)
    member_comments_remove(user=instance)
    Notification.objects.filter(actor=instance).delete()


def account_delete(*, user):
    """The member deletes their own account (account_release does the rest)."""
    with transaction.atomic():
        user.delete()
