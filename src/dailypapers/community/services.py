"""Writes on the discussion: post a comment, hide or show comments (moderation)."""

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from dailypapers.papers.models import Paper
from dailypapers.papers.services import RateLimited

from .models import MAX_COMMENT_LENGTH, Comment


class CommentError(ValueError):
    """A comment that cannot be accepted; the message is meant for the member."""


def comment_post(*, user, paper, body):
    """Add a plain-text comment to `paper` and count it on the paper."""
    body = (body or "").replace("\r\n", "\n").strip()
    if not body:
        raise CommentError("Write something before posting.")
    if len(body) > MAX_COMMENT_LENGTH:
        raise CommentError(f"Comments are limited to {MAX_COMMENT_LENGTH} characters.")
    if "\x00" in body:
        raise CommentError("That comment contains characters that cannot be stored.")
    hour_ago = timezone.now() - dt.timedelta(hours=1)
    limit = getattr(settings, "COMMENTS_PER_HOUR", 30)
    if Comment.objects.filter(user=user, created_at__gte=hour_ago).count() >= limit:
        raise RateLimited("Too many comments in the last hour; try again later.", 3600)
    with transaction.atomic():
        comment = Comment.objects.create(user=user, paper=paper, body=body)
        Paper.objects.filter(pk=paper.pk).update(num_comments=F("num_comments") + 1)
    return comment


def comments_set_hidden(*, comments, hidden):
    """Hide (or show again) comments, keeping each paper's comment count in step."""
    changed = 0
    with transaction.atomic():
        for comment in comments.select_for_update().filter(hidden=not hidden):
            comment.hidden = hidden
            comment.save(update_fields=["hidden"])
            delta = -1 if hidden else 1
            Paper.objects.filter(pk=comment.paper_id, num_comments__gte=-delta).update(
                num_comments=F("num_comments") + delta
            )
            changed += 1
    return changed
