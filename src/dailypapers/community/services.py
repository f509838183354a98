"""Writes on the discussion: post, reply, edit, delete, vote, report; and moderation
(hide, restore, dismiss reports, ban). Every check that protects the community lives
here, so the pages, the admin and any API share it."""

import datetime as dt
import math

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Count, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.timesince import timeuntil

from dailypapers.notifications.models import Notification
from dailypapers.notifications.services import notification_create
from dailypapers.papers.models import Paper, Vote
from dailypapers.papers.services import RateLimited

from .markdown import math_problem, mentioned_names, render_comment
from .models import MAX_COMMENT_LENGTH, Ban, Comment, CommentReport, CommentVote

WILSON_Z = 1.96  # 95% confidence
MAX_MENTIONS = 10  # more than this in one comment is noise, or a way to spam people


class CommentError(ValueError):
    """A comment that cannot be accepted; the message is meant for the member."""


def wilson_lower_bound(up, down, z=WILSON_Z):
    """Lower bound of the Wilson score interval for the share of upvotes (0 with no votes):
    a comment with 10 up and 1 down ranks above one with a single upvote."""
    total = up + down
    if total == 0:
        return 0.0
    share = up / total
    centre = share + z * z / (2 * total)
    spread = z * math.sqrt((share * (1 - share) + z * z / (4 * total)) / total)
    return (centre - spread) / (1 + z * z / total)


def is_moderator(user):
    """Staff with the moderate_comment permission (members are never asked: no queries)."""
    return user.is_authenticated and user.is_staff and user.has_perm("community.moderate_comment")


# Who may take part --------------------------------------------------------------------


def active_ban(user):
    ban = Ban.objects.filter(user=user).first()
    if ban and ban.until and ban.until <= timezone.now():
        return None
    return ban


def participation_check(user):
    """Raise CommentError when `user` may not write in the discussion (banned)."""
    ban = active_ban(user)
    if ban:
        until = f" until {ban.until:%B %-d, %Y}" if ban.until else ""
        raise CommentError(f"Your account may not take part in discussions{until}.")


def new_member_ready_at(user):
    """When a member still in the new-account wait may comment (an aware UTC datetime), or
    None when they may now: after NEW_MEMBER_WAIT_HOURS, or sooner once someone upvoted
    something of theirs (a comment, or a paper they submitted). Stops drive-by spam."""
    if user.is_staff:
        return None
    wait = dt.timedelta(hours=settings.NEW_MEMBER_WAIT_HOURS)
    if user.date_joined <= timezone.now() - wait:
        return None
    if CommentVote.objects.filter(comment__user=user, value=1).exclude(user=user).exists():
        return None
    if Vote.objects.filter(paper__daily_entries__submitted_by=user).exclude(user=user).exists():
        return None
    return (user.date_joined + wait).astimezone(dt.UTC)


def _time_until(moment):
    left = moment - timezone.now()
    if left < dt.timedelta(minutes=1):
        return "in less than a minute"
    return f"in {timeuntil(moment, depth=1)}"


def new_member_check(user):
    """Raise CommentError while `user` is in the new-account wait, saying until when."""
    ready = new_member_ready_at(user)
    if ready is not None:
        raise CommentError(
            f"New accounts can comment from {ready:%B %-d, %H:%M} UTC ({_time_until(ready)}), "
            "or as soon as someone upvotes a paper you submitted. Upvoting and submitting "
            "work already."
        )


def why_not_comment(user):
    """The sentence that tells a signed-in member why they may not comment now (banned, or
    a new account still waiting), or "" when they may. Pages show it instead of the form;
    comment_post checks the same again."""
    try:
        participation_check(user)
        new_member_check(user)
    except CommentError as error:
        return str(error)
    return ""


def _rate_check(rows, *, limit, seconds, message):
    """RateLimited when the member's `rows` (with created_at) hold `limit` of the last `seconds`."""
    since = timezone.now() - dt.timedelta(seconds=seconds)
    if rows.filter(created_at__gte=since).count() >= limit:
        raise RateLimited(message, seconds)


# Writing ----------------------------------------------------------------------------


def _clean_body(body):
    body = (body or "").replace("\r\n", "\n").strip()
    if not body:
        raise CommentError("Write something before posting.")
    if len(body) > MAX_COMMENT_LENGTH:
        raise CommentError(f"Comments are limited to {MAX_COMMENT_LENGTH} characters.")
    if "\x00" in body:
        raise CommentError("That comment contains characters that cannot be stored.")
    problem = math_problem(body)  # a formula that would crash the readers' browser tabs
    if problem:
        raise CommentError(problem)
    return body


def _mentioned_members(body):
    names = mentioned_names(body)[: MAX_MENTIONS * 2]
    users = get_user_model().objects.filter(username__in=names, is_active=True)
    return list(users[:MAX_MENTIONS])


def comment_post(*, user, paper, body, parent=None):
    """Add a comment (a reply when `parent` is given) and count it on the paper; tell the
    parent's author and every member @mentioned."""
    body = _clean_body(body)
    participation_check(user)
    new_member_check(user)
    _rate_check(
        Comment.objects.filter(user=user),
        limit=settings.COMMENTS_PER_HOUR,
        seconds=3600,
        message="Too many comments in the last hour; try again later.",
    )
    if parent is not None and (parent.paper_id != paper.pk or not parent.is_visible):
        raise CommentError("The comment you replied to is no longer there.")
    mentioned = _mentioned_members(body)
    html = render_comment(body, members=[member.username for member in mentioned])
    with transaction.atomic():
        comment = Comment.objects.create(
            user=user, paper=paper, parent=parent, body=body, body_html=html
        )
        Paper.objects.filter(pk=paper.pk).update(num_comments=F("num_comments") + 1)
        _notify(comment, mentioned)
    return comment


def _notify(comment, mentioned):
    told = set()
    parent = comment.parent
    if parent is not None and parent.deleted_at is None:
        notification_create(
            user=parent.user,
            kind=Notification.Kind.REPLY,
            actor=comment.user,
            paper=comment.paper,
            comment=comment,  # its text is read from the comment, as it is then
        )
        told.add(parent.user_id)
    for member in mentioned:
        if member.pk not in told:
            notification_create(
                user=member,
                kind=Notification.Kind.MENTION,
                actor=comment.user,
                paper=comment.paper,
                comment=comment,
            )


def edit_deadline(comment):
    return comment.created_at + dt.timedelta(minutes=settings.COMMENT_EDIT_MINUTES)


def may_edit(user, comment):
    return (
        user.is_authenticated
        and comment.user_id == user.pk
        and comment.is_visible
        and timezone.now() <= edit_deadline(comment)
    )


def comment_edit(*, user, comment, body):
    """The author changes their comment, within COMMENT_EDIT_MINUTES of posting it."""
    if comment.user_id != user.pk:
        raise CommentError("Only its author can edit a comment.")
    if not comment.is_visible:
        raise CommentError("This comment is no longer shown, so it cannot be edited.")
    if timezone.now() > edit_deadline(comment):
        minutes = settings.COMMENT_EDIT_MINUTES
        raise CommentError(f"Comments can be edited for {minutes} minutes after posting.")
    participation_check(user)
    body = _clean_body(body)
    mentioned = _mentioned_members(body)
    with transaction.atomic():
        comment.body = body
        comment.body_html = render_comment(body, members=[m.username for m in mentioned])
        comment.edited_at = timezone.now()
        comment.save(update_fields=["body", "body_html", "edited_at"])
        _notify(comment, mentioned)  # only members newly mentioned: the rest were told
    return comment


def comment_delete(*, user, comment):
    """The author removes their comment. Its text goes; its place stays for its replies."""
    if comment.user_id != user.pk:
        raise CommentError("Only its author can delete a comment.")
    with transaction.atomic():
        comment = Comment.objects.select_for_update().get(pk=comment.pk)
        if comment.deleted_at is not None:
            return comment
        was_visible = comment.is_visible
        comment.deleted_at = timezone.now()
        comment.body = comment.body_html = ""
        comment.save(update_fields=["deleted_at", "body", "body_html"])
        if was_visible:
            _count_comment(comment.paper_id, -1)
    return comment


def _count_comment(paper_id, delta):
    Paper.objects.filter(pk=paper_id, num_comments__gte=-delta).update(
        num_comments=F("num_comments") + delta
    )


# Votes and reports ---------------------------------------------------------------------


def comment_vote(*, user, comment, value):
    """Up (1), down (-1) or take back (0) the member's vote; refreshes the comment's score."""
    if value not in (1, -1, 0):
        raise CommentError("A vote is up, down, or none.")
    if comment.user_id == user.pk:
        raise CommentError("You cannot vote on your own comment.")
    if not comment.is_visible:
        raise CommentError("This comment is no longer shown.")
    participation_check(user)
    _rate_check(
        CommentVote.objects.filter(user=user),
        limit=settings.COMMENT_VOTES_PER_HOUR,
        seconds=3600,
        message="Too many votes in the last hour; try again later.",
    )
    with transaction.atomic():
        Comment.objects.select_for_update().filter(pk=comment.pk).first()  # one at a time
        if value == 0:
            CommentVote.objects.filter(user=user, comment=comment).delete()
        else:
            CommentVote.objects.update_or_create(
                user=user, comment=comment, defaults={"value": value}
            )
        _refresh_score(comment)
    return comment


def _refresh_score(comment):
    counts = CommentVote.objects.filter(comment=comment).aggregate(
        up=Count("pk", filter=Q(value=1)), down=Count("pk", filter=Q(value=-1))
    )
    comment.upvotes, comment.downvotes = counts["up"], counts["down"]
    comment.score = wilson_lower_bound(comment.upvotes, comment.downvotes)
    comment.save(update_fields=["upvotes", "downvotes", "score"])


def comment_report(*, user, comment, reason, note=""):
    """A member flags a comment for the moderators. Enough distinct reports
    (COMMENT_REPORTS_TO_HIDE; 0 = never) hide it until a moderator looks."""
    if reason not in CommentReport.Reason.values:
        raise CommentError("Choose why you report this comment.")
    if comment.user_id == user.pk:
        raise CommentError("You cannot report your own comment.")
    participation_check(user)
    _rate_check(
        CommentReport.objects.filter(reporter=user),
        limit=settings.COMMENT_REPORTS_PER_DAY,
        seconds=86400,
        message="Too many reports today; the moderators will look at the ones you sent.",
    )
    try:
        with transaction.atomic():
            report = CommentReport.objects.create(
                comment=comment, reporter=user, reason=reason, note=(note or "")[:500]
            )
    except IntegrityError:
        raise CommentError("You reported this comment already; thank you.") from None
    threshold = settings.COMMENT_REPORTS_TO_HIDE
    if threshold and comment.reports.filter(resolved_at__isnull=True).count() >= threshold:
        comments_set_hidden(comments=Comment.objects.filter(pk=comment.pk), hidden=True)
    return report


# Moderation ------------------------------------------------------------------------------


def comments_set_hidden(*, comments, hidden, moderator=None):
    """Hide (or show again) comments, keeping each paper's comment count in step. A
    moderator's hiding resolves the open reports of those comments."""
    changed = 0
    ids = list(comments.values_list("pk", flat=True))  # a plain query: the admin's annotates
    with transaction.atomic():
        rows = Comment.objects.select_for_update().filter(pk__in=ids, hidden=not hidden)
        for comment in rows:
            comment.hidden = hidden
            comment.save(update_fields=["hidden"])
            if comment.deleted_at is None:
                _count_comment(comment.paper_id, -1 if hidden else 1)
            changed += 1
        if moderator is not None and hidden:
            _resolve(
                CommentReport.objects.filter(comment_id__in=ids),
                moderator,
                CommentReport.Outcome.HIDDEN,
            )
    return changed


def reports_dismiss(*, reports, moderator):
    """The moderator keeps the comments; the reports leave the queue."""
    return _resolve(reports, moderator, CommentReport.Outcome.DISMISSED)


def _resolve(reports, moderator, outcome):
    return reports.filter(resolved_at__isnull=True).update(
        resolved_at=timezone.now(), resolved_by=moderator, outcome=outcome
    )


def member_ban(*, user, moderator=None, reason="", until=None, hide_comments=True):
    """Stop a member from taking part; by default their comments are hidden too."""
    with transaction.atomic():
        ban, _ = Ban.objects.update_or_create(
            user=user, defaults={"reason": reason, "until": until, "created_by": moderator}
        )
        if hide_comments:
            comments_set_hidden(
                comments=Comment.objects.filter(user=user), hidden=True, moderator=moderator
            )
    return ban


def member_unban(*, user):
    return Ban.objects.filter(user=user).delete()[0] > 0


# A member leaves ---------------------------------------------------------------------------


def member_comments_remove(*, user):
    """What deleting `user`'s account does to the discussion (docs/community.md): their
    votes and reports on comments go, each comment's score is counted again; a comment of
    theirs that others replied to (directly or further down) stays as the place of those
    replies, without text or author; the others go. Each paper's comment count is counted
    again from the rows. Runs in the transaction that deletes the account."""
    with transaction.atomic():
        voted = set(CommentVote.objects.filter(user=user).values_list("comment_id", flat=True))
        CommentVote.objects.filter(user=user).delete()
        CommentReport.objects.filter(reporter=user).delete()

        papers = set(Comment.objects.filter(user=user).values_list("paper_id", flat=True))
        rows = list(
            Comment.objects.filter(paper_id__in=papers).values_list("pk", "parent_id", "user_id")
        )
        parent_of = {pk: parent for pk, parent, _ in rows}
        theirs = {pk for pk, _, author in rows if author == user.pk}
        kept = set()  # their comments above someone else's reply
        for pk, _, author in rows:
            if author == user.pk:
                continue
            parent = parent_of[pk]
            while parent is not None and parent not in kept:
                if parent in theirs:
                    kept.add(parent)
                parent = parent_of[parent]
        # Their replies below a removed comment of theirs go with it (Comment.parent cascades):
        # none of those has a reply by anyone else, or its parent would be kept.
        Comment.objects.filter(pk__in=theirs - kept).delete()
        Comment.objects.filter(pk__in=kept).update(
            user=None,
            body="",
            body_html="",
            deleted_at=Coalesce("deleted_at", Value(timezone.now())),
        )
        for comment in Comment.objects.filter(pk__in=voted - theirs):
            _refresh_score(comment)
        comments_recount(paper_ids=papers)


def comments_recount(*, paper_ids):
    """Set each paper's comment count to its comments that readers see (neither hidden nor
    deleted): the count comment_post, comment_delete and comments_set_hidden keep in step."""
    shown = Comment.objects.visible().filter(paper=OuterRef("pk")).order_by()
    count = shown.values("paper").annotate(n=Count("pk")).values("n")
    Paper.objects.filter(pk__in=paper_ids).update(num_comments=Coalesce(Subquery(count), 0))
