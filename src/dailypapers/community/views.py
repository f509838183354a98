"""The discussion's actions on one comment: reply, edit, delete, vote, report, and the
moderators' hide and restore. Thin: each calls a service and goes back to the comment.
Reply, edit and report have their own small page (GET), so a paper page holds no form per
comment; every action works without JavaScript; a refused one says why, text kept."""

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from dailypapers.papers.services import RateLimited

from . import services
from .models import MAX_COMMENT_LENGTH, Comment, CommentReport

HEADINGS = {
    "reply": "Reply",
    "edit": "Edit your comment",
    "report": "Report a comment",
    "vote": "Vote",
    "delete": "Delete",
}


def _member_action(*methods):
    """Signed-in members only (others go to sign in and come back); loads the comment."""

    def decorate(view):
        def wrapped(request, pk):
            comment = get_object_or_404(Comment.objects.select_related("paper", "user"), pk=pk)
            if not request.user.is_authenticated:
                return redirect_to_login(comment.get_absolute_url())
            return view(request, comment)

        wrapped.__name__, wrapped.__doc__ = view.__name__, view.__doc__
        return require_http_methods(list(methods))(wrapped)

    return decorate


def _form_page(request, comment, action, *, error=None, body="", note="", status=200):
    if isinstance(error, RateLimited):
        status = 429
    elif error is not None:
        status = 400
    context = {
        "comment": comment,
        "paper": comment.paper,
        "action": action,
        "heading": HEADINGS[action],
        "error": str(error) if error else "",
        "body": body,
        "note": note,
        "max_length": MAX_COMMENT_LENGTH,
        "reasons": CommentReport.Reason.choices,
        # a new account still waiting, or a banned one: a sentence instead of the reply form
        "blocked": services.why_not_comment(request.user) if action == "reply" else "",
    }
    return render(request, "community/comment_form.html", context, status=status)


@_member_action("GET", "POST")
def comment_reply(request, comment):
    if request.method == "GET":
        return _form_page(request, comment, "reply")
    body = request.POST.get("body", "")
    try:
        reply = services.comment_post(
            user=request.user, paper=comment.paper, body=body, parent=comment
        )
    except (services.CommentError, RateLimited) as error:
        return _form_page(request, comment, "reply", error=error, body=body)
    return redirect(reply.get_absolute_url())


@_member_action("GET", "POST")
def comment_edit(request, comment):
    if request.method == "GET":
        if not services.may_edit(request.user, comment):
            error = services.CommentError("You can no longer edit this comment.")
            return _form_page(request, comment, "edit", error=error)
        return _form_page(request, comment, "edit", body=comment.body)
    body = request.POST.get("body", "")
    try:
        services.comment_edit(user=request.user, comment=comment, body=body)
    except services.CommentError as error:
        return _form_page(request, comment, "edit", error=error, body=body)
    return redirect(comment.get_absolute_url())


@_member_action("POST")
def comment_delete(request, comment):
    try:
        services.comment_delete(user=request.user, comment=comment)
    except services.CommentError as error:
        return _form_page(request, comment, "delete", error=error)
    messages.success(request, "Your comment was deleted.")
    return redirect(f"{comment.paper.get_absolute_url()}#comments")


@_member_action("POST")
def comment_vote(request, comment):
    try:
        value = int(request.POST.get("value", ""))
    except ValueError:
        value = None
    try:
        services.comment_vote(user=request.user, comment=comment, value=value)
    except (services.CommentError, RateLimited) as error:
        return _form_page(request, comment, "vote", error=error)
    return redirect(comment.get_absolute_url())


@_member_action("GET", "POST")
def comment_report(request, comment):
    if request.method == "GET":
        return _form_page(request, comment, "report")
    note = request.POST.get("note", "")
    try:
        services.comment_report(
            user=request.user, comment=comment, reason=request.POST.get("reason", ""), note=note
        )
    except (services.CommentError, RateLimited) as error:
        return _form_page(request, comment, "report", error=error, note=note)
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


@_member_action("POST")
def comment_hide(request, comment):
    return _moderate(request, comment, hidden=True)


@_member_action("POST")
def comment_restore(request, comment):
    return _moderate(request, comment, hidden=False)
