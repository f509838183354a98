"""Writes on subscriptions and follows: subscribe (double opt-in), confirm, unsubscribe,
preferences, members' follows. Digest sending lives in sending.py.

Tokens are signed with django.core.signing. A confirmation token carries the subscription,
the address and a timestamp (it expires); a manage/unsubscribe token carries the
subscription and a hash of its address, so it never expires but dies when the address
changes, and a token for another address does nothing.
"""

import base64
import functools
import hashlib
import hmac
import json
import re
import time
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from dailypapers.accounts.throttle import Limit, throttle_hit, throttle_wait

from .models import Follow, Subscription

MAX_FOLLOWS = 20
MAX_FOLLOW_LENGTH = 200
CONFIRM_SALT = "dailypapers.digests.confirm"
MANAGE_SALT = "dailypapers.digests.manage"
CATEGORY_RE = re.compile(r"^[a-z-]+(\.[A-Za-z-]+)?$")
# arXiv's archives (the part before the dot of cs.CL): a category outside them is a typo
# whose feed would stay empty forever, unless a paper here is filed under it (an old one).
ARXIV_ARCHIVES = frozenset(
    "astro-ph cond-mat cs econ eess gr-qc hep-ex hep-lat hep-ph hep-th math math-ph nlin "
    "nucl-ex nucl-th physics q-bio q-fin quant-ph stat".split()
)
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


# --- Input ----------------------------------------------------------------------------


def email_normalize(raw):
    """A clean lower-case address, or ValidationError with a message for the person."""
    value = (raw or "").strip()
    if not value:
        raise ValidationError("Enter your email address.")
    if len(value) > 254:
        raise ValidationError("That email address is too long (254 characters at most).")
    if CONTROL_RE.search(value):
        raise ValidationError("An email address cannot contain line breaks or control characters.")
    try:
        validate_email(value)
    except ValidationError:
        raise ValidationError("Enter a valid email address, like name@example.org.") from None
    return value.lower()


CATEGORY_QUERY_RE = re.compile(r"^cat:(\S+)$", re.IGNORECASE)
AUTHOR_QUERY_RE = re.compile(r'^au:"([^"]+)"$', re.IGNORECASE)


def follow_of_query(query):
    """(kind, value) that following the search `query` means: a search for one category
    (`cat:cs.RO`) or one author (`au:"Fei Huang"`) follows that category or author, so For
    you and digests name it in words, not as a topic spelt in the search's syntax."""
    query = " ".join(str(query or "").split())
    category = CATEGORY_QUERY_RE.match(query)
    if category and _is_category(category.group(1)):
        return Follow.Kind.CATEGORY, category.group(1)
    author = AUTHOR_QUERY_RE.match(query)
    if author and author.group(1).strip():
        return Follow.Kind.AUTHOR, " ".join(author.group(1).split())
    return Follow.Kind.TOPIC, query


def follow_clean(kind, value):
    """(kind, value) normalised, or ValidationError."""
    if kind not in Follow.Kind.values:
        raise ValidationError(f"Unknown kind of follow: {str(kind)[:20]!r}.")
    value = " ".join(str(value or "").split())
    if kind == Follow.Kind.TOPIC:
        kind, value = follow_of_query(value)
    if CONTROL_RE.search(value):
        raise ValidationError("Topics cannot contain control characters.")
    if not value:
        raise ValidationError(f"The {kind} is empty.")
    if len(value) > MAX_FOLLOW_LENGTH:
        raise ValidationError(f"A {kind} can be {MAX_FOLLOW_LENGTH} characters at most.")
    if kind == Follow.Kind.CATEGORY:
        if not _is_category(value):
            raise ValidationError(f"{value!r} is not an arXiv category such as cs.CL or math.")
    if kind == Follow.Kind.ORG:
        value = _organization_handle(value)
    return kind, value


def _is_category(value):
    from dailypapers.papers.models import Paper

    if not CATEGORY_RE.match(value):
        return False
    archive = value.split(".")[0]
    return archive in ARXIV_ARCHIVES or Paper.objects.filter(primary_category=value).exists()


def _organization_handle(value):
    """The stored handle of the organisation called `value` (handle or full name)."""
    from dailypapers.papers.models import Organization

    found = Organization.objects.filter(name__iexact=value).first()
    found = found or Organization.objects.filter(fullname__iexact=value).first()
    if found is None:
        raise ValidationError(f"We know no organisation called {value!r}.")
    return found.name


def follows_parse(*, topics="", authors="", categories="", organizations=""):
    """Follows typed in a form: one per line (categories may also be comma-separated)."""
    wanted = []
    for kind, text in (
        (Follow.Kind.TOPIC, topics),
        (Follow.Kind.AUTHOR, authors),
        (Follow.Kind.CATEGORY, (categories or "").replace(",", "\n")),
        (Follow.Kind.ORG, organizations),
    ):
        for line in (text or "").splitlines():
            if line.strip():
                wanted.append(follow_clean(kind, line))
    unique = list(dict.fromkeys(wanted))
    if len(unique) > MAX_FOLLOWS:
        raise ValidationError(f"You can follow {MAX_FOLLOWS} things at most.")
    return unique


# --- Tokens ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _hmac_of(key_salt, secret):
    """An HMAC-SHA256 keyed as django.utils.crypto.salted_hmac keys it, to be copied: that
    function derives its key again for every value (a digest run signs two per mail)."""
    return hmac.new(hashlib.sha256((key_salt + secret).encode()).digest(), digestmod="sha256")


def _salted_hmac(key_salt, value):
    mac = _hmac_of(key_salt, settings.SECRET_KEY).copy()
    mac.update(value.encode())
    return mac


def _email_hash(email):
    # = salted_hmac(MANAGE_SALT, email, algorithm="sha256").hexdigest()[:16]
    return _salted_hmac(MANAGE_SALT, email).hexdigest()[:16]


def confirm_token(subscription, email):
    return signing.dumps({"s": subscription.pk, "e": email}, salt=CONFIRM_SALT, compress=True)


def manage_token(subscription):
    """signing.dumps({"s": pk, "h": hash of the address}, salt=MANAGE_SALT), the same
    string built without its signer objects and serializer per call (a digest run makes
    one per mail); signing.loads reads it, so links of either form keep working."""
    data = {"s": subscription.pk, "h": _email_hash(subscription.email)}
    value = f"{_b64(json.dumps(data, separators=(',', ':')).encode('latin-1'))}:"
    value += signing.b62_encode(int(time.time()))
    signature = _salted_hmac(MANAGE_SALT + "signer", value).digest()
    return f"{value}:{_b64(signature)}"


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def subscription_from_manage_token(token):
    """The subscription a manage/unsubscribe token is for, or None (tampered, other address)."""
    try:
        data = signing.loads(token, salt=MANAGE_SALT)
        subscription = Subscription.objects.get(pk=data["s"])
    except (signing.BadSignature, Subscription.DoesNotExist, KeyError, TypeError, ValueError):
        return None
    if not subscription.email or data.get("h") != _email_hash(subscription.email):
        return None
    return subscription


@functools.cache
def _path_before_token(name):
    # reverse() costs milliseconds on a large URLconf; digests need two links per mail.
    return reverse(name, args=["TOKEN"]).removesuffix("TOKEN")


def manage_url(subscription, token=None):
    token = token or manage_token(subscription)
    return settings.SITE_URL + _path_before_token("digests:manage") + token


def unsubscribe_url(subscription, token=None):
    token = token or manage_token(subscription)
    return settings.SITE_URL + _path_before_token("digests:unsubscribe") + token


def confirm_url(subscription, email):
    return settings.SITE_URL + reverse("digests:confirm", args=[confirm_token(subscription, email)])


# --- Subscribing ----------------------------------------------------------------------


@dataclass(frozen=True)
class Requested:
    """What a subscription request did: a mail is queued (mailed), or one went to the
    address less than NOTIFY_INTERVAL ago and this one is held back for `wait` seconds;
    neither for a member whose active address did not change."""

    mailed: bool
    wait: int = 0
    subscribed: bool = False  # a member's own confirmed address, active at once


def _notify(subscription, kind, email):
    """Queue one mail (after commit), unless this address got one a moment ago: a form
    posted in a loop must not turn us into a mail cannon. The count is per address (the
    accounts' Throttle table, shared by every process), so an address a member has just
    typed always gets its mail, however recently their old one got one."""
    interval = settings.DIGEST_NOTIFY_INTERVAL
    if interval > 0:
        limit = Limit("digest-notify", 1, interval)
        if throttle_hit(limit, email) > limit.attempts:
            return Requested(mailed=False, wait=max(1, throttle_wait(limit, email)))
    Subscription.objects.filter(pk=subscription.pk).update(notified_at=timezone.now())
    from .tasks import send_subscription_mail

    transaction.on_commit(lambda: send_subscription_mail.enqueue(subscription.pk, kind, email))
    return Requested(mailed=True)


def subscription_request(*, email, frequency, follows=(), user=None):
    """Someone asks for digests at `email`. Always looks the same from outside: at most
    one mail goes out (a confirmation, or a "manage your subscription" link when the
    address is already subscribed) and nothing about the address is revealed.

    A new address gets a pending subscription with the chosen frequency and follows; an
    existing one keeps its settings (changes go through its own manage link). A member's
    subscription takes the address once it is confirmed. Returns a Requested.
    """
    email = email_normalize(email)
    if frequency not in (Subscription.Frequency.DAILY, Subscription.Frequency.WEEKLY):
        raise ValidationError("Choose daily or weekly.")
    follows = list(follows)
    with transaction.atomic():
        existing = Subscription.objects.select_for_update().filter(email=email).first()
        if user is not None and user.is_authenticated:
            # Members manage their own subscription directly; only a new address needs
            # confirming.
            mine = _member_subscription(user, frequency=frequency)
            mine.frequency = frequency
            mine.save(update_fields=["frequency"])
            if follows:
                _follows_replace(mine, follows)
            if mine.email == email and mine.status == Subscription.Status.ACTIVE:
                return Requested(mailed=False)
            if _owns_confirmed(user, email, mine) and _activate(mine, email):
                return Requested(mailed=False, subscribed=True)
            return _notify(mine, "confirm", email)
        if existing is None:
            try:
                with transaction.atomic():
                    existing = Subscription.objects.create(email=email, frequency=frequency)
            except IntegrityError:  # a concurrent request created it
                existing = Subscription.objects.get(email=email)
            else:
                _follows_replace(existing, follows)
                return _notify(existing, "confirm", email)
        if existing.status == Subscription.Status.ACTIVE:
            return _notify(existing, "manage", email)
        if existing.status != Subscription.Status.PENDING:  # unsubscribed or bouncing
            # Coming back is a fresh start, confirmed like the first time.
            existing.frequency = frequency
            existing.save(update_fields=["frequency"])
        return _notify(existing, "confirm", email)


def _owns_confirmed(user, email, subscription):
    """The member's account address is `email` and its owner confirmed it by our link, and
    no bounce stopped mail to it: that is what a digest confirmation would prove again."""
    from dailypapers.accounts.services import email_is_confirmed

    bouncing = Subscription.Status.BOUNCING
    return (
        (user.email or "").strip().lower() == email
        and email_is_confirmed(user)
        and subscription.status != bouncing
        and not Subscription.objects.filter(email=email, status=bouncing).exists()
    )


def subscription_confirm(*, token):
    """Confirm from a signed, unexpired link; None when the link is bad or expired."""
    try:
        data = signing.loads(token, salt=CONFIRM_SALT, max_age=settings.DIGEST_CONFIRM_MAX_AGE)
        pk, email = int(data["s"]), email_normalize(data["e"])
    except (signing.BadSignature, KeyError, TypeError, ValueError, ValidationError):
        return None
    with transaction.atomic():
        subscription = Subscription.objects.select_for_update().filter(pk=pk).first()
        if subscription is None or not _activate(subscription, email):
            return None
    return subscription


def _activate(subscription, email):
    """Make `subscription` active at the proven address `email`; False when it cannot be."""
    other = Subscription.objects.filter(email=email).exclude(pk=subscription.pk).first()
    if other is not None:
        # A member proved they own an address that had an anonymous subscription:
        # the member's subscription takes it over, with the other one's follows.
        if other.user_id is not None:
            return False
        for follow in other.follows.all():
            Follow.objects.get_or_create(
                subscription=subscription, kind=follow.kind, value=follow.value
            )
        other.delete()
    elif subscription.email and subscription.email != email and subscription.user is None:
        return False  # an anonymous subscription never changes address
    subscription.email = email
    subscription.status = Subscription.Status.ACTIVE
    subscription.confirmed_at = subscription.confirmed_at or timezone.now()
    subscription.unsubscribed_at = None
    subscription.bounce_count = 0
    if subscription.frequency == Subscription.Frequency.OFF:
        subscription.frequency = Subscription.Frequency.DAILY
    subscription.save()
    return True


def subscription_unsubscribe(*, subscription):
    """Stop all digests at once (one-click from the mail, or the manage page)."""
    Subscription.objects.filter(pk=subscription.pk).update(
        status=Subscription.Status.UNSUBSCRIBED, unsubscribed_at=timezone.now()
    )
    subscription.refresh_from_db()
    return subscription


def subscription_update(*, subscription, frequency, include_trending, follows):
    if frequency not in Subscription.Frequency.values:
        raise ValidationError("Choose daily, weekly or no email.")
    with transaction.atomic():
        subscription.frequency = frequency
        subscription.include_trending = bool(include_trending)
        subscription.save(update_fields=["frequency", "include_trending"])
        _follows_replace(subscription, follows)
    return subscription


def _follows_replace(subscription, follows):
    follows = list(dict.fromkeys(follows))
    keep = set(follows)
    for follow in subscription.follows.all():
        if (follow.kind, follow.value) not in keep:
            follow.delete()
    existing = set(subscription.follows.values_list("kind", "value"))
    Follow.objects.bulk_create(
        [
            Follow(subscription=subscription, kind=k, value=v)
            for k, v in follows
            if (k, v) not in existing
        ]
    )


# --- Members ------------------------------------------------------------------------


def _member_subscription(user, *, frequency):
    subscription, _ = Subscription.objects.get_or_create(
        user=user, defaults={"frequency": frequency, "status": Subscription.Status.PENDING}
    )
    return subscription


def follow_add(*, user, kind, value):
    """A member follows a topic, author or category. Their subscription is created on the
    first follow with no email ("off") until they ask for digests on /subscribe."""
    kind, value = follow_clean(kind, value)
    subscription = _member_subscription(user, frequency=Subscription.Frequency.OFF)
    if subscription.follows.count() >= MAX_FOLLOWS:
        raise ValidationError(f"You can follow {MAX_FOLLOWS} things at most.")
    follow, _ = Follow.objects.get_or_create(subscription=subscription, kind=kind, value=value)
    return follow


def follow_remove(*, user, kind, value):
    value = " ".join(str(value).split())
    wanted = Q(kind=kind, value=value)  # as stored: a topic "cat:cs.RO" followed long ago
    if kind == Follow.Kind.TOPIC:
        meant_kind, meant_value = follow_of_query(value)  # as following it stores it now
        wanted |= Q(kind=meant_kind, value=meant_value)
    deleted, _ = Follow.objects.filter(wanted, subscription__user=user).delete()
    return bool(deleted)
