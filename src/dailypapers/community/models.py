"""Discussion of papers: threaded Markdown comments, their votes, members' reports, bans.

A comment keeps its Markdown source (`body`) and the sanitised HTML rendered from it
(`body_html`, see markdown.py), made once when it is written, never per page view.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from dailypapers.papers.models import Paper

MAX_COMMENT_LENGTH = 5000


class CommentQuerySet(models.QuerySet):
    def visible(self):
        """What readers see: neither hidden by a moderator nor deleted by its author."""
        return self.filter(hidden=False, deleted_at__isnull=True)


class Comment(models.Model):
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="comments")
    # Empty once its author deleted their account: the comment stays, without its text, as
    # the place of the replies to it (accounts/services.py, docs/community.md).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="comments",
    )
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="replies"
    )
    body = models.TextField(max_length=MAX_COMMENT_LENGTH, help_text="Markdown, as written.")
    body_html = models.TextField(blank=True, help_text="Rendered and sanitised (markdown.py).")
    created_at = models.DateTimeField(auto_now_add=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(
        null=True, blank=True, help_text="Deleted by its author; kept so replies keep their place."
    )
    hidden = models.BooleanField(default=False, help_text="Hidden comments are shown to no one.")
    upvotes = models.PositiveIntegerField(default=0)
    downvotes = models.PositiveIntegerField(default=0)
    # Wilson lower bound of the share of upvotes (services.wilson_lower_bound): threads sort on it.
    score = models.FloatField(default=0.0)

    objects = CommentQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["paper", "created_at"], name="comment_paper")]
        ordering = ["created_at", "pk"]
        permissions = [("moderate_comment", "Hide and restore comments, ban members")]

    def __str__(self):
        who = self.user if self.user_id else "[deleted account]"
        return f"{who} on {self.paper.arxiv_id}: {self.body[:60]}"

    def get_absolute_url(self):
        return f"{self.paper.get_absolute_url()}#comment-{self.pk}"

    @property
    def is_visible(self):
        return not self.hidden and self.deleted_at is None


class CommentVote(models.Model):
    """One row per member and comment: +1 (up) or -1 (down)."""

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="votes")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="comment_votes"
    )
    value = models.SmallIntegerField(choices=[(1, "up"), (-1, "down")])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["comment", "user"], name="comment_vote_once"),
            models.CheckConstraint(condition=Q(value__in=[1, -1]), name="comment_vote_value"),
        ]
        indexes = [models.Index(fields=["user", "created_at"], name="comment_vote_user")]

    def __str__(self):
        return f"{self.user} {'+' if self.value > 0 else '-'}1 on comment {self.comment_id}"


class CommentReport(models.Model):
    """A member flags a comment for the moderators (the queue in the admin)."""

    class Reason(models.TextChoices):
        SPAM = "spam", "Spam or advertising"
        ABUSE = "abuse", "Harassment or abuse"
        OFF_TOPIC = "off_topic", "Off topic"
        OTHER = "other", "Something else"

    class Outcome(models.TextChoices):
        HIDDEN = "hidden", "Comment hidden"
        DISMISSED = "dismissed", "Dismissed"

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="comment_reports"
    )
    reason = models.CharField(max_length=20, choices=Reason.choices)
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["comment", "reporter"], name="comment_report_once")
        ]
        indexes = [
            models.Index(
                fields=["created_at"], condition=Q(resolved_at__isnull=True), name="report_open"
            )
        ]

    def __str__(self):
        return f"{self.get_reason_display()} on comment {self.comment_id} by {self.reporter}"


class Ban(models.Model):
    """A member who may not comment, vote on comments or report (until `until`, if set)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="community_ban"
    )
    reason = models.CharField(max_length=500, blank=True)
    until = models.DateTimeField(null=True, blank=True, help_text="Empty: for good.")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    def __str__(self):
        return f"{self.user} banned" + (f" until {self.until:%Y-%m-%d}" if self.until else "")
