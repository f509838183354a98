"""On-site notifications: replies to your comments, mentions of you, new papers by authors
you follow, how a submission that waited for arXiv ended. Shown on /notifications with an
unread count in the menu, and put into the member's next digest. A member whom no digest
reaches gets replies and mentions in a notification mail instead (services.py,
`notification_mails_send`), unless they turned it off (`MailPreference`).

A reply or a mention shows the comment as it is now (`snippet`: edits show, Markdown reduced
to plain words); once the comment is deleted or hidden by a moderator, its notifications
are shown nowhere (`NotificationQuerySet.shown`), and its text was never copied here."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from dailypapers.papers.models import Paper


class NotificationQuerySet(models.QuerySet):
    def shown(self):
        """All but those about a comment deleted by its author or hidden by a moderator."""
        return self.filter(
            Q(comment__isnull=True) | Q(comment__hidden=False, comment__deleted_at__isnull=True)
        )

    def unread(self):
        return self.filter(read_at__isnull=True)

    def undigested(self):
        """Not read on the site and not yet put into a digest."""
        return self.filter(read_at__isnull=True, digested_at__isnull=True)


class Notification(models.Model):
    class Kind(models.TextChoices):
        REPLY = "reply", "Reply to your comment"
        MENTION = "mention", "Mention of you"
        AUTHOR_PAPER = "author_paper", "New paper by an author you follow"
        SUBMISSION = "submission", "A submission that waited for arXiv"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who caused it (the member who replied or mentioned); none for new papers.",
    )
    paper = models.ForeignKey(
        Paper, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    comment = models.ForeignKey(
        "community.Comment", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    text = models.CharField(
        max_length=300,
        blank=True,
        help_text="One line, plain text (empty for a comment's: `snippet` reads the comment).",
    )
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    digested_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When it went out by mail: in the member's digest or a notification mail.",
    )

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="notification_user"),
            models.Index(
                fields=["user"], condition=Q(read_at__isnull=True), name="notification_unread"
            ),
        ]
        constraints = [
            # Saving a comment twice, or re-running an ingest, never notifies twice.
            models.UniqueConstraint(
                fields=["user", "kind", "comment"],
                condition=Q(comment__isnull=False),
                name="notification_once_per_comment",
            ),
            models.UniqueConstraint(
                fields=["user", "kind", "paper"],
                condition=Q(comment__isnull=True, paper__isnull=False),
                name="notification_once_per_paper",
            ),
        ]

    def __str__(self):
        return f"{self.user}: {self.get_kind_display()} ({self.created_at:%Y-%m-%d})"

    def get_absolute_url(self):
        if self.comment_id and self.paper_id:
            return f"{self.paper.get_absolute_url()}#comment-{self.comment_id}"
        if self.paper_id:
            return self.paper.get_absolute_url()
        return "/notifications"

    @property
    def snippet(self):
        """The line under the headline: the comment's current words, plain and cut at a word
        (nothing once it is deleted or hidden); for the other kinds, `text`."""
        if self.comment_id is None:
            return "" if self.kind == self.Kind.SUBMISSION else self.text  # that is the headline
        from dailypapers.community.markdown import snippet

        return snippet(self.comment.body_html) if self.comment.is_visible else ""

    @property
    def headline(self):
        """One line saying what happened, for the page and the digest."""
        who = self.actor.username if self.actor_id else "Someone"
        on = f" on “{self.paper.plain_title}”" if self.paper_id else ""
        if self.kind == self.Kind.REPLY:
            return f"{who} replied to your comment{on}"
        if self.kind == self.Kind.MENTION:
            return f"{who} mentioned you{on}"
        if self.kind == self.Kind.SUBMISSION:
            return self.text
        return f"New paper by an author you follow: “{self.paper.plain_title}”" if on else self.text


class MailPreference(models.Model):
    """Whether replies and mentions are mailed to a member whom no digest reaches (no row:
    yes), and when the last such mail went (at most one an hour)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_mail"
    )
    enabled = models.BooleanField(
        default=True, help_text="Mail replies and mentions when no digest brings them."
    )
    last_sent_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.user}: notification mail {'on' if self.enabled else 'off'}"
