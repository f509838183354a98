"""Discussion of papers: members' comments, plain text, hidden by moderators in the admin."""

from django.conf import settings
from django.db import models

from dailypapers.papers.models import Paper

MAX_COMMENT_LENGTH = 5000


class CommentQuerySet(models.QuerySet):
    def visible(self):
        return self.filter(hidden=False)


class Comment(models.Model):
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="comments")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="comments"
    )
    # Plain text; templates escape it and keep line breaks. No markup, so nothing to sanitise.
    body = models.TextField(max_length=MAX_COMMENT_LENGTH)
    created_at = models.DateTimeField(auto_now_add=True)
    hidden = models.BooleanField(default=False, help_text="Hidden comments are shown to no one.")

    objects = CommentQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["paper", "created_at"], name="comment_paper")]
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.user} on {self.paper.arxiv_id}: {self.body[:60]}"
