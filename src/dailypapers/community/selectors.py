"""Reads on the discussion: a paper's threads, best first, as one flat list with depths."""

from collections import defaultdict
from urllib.parse import quote

from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe

from dailypapers.people.selectors import verified_user_ids

from .models import Comment, CommentReport, CommentVote
from .services import is_moderator, may_edit

MAX_DEPTH = 6  # deeper replies are shown at this indent (they still say whom they answer)


def discussion(*, paper, viewer=None):
    """The paper's comments in thread order: each thread and each reply list sorted by
    Wilson score (then age). A hidden or deleted comment stays as a placeholder while it
    has replies that are shown; moderators also see hidden comments, marked, to restore
    them. Each comment carries `depth`, `my_vote`, `can_edit`, `can_delete`."""
    moderator = viewer is not None and is_moderator(viewer)
    signed_in = viewer is not None and viewer.is_authenticated
    comments = list(Comment.objects.filter(paper=paper).select_related("user"))
    children = defaultdict(list)
    for comment in comments:
        children[comment.parent_id].append(comment)
    for replies in children.values():
        replies.sort(key=lambda c: (-c.score, c.created_at, c.pk))
    votes = _votes_of(viewer, comments)
    verified = verified_user_ids(paper) if comments else set()  # authors' badge: one query

    def readable(comment):
        return comment.is_visible or (moderator and comment.deleted_at is None)

    # Thread order without recursion (a thread may be deeper than Python's stack).
    order, stack = [], [(comment, 0) for comment in reversed(children[None])]
    while stack:
        comment, depth = stack.pop()
        order.append((comment, depth))
        stack.extend((reply, depth + 1) for reply in reversed(children.get(comment.pk, ())))
    kept = {}  # shown, or a placeholder for shown replies; replies come after their parent
    for comment, _ in reversed(order):
        replies = children.get(comment.pk, ())
        kept[comment.pk] = readable(comment) or any(kept[reply.pk] for reply in replies)

    shown = []
    for comment, depth in order:
        if not kept[comment.pk]:
            continue
        comment.depth = min(depth, MAX_DEPTH)
        comment.placeholder = not readable(comment)
        if not comment.placeholder:
            comment.who_html = who_line(comment, verified=comment.user_id in verified)
        comment.my_vote = votes.get(comment.pk, 0)
        comment.can_edit = signed_in and may_edit(viewer, comment)
        comment.can_delete = signed_in and comment.user_id == viewer.pk and not comment.placeholder
        comment.can_moderate = moderator
        if signed_in and not comment.placeholder:
            comment.actions_html = action_buttons(comment, viewer)
        shown.append(comment)
    return shown


def who_line(comment, *, verified=False):
    """Author, time, edited/hidden marks and score. Built here with plain string formatting
    (the only member text, the username, escaped) rather than in the template: a long
    discussion spent most of its time resolving template variables and formatting dates."""
    when = timezone.localtime(comment.created_at)
    name = comment.user.username
    marks = (" · edited" if comment.edited_at else "") + (" · hidden" if comment.hidden else "")
    down = f" ▼ {comment.downvotes}" if comment.downvotes else ""
    return mark_safe(  # the username is escaped; the rest are numbers and dates
        f'<a href="/u/{quote(name)}">{escape(name)}</a>{VERIFIED if verified else ""} · '
        f'<a class="muted" '
        f'href="#comment-{comment.pk}"><time datetime="{when.isoformat()}">'
        f"{when:%b} {when.day}, {when:%Y %H:%M}</time></a>{marks} · "
        f'<span class="score" title="upvotes and downvotes">▲ {comment.upvotes}{down}</span>'
    )


VERIFIED = ' <span class="badge verified">verified author</span>'
POST_BUTTON = '<button class="link" form="vote-form" formaction="/comments/{}/{}">{}</button>'


def action_buttons(comment, viewer):
    """A member's buttons and links under a comment. The buttons submit the page's one
    #vote-form (base.html), so a comment carries no form and no token of its own."""
    pk, parts = comment.pk, []
    others = comment.user_id != viewer.pk and not comment.hidden
    if others:
        # the arrows are hidden from screen readers, which read the words ("Downvote", not
        # "black down-pointing triangle")
        for value, arrow, title in ((1, "▲", "Upvote"), (-1, "▼", "Downvote")):
            pressed = comment.my_vote == value
            label = f'<span aria-hidden="true">{arrow}</span>' + (" Upvote" if value > 0 else "")
            parts.append(
                f'<button class="link{" active" if pressed else ""}" form="vote-form" '
                f'formaction="/comments/{pk}/vote" name="value" value="{0 if pressed else value}" '
                f'aria-pressed="{"true" if pressed else "false"}" title="{title}" '
                f'aria-label="{title}">{label}</button>'
            )
    if not comment.hidden:
        parts.append(f'<a href="/comments/{pk}/reply">Reply</a>')
    if comment.can_edit:
        parts.append(f'<a href="/comments/{pk}/edit">Edit</a>')
    if comment.can_delete:
        parts.append(POST_BUTTON.format(pk, "delete", "Delete"))
    if others:
        parts.append(f'<a href="/comments/{pk}/report">Report</a>')
    if comment.can_moderate:
        action = "restore" if comment.hidden else "hide"
        parts.append(POST_BUTTON.format(pk, action, action.capitalize()))
    return mark_safe("\n".join(parts))  # numbers and fixed words only


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
