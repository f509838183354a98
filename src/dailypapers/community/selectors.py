"""Reads on the discussion: a paper's threads, best first, as one flat list with depths."""

from collections import defaultdict

from .models import Comment, CommentReport, CommentVote
from .services import is_moderator, may_edit

MAX_DEPTH = 6  # deeper replies are shown at this indent (they still say whom they answer)


def discussion(*, paper, viewer=None):
    """The paper's comments in thread order: each thread and each reply list sorted by
    Wilson score (then age). A hidden or deleted comment stays as a placeholder while it
    has replies that are shown; moderators also see hidden comments, marked, to restore
    them. Each comment carries `depth`, `my_vote`, `can_edit`, `can_delete`."""
    moderator = viewer is not None and is_moderator(viewer)
    comments = list(Comment.objects.filter(paper=paper).select_related("user"))
    children = defaultdict(list)
    for comment in comments:
        children[comment.parent_id].append(comment)
    for replies in children.values():
        replies.sort(key=lambda c: (-c.score, c.created_at, c.pk))
    votes = _votes_of(viewer, comments)
    shown = []

    def walk(parent_id, depth):
        for comment in children.get(parent_id, ()):
            position = len(shown)
            shown.append(comment)
            walk(comment.pk, depth + 1)
            has_replies = len(shown) > position + 1
            readable = comment.is_visible or (moderator and comment.deleted_at is None)
            if not readable and not has_replies:
                shown.pop(position)
                continue
            comment.depth = min(depth, MAX_DEPTH)
            comment.placeholder = not readable
            comment.my_vote = votes.get(comment.pk, 0)
            signed_in = viewer is not None and viewer.is_authenticated
            comment.can_edit = signed_in and may_edit(viewer, comment)
            comment.can_delete = signed_in and comment.user_id == viewer.pk and readable
            comment.can_moderate = moderator

    walk(None, 0)
    return shown


def _votes_of(viewer, comments):
    if viewer is None or not viewer.is_authenticated or not comments:
        return {}
    rows = CommentVote.objects.filter(user=viewer, comment__paper_id=comments[0].paper_id)
    return dict(rows.values_list("comment_id", "value"))


def open_reports():
    """The moderators' queue: reports not yet resolved, oldest first."""
    return CommentReport.objects.filter(resolved_at__isnull=True).select_related(
        "comment", "comment__user", "reporter"
    )
