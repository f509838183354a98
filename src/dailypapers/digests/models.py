"""Subscriptions to the digest, what they follow, and one Delivery per digest owed.

A Delivery row exists for every (subscription, period) a digest is owed for, and a unique
constraint makes it the single place where "was this digest sent?" is decided: a worker
claims it with a conditional UPDATE before sending and marks it after (services.py).
"""

import calendar

from django.conf import settings
from django.db import models
from django.db.models import Q

from dailypapers.papers.models import Paper


def weekly_schedule():
    """ "Mondays, the week before", on the weekday the weekly digest goes out."""
    day = calendar.day_name[(settings.DIGEST_WEEKLY_DAY - 1) % 7]
    return f"{day}s, the week before"


class Subscription(models.Model):
    class Frequency(models.TextChoices):
        DAILY = "daily", "Daily (weekdays, after the arXiv announcement)"
        WEEKLY = "weekly", "Weekly (Mondays, the week before)"
        OFF = "off", "No email"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for confirmation"
        ACTIVE = "active", "Confirmed"
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
        BOUNCING = "bouncing", "Bouncing (no more mail)"

    # Lower-cased; "" for a member who follows things but has not given an address yet.
    email = models.CharField(max_length=254, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="digest_subscription",
    )
    frequency = models.CharField(max_length=10, choices=Frequency.choices, default=Frequency.DAILY)
    status = models.CharField(max_length=14, choices=Status.choices, default=Status.PENDING)
    include_trending = models.BooleanField(
        default=True, help_text="Start each digest with the period's top trending papers."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    # When the last confirmation / "manage your subscription" mail went out (shown in the
    # admin; the throttle counts per address: services._notify).
    notified_at = models.DateTimeField(null=True, blank=True)
    # Consecutive permanent failures (5xx), reset by a successful delivery; or, with a
    # bounce address (VERP), soft bounces reported back (bounces.py).
    bounce_count = models.PositiveSmallIntegerField(default=0)
    last_bounce_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["email"], condition=~Q(email=""), name="subscription_email_once"
            )
        ]
        indexes = [models.Index(fields=["status", "frequency"], name="subscription_due")]

    def __str__(self):
        return self.email or f"member {self.user_id} (no address)"

    @property
    def schedule(self):
        """When the digest goes out, in words: "weekly: Mondays, the week before"."""
        if self.frequency == self.Frequency.DAILY:
            return "daily: weekdays, after the arXiv announcement"
        if self.frequency == self.Frequency.WEEKLY:
            return f"weekly: {weekly_schedule()}"
        return "no email"

    @property
    def receives_mail(self):
        return (
            self.status == self.Status.ACTIVE
            and self.frequency != self.Frequency.OFF
            and bool(self.email)
        )


class Follow(models.Model):
    """Something a subscriber wants new papers about: a topic (saved search), an author, an
    arXiv category or an organisation (its handle, Organization.name)."""

    class Kind(models.TextChoices):
        TOPIC = "topic", "Topic"
        AUTHOR = "author", "Author"
        CATEGORY = "category", "Category"
        ORG = "org", "Organisation"

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="follows")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    value = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "value"]
        constraints = [
            models.UniqueConstraint(fields=["subscription", "kind", "value"], name="follow_once")
        ]

    def __str__(self):
        return f"{self.kind}: {self.value}"


class Delivery(models.Model):
    """The digest owed to one subscription for one period (a day "2026-11-27" or an ISO
    week "2026-W48")."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"  # to send (again, from next_attempt_at)
        SENDING = "sending", "Claimed by a worker"
        SENT = "sent", "Sent"
        EMPTY = "empty", "Nothing new: no mail"
        SKIPPED = "skipped", "Skipped (unsubscribed or bouncing meanwhile)"
        BOUNCED = "bounced", "Refused permanently (5xx)"
        FAILED = "failed", "Gave up after retries"

    # No index of its own: the unique (subscription, period) index starts with it.
    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    period = models.CharField(max_length=10)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=64, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    message_id = models.CharField(max_length=200, blank=True)
    num_papers = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["subscription", "period"], name="delivery_once")
        ]
        indexes = [models.Index(fields=["period", "status"], name="delivery_work")]

    def __str__(self):
        return f"{self.period} → {self.subscription_id}: {self.status}"


class SentPaper(models.Model):
    """A paper that went out to a subscription, so that it never goes out to it again."""

    # No index of its own: the unique constraint's index starts with it (one B-tree less
    # to update for each of the dozen rows a sent digest writes).
    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="sent_papers", db_index=False
    )
    # No index by paper either: a digest's papers would land on a dozen different pages of
    # it, a dozen page writes more per mail, and only deleting a paper (rare) reads by it.
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="+", db_index=False)
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="papers")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["subscription", "paper"], name="sentpaper_once")
        ]

    def __str__(self):
        return f"{self.paper_id} → {self.subscription_id}"
