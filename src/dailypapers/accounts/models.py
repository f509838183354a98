"""Personal API tokens: members authenticate programs with them (design §4, issue 5)."""

from django.conf import settings
from django.db import models


class ApiToken(models.Model):
    """A bearer token; only its SHA-256 is stored, the secret is shown once at creation."""

    class Scope(models.TextChoices):
        READ = "read", "Read your personal feeds (For you)"
        VOTE = "vote", "Upvote and un-upvote papers"
        SUBMIT = "submit", "Submit papers"
        SUBSCRIPTIONS = "subscriptions", "Manage subscriptions and followed topics"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12)  # shown in lists so members can tell tokens apart
    digest = models.CharField(max_length=64, unique=True)  # sha256 hex of the whole token
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.user} / {self.name} ({self.prefix}…)"

    @property
    def is_active(self):
        return self.revoked_at is None


class Throttle(models.Model):
    """One counter of attempts (accounts/throttle.py): a limit's name and a hash of who."""

    bucket = models.CharField(max_length=80, primary_key=True)
    hits = models.PositiveIntegerField()
    expires_at = models.FloatField(db_index=True)  # Unix time: plain numbers in raw SQL

    def __str__(self):
        return f"{self.bucket}: {self.hits}"


class UnconfirmedEmail(models.Model):
    """The member's address (User.email) is not confirmed yet: a sign-up's, until its owner
    opens the link we mailed. We mail it nothing but that link, not even a password reset.
    Accounts without a row are confirmed: those from before confirmation existed, and those
    an operator made (createsuperuser, the admin). See docs/security.md."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="unconfirmed_email",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.user} (address not confirmed)"
