"""Mail that comes back: bounces of digests and mails to the List-Unsubscribe address.

With DIGEST_BOUNCE_ADDRESS set (say `bounces@mail.example.org`), each digest goes out with
its own return path (VERP): `bounces+b-<subscription>-<delivery>-<mac>@mail.example.org`,
and its List-Unsubscribe mailto is `bounces+u-<subscription>-<mac>@mail.example.org`. The
mac is an HMAC of the ids and the subscriber's current address, so a bounce names its
subscriber without parsing the failed message, and nobody can name another subscriber.

`mail_receive()` acts on one incoming message and the addresses it was delivered to
(`dailypapers mail receive` for an MTA pipe, `dailypapers mail serve` as an LMTP/SMTP
endpoint):

- a delivery status notification (RFC 3464) to a digest's return path: `failed` with a
  5.x.x status marks the subscription bouncing at once (hard bounce); `failed` with 4.x.x
  (the MTA gave up after retrying) counts a soft bounce, and DIGEST_BOUNCE_LIMIT of them,
  each within BOUNCE_STALE of the previous one, mark it bouncing; `delayed`, `delivered`
  and the like change nothing;
- any message to an unsubscribe address unsubscribes that subscriber;
- anything else (no such address, a wrong mac, not a DSN, a malformed DSN) is logged and
  dropped: it changes nothing and is never an error, so the MTA never retries it.
"""

import datetime as dt
import email
import email.policy
import email.utils
import logging
import re

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from .models import Delivery, Subscription

log = logging.getLogger(__name__)
VERP_SALT = "dailypapers.digests.verp"
# Soft bounces further apart than this start counting again (a mailbox full once a month
# is not a dead address).
BOUNCE_STALE = dt.timedelta(days=7)
# b-<subscription>-<delivery>-<mac> or u-<subscription>-<mac>, after the "+" of the
# local part; lower case (some MTAs lower-case local parts).
VERP_RE = re.compile(r"\+(?P<kind>[bu])-(?P<ids>\d+(?:-\d+)?)-(?P<mac>[0-9a-f]{16})@", re.I)
STATUS_RE = re.compile(r"^([245])\.\d{1,3}\.\d{1,3}$")


def _mac(kind, ids, address):
    return salted_hmac(VERP_SALT, f"{kind}-{ids}-{address}", algorithm="sha256").hexdigest()[:16]


def _verp(kind, ids, address):
    local, _, domain = settings.DIGEST_BOUNCE_ADDRESS.rpartition("@")
    return f"{local}+{kind}-{ids}-{_mac(kind, ids, address)}@{domain}"


def return_path(subscription, delivery_id):
    """The envelope sender of one digest, or "" without DIGEST_BOUNCE_ADDRESS."""
    if not settings.DIGEST_BOUNCE_ADDRESS:
        return ""
    return _verp("b", f"{subscription.pk}-{delivery_id}", subscription.email)


def unsubscribe_address(subscription):
    """The List-Unsubscribe mailto of one subscriber, or "" without DIGEST_BOUNCE_ADDRESS."""
    if not settings.DIGEST_BOUNCE_ADDRESS:
        return ""
    return _verp("u", str(subscription.pk), subscription.email)


def address_parse(recipient):
    """(kind, subscription, delivery id or None) for one of our VERP addresses with a valid
    mac for the subscriber's current address; None for anything else."""
    match = VERP_RE.search(recipient or "")
    if not match:
        return None
    kind, ids, mac = match["kind"].lower(), match["ids"], match["mac"].lower()
    numbers = [int(part) for part in ids.split("-")]
    if (kind == "b") != (len(numbers) == 2):
        return None
    subscription = Subscription.objects.filter(pk=numbers[0]).first()
    if subscription is None or not subscription.email:
        return None
    if not constant_time_compare(mac, _mac(kind, ids, subscription.email)):
        return None
    return kind, subscription, numbers[1] if kind == "b" else None


def dsn_recipients(message):
    """[(action, status, diagnostic), ...] of an RFC 3464 report; None when `message` is
    not one (another kind of mail, or a report without a delivery-status part)."""
    if message.get_content_type() != "multipart/report":
        return None
    if (message.get_param("report-type") or "").lower() != "delivery-status":
        return None
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        fields = part.get_payload()
        if not isinstance(fields, list):
            return None
        # The first group is about the message, the others one per recipient.
        return [
            (
                str(group.get("Action", "")).strip().lower(),
                str(group.get("Status", "")).strip(),
                " ".join(str(group.get("Diagnostic-Code", "")).split()),
            )
            for group in fields[1:]
            if group.get("Action")
        ]
    return None


def _bounce_kind(recipients):
    """ "hard", "soft" or None (nothing failed, or no well-formed failure)."""
    kinds = set()
    for action, status, _ in recipients:
        match = STATUS_RE.match(status)
        if action == "failed" and match:
            kinds.add("hard" if match[1] == "5" else "soft")
    return "hard" if "hard" in kinds else ("soft" if kinds else None)


def bounce_record(*, subscription, delivery, kind, error):
    """One bounce of `delivery`: hard marks the subscription bouncing, soft counts. A
    second report about the same delivery changes nothing (MTAs may send it twice)."""
    now = timezone.now()
    with transaction.atomic():
        marked = Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.SENT).update(
            status=Delivery.Status.BOUNCED, error=error[:2000]
        )
        if not marked:
            return "duplicate"
        fresh = subscription.last_bounce_at and now - subscription.last_bounce_at < BOUNCE_STALE
        count = F("bounce_count") + 1 if fresh else 1
        Subscription.objects.filter(pk=subscription.pk).update(
            bounce_count=count, last_bounce_at=now, last_error=error[:2000]
        )
        limit = 1 if kind == "hard" else settings.DIGEST_BOUNCE_LIMIT
        Subscription.objects.filter(
            pk=subscription.pk, status=Subscription.Status.ACTIVE, bounce_count__gte=limit
        ).update(status=Subscription.Status.BOUNCING)
    return f"{kind} bounce"


def _handle_bounce(message, subscription, delivery_id):
    recipients = dsn_recipients(message)
    if recipients is None:
        return "not a delivery status notification: dropped"
    kind = _bounce_kind(recipients)
    if kind is None:
        actions = ", ".join(sorted({action or "none" for action, _, _ in recipients}))
        return f"report without a failure ({actions or 'no recipient'}): dropped"
    delivery = Delivery.objects.filter(pk=delivery_id, subscription=subscription).first()
    if delivery is None:
        return "no such digest: dropped"
    status = next(status for action, status, _ in recipients if action == "failed")
    diagnostic = next((d for action, _, d in recipients if action == "failed" and d), "")
    error = f"bounce {status}: {diagnostic}".strip()
    return bounce_record(subscription=subscription, delivery=delivery, kind=kind, error=error)


def _handle_unsubscribe(subscription):
    from .services import subscription_unsubscribe

    if subscription.status == Subscription.Status.UNSUBSCRIBED:
        return "already unsubscribed"
    subscription_unsubscribe(subscription=subscription)
    return "unsubscribed"


def mail_receive(raw, recipients):
    """Act on one incoming message (bytes) delivered to `recipients`; returns one line per
    recipient saying what was done. Never raises for bad input; database errors do raise
    (the caller asks the MTA to try again later)."""
    try:
        message = email.message_from_bytes(raw, policy=email.policy.compat32)
    except Exception as exc:  # the parser is lenient; this is a last resort
        log.warning("incoming mail: unreadable (%s): dropped", exc)
        return ["unreadable: dropped"]
    outcomes = []
    for recipient in recipients or [""]:
        parsed = address_parse(recipient)
        if parsed is None:
            outcome = "not one of our addresses, or a wrong signature: dropped"
        else:
            kind, subscription, delivery_id = parsed
            if kind == "u":
                outcome = _handle_unsubscribe(subscription)
            else:
                outcome = _handle_bounce(message, subscription, delivery_id)
        log.info("incoming mail to %s: %s", recipient or "(no recipient)", outcome)
        outcomes.append(outcome)
    return outcomes


def recipients_from(message_bytes, environ):
    """Where a piped message was delivered: the MTA's environment (Postfix's local(8) sets
    ORIGINAL_RECIPIENT and RECIPIENT, Exim's pipe transport RECIPIENT), else the
    Delivered-To / X-Original-To / To headers; the first of our addresses among them."""
    candidates = [
        environ[name] for name in ("ORIGINAL_RECIPIENT", "RECIPIENT") if environ.get(name)
    ]
    head = re.split(rb"\r?\n\r?\n", message_bytes, maxsplit=1)[0]
    headers = email.message_from_bytes(head, policy=email.policy.compat32)
    for name in ("Delivered-To", "X-Original-To", "To"):
        values = [str(value) for value in headers.get_all(name) or []]
        candidates += [address for _, address in email.utils.getaddresses(values) if address]
    ours = [address for address in candidates if VERP_RE.search(address)]
    return (ours or candidates)[:1]
