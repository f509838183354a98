"""The "Suggested" tab: a day's candidates as the model ranks them, with the reason for each.

Members upvote them or submit one to today's page; moderators (the `papers.add_dailyentry`
permission) put one on the day's page at once."""

import datetime as dt
import re

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from dailypapers.papers.models import DailyEntry, Paper, Vote
from dailypapers.papers.services import paper_feature

from . import services

SHOWN = 30  # suggestions on the page; about twice what a community features in a day


def suggested(request):
    newest = services.newest_day()
    day = _day(request.GET.get("date"), newest)
    try:
        suggestions, problem = services.suggest(day, SHOWN), None
    except services.CurationError as exc:
        suggestions, problem = [], str(exc)
    ids = [s.paper.pk for s in suggestions]
    featured = set(
        DailyEntry.objects.filter(day=day, paper_id__in=ids).values_list("paper_id", flat=True)
    )
    voted = set()
    if request.user.is_authenticated:
        voted = set(
            Vote.objects.filter(user=request.user, paper_id__in=ids).values_list(
                "paper_id", flat=True
            )
        )
    for suggestion in suggestions:
        suggestion.paper.voted = suggestion.paper.pk in voted
        suggestion.featured = suggestion.paper.pk in featured
    context = {
        "day": day,
        "previous": day - dt.timedelta(days=1),
        "following": day + dt.timedelta(days=1) if day < newest else None,
        "week": "{}-W{:02d}".format(*day.isocalendar()[:2]),
        "suggestions": suggestions,
        # what the operator should do, for staff only; readers are told there are none
        "problem": problem and _code(problem),
        "show_problem": request.user.is_staff,
        "is_today": day == timezone.localdate(),
        "may_feature": is_moderator(request.user),
    }
    return render(request, "curation/suggested.html", context)


@require_POST
def feature(request):
    """A moderator puts a suggested paper on the page of the day it was suggested for."""
    if not is_moderator(request.user):
        raise PermissionDenied("Only moderators put suggestions on a daily page.")
    day = _day(request.POST.get("date"), timezone.localdate())
    paper = get_object_or_404(Paper.objects.visible(), arxiv_id=request.POST.get("arxiv_id", ""))
    _, created = paper_feature(
        paper=paper, day=day, source=DailyEntry.Source.ADMIN, user=request.user
    )
    title = paper.plain_title[:120]
    if created:
        messages.success(request, f"“{title}” is on the page of {day:%B %-d, %Y}.")
    else:
        messages.info(request, f"“{title}” was already on the page of {day:%B %-d, %Y}.")
    return redirect(f"{reverse('suggested')}?date={day.isoformat()}#paper-{paper.arxiv_id}")


def is_moderator(user):
    return user.is_authenticated and user.has_perm("papers.add_dailyentry")


def _code(text):
    """A message for people, with `command` set as <code>command</code>."""
    return mark_safe(re.sub(r"`([^`]+)`", r"<code>\1</code>", escape(text)))


def _day(text, newest):
    if not text:
        return newest
    try:
        return services.parse_day(text)
    except services.CurationError as exc:
        raise Http404(str(exc)) from None
