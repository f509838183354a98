"""The discussion's actions on one comment: reply, edit, delete, vote, report, and the
moderators' hide and restore. Thin: each calls a service and goes back to the comment.
Every form works without JavaScript; a refused action shows why, with the text kept."""

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from dailypapers.papers.services import RateLimited

from . import services
from .models import MAX_COMMENT_LENGTH, Comment, CommentReport


def _comment_or_404(pk):
    return get_object_or_404(Comment.objects.select_related("paper", "user"), pk=pk)


def _signed_in(view):
    def wrapped(request, pk):
        if not request.user.is_authenticated:
            comment = _comment_or_404(pk)
            return redirect_to_login(comment.get_absolute_url())
        return view(request, _comment_or_404(pk))

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return require_POST(wrapped)


def _refused(request, comment, error, *, action, body=""):
    status = 429 if isinstance(error, RateLimited) else 400
    context = {
        "comment": comment,
        "paper": comment.paper,
        "error": str(error),
        "action": action,
        "body": body,
        "max_length": MAX_COMMENT_LENGTH,
        "reasons": CommentReport.Reason.choices,
    }
    return render(request, "community/refused.html", context, status=status)


@_signed_in
def comment_reply(request, comment):
    body = request.POST.get("body", "")
    try:
        reply = services.comment_post(
            user=request.user, paper=comment.paper, body=body, parent=comment
        )
    except (services.CommentError, RateLimited) as error:
        return _refused(request, comment, error, action="reply", body=body)
    return redirect(reply.get_absolute_url())


@_signed_in
def comment_edit(request, comment):
    body = request.POST.get("body", "")
    try:
        services.comment_edit(user=request.user, comment=comment, body=body)
    except services.CommentError as error:
        return _refused(request, comment, error, action="edit", body=body)
    return redirect(comment.get_absolute_url())


@_signed_in
def comment_delete(request, comment):
    try:
        services.comment_delete(user=request.user, comment=comment)
    except services.CommentError as error:
        return _refused(request, comment, error, action="delete")
    messages.success(request, "Your comment was deleted.")
    return redirect(f"{comment.paper.get_absolute_url()}#comments")


@_signed_in
def comment_vote(request, comment):
    try:
        value = int(request.POST.get("value", ""))
    except ValueError:
        value = None
    try:
        services.comment_vote(user=request.user, comment=comment, value=value)
    except (services.CommentError, RateLimited) as error:
        return _refused(request, comment, error, action="vote")
    return redirect(comment.get_absolute_url())


@_signed_in
def comment_report(request, comment):
    try:
        services.comment_report(
            user=request.user,
            comment=comment,
            reason=request.POST.get("reason", ""),
            note=request.POST.get("note", ""),
        )
    except (services.CommentError, RateLimited) as error:
        return _refused(request, comment, error, action="report")
    messages.success(request, "Thank you: the moderators will look at this comment.")
    return redirect(comment.get_absolute_url())


def _moderate(request, comment, *, hidden):
    if not services.is_moderator(request.user):
        raise PermissionDenied("Only moderators can hide and restore comments.")
    services.comments_set_hidden(
        comments=Comment.objects.filter(pk=comment.pk), hidden=hidden, moderator=request.user
    )
    messages.success(request, "Comment hidden." if hidden else "Comment shown again.")
    return redirect(comment.get_absolute_url())


@_signed_in
def comment_hide(request, comment):
    return _moderate(request, comment, hidden=True)


@_signed_in
def comment_restore(request, comment):
    return _moderate(request, comment, hidden=False)
