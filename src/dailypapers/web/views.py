"""HTML pages. Thin: parse the URL, call selectors/services, render."""

import datetime as dt
import re
import textwrap

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.views import redirect_to_login
from django.db import connection
from django.http import (
    Http404,
    HttpResponse,
    HttpResponsePermanentRedirect,
    HttpResponseRedirect,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from dailypapers.community.selectors import discussion
from dailypapers.community.services import CommentError, comment_post, why_not_comment
from dailypapers.papers import ranking, selectors
from dailypapers.papers.arxiv_ids import InvalidArxivId, parse_arxiv_id
from dailypapers.papers.models import DailyEntry, Vote
from dailypapers.papers.services import (
    RateLimited,
    SubmissionError,
    SubmissionQueued,
    paper_submit,
    vote_cast,
    vote_retract,
)
from dailypapers.people.selectors import (
    authors_verified_as,
    collections_visible_to,
    paper_people_context,
)
from dailypapers.search import related_papers
from dailypapers.thumbnails.selectors import THUMBNAIL_COLUMNS

from .forms import CommentForm, SubmitForm
from .rows import rows_html

PER_PAGE = 50
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
WEEK_RE = re.compile(r"^(\d{4})-W(\d{2})$")
MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
INLINE_CODE = re.compile(r"`([^`]+)`")


def healthz(request):
    """200 when the database answers, 503 otherwise (for load balancers and monitors)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        return HttpResponse("database unavailable\n", status=503, content_type="text/plain")
    return HttpResponse("ok\n", content_type="text/plain")


def favicon(request):
    """Browsers that do not read the page's <link rel="icon"> (feed readers, bookmarks)."""
    return HttpResponsePermanentRedirect(static("web/favicon.svg"))


ROBOTS_TXT = """User-agent: *
Disallow: /admin/
Disallow: /accounts/
Disallow: /search
Disallow: /api/
"""


def robots_txt(request):
    """Crawlers welcome on the daily pages and the papers; not on endless search pages,
    the forms or the JSON API."""
    return HttpResponse(ROBOTS_TXT, content_type="text/plain")


# Listing pages ------------------------------------------------------------------------


def home(request):
    day, previous, _ = selectors.days_around()
    if day is None:
        week_ago = timezone.localdate() - dt.timedelta(days=7)
        context = {"MIRROR_URL": settings.MIRROR_URL, "week_ago": week_ago}
        return render(request, "web/empty_site.html", context)
    return _day_page(request, day, is_home=True, neighbours=(previous, None))


def papers_by_date(request, day):
    return _day_page(request, _parse_day(day))


def papers_by_week(request, week):
    match = WEEK_RE.match(week)
    try:
        year, number = int(match[1]), int(match[2])
        first, last = selectors.iso_week_bounds(year, number)
    except (TypeError, ValueError, OverflowError):
        raise Http404(f"“{week[:40]}” is not a week; weeks look like 2026-W07.") from None
    previous, following = first - dt.timedelta(days=7), first + dt.timedelta(days=7)
    return _period_page(
        request,
        first=first,
        last=last,
        kind="week",
        heading=f"Week {number} of {year}",
        subheading=f"{first:%b %-d} – {last:%b %-d, %Y}",
        previous=_week_label(previous),
        following=_week_label(following),
        feed=f"/feeds/week/{year}-W{number:02d}.atom",
    )


def papers_by_month(request, month):
    match = MONTH_RE.match(month)
    try:
        year, number = int(match[1]), int(match[2])
        first, last = selectors.month_bounds(year, number)
        previous = (first - dt.timedelta(days=1)).strftime("%Y-%m")
    except (TypeError, ValueError, OverflowError):
        raise Http404(f"“{month[:40]}” is not a month; months look like 2026-02.") from None
    following = last + dt.timedelta(days=1) if last < dt.date.max else None
    return _period_page(
        request,
        first=first,
        last=last,
        kind="month",
        heading=f"{first:%B %Y}",
        subheading="",
        previous=previous,
        following=following and following.strftime("%Y-%m"),
        feed=f"/feeds/month/{year}-{number:02d}.atom",
    )


def trending(request):
    window = selectors.trending_window()
    latest = window and window[1]
    today = latest or timezone.localdate()
    first = window[0] if window else today
    context = _period_rows(request, first=first, last=today, sort="trending")
    context.update(
        kind="trending",
        heading="Trending",
        subheading=f"Papers featured in the last {selectors.TRENDING_DAYS} days, by trending score",
        feed="/feeds/trending.atom",
        latest=latest,
        week=_week_label(today),
        month=f"{today:%Y-%m}",
    )
    return render(request, "web/listing.html", context)


def _day_page(request, day, is_home=False, neighbours=None):
    offset = (page_number(request) - 1) * PER_PAGE
    stamps = selectors.day_stamps(day, offset=offset, limit=PER_PAGE + 1)

    def fetch(paper_ids):
        entries = selectors.entries_between(first_day=day, last_day=day)
        return {e.paper_id: e for e in _list_columns(entries).filter(paper_id__in=paper_ids)}

    previous, following = neighbours or selectors.days_around(day)[1:]
    context = {
        "kind": "day",
        "day": day,
        "is_home": is_home,
        "heading": f"{day:%A, %B %-d, %Y}",
        "week": _week_label(day),
        "month": f"{day:%Y-%m}",
        # The front page follows the latest day; a dated page keeps its own day.
        "feed": "/feeds/daily.atom" if is_home else f"/feeds/date/{day.isoformat()}.atom",
        "rows": rows_html(request, stamps[:PER_PAGE], fetch),
        "has_entries": bool(stamps),
        "offset": offset,
        "page": page_number(request),
        "has_more": len(stamps) > PER_PAGE,
        "previous": previous and previous.isoformat(),
        "following": following and following.isoformat(),
        # an empty day points to the closest day that has papers
        "latest": previous or following,
    }
    return render(request, "web/listing.html", context)


# What a row of a listing shows; the rest of a paper (versions, keywords ...) stays in the DB.
LIST_COLUMNS = [
    "day",
    "submitted_at",
    "paper__arxiv_id",
    "paper__title",
    "paper__abstract",
    "paper__authors",
    "paper__github_repo",
    "paper__github_stars",
    "paper__num_comments",
    "paper__imported_upvotes",
    "paper__local_upvotes",
    "paper__upvotes",
    "paper__modified_at",
    "paper__organization__name",
    "paper__organization__fullname",
    *THUMBNAIL_COLUMNS,
]


def _list_columns(entries):
    return (
        entries.select_related(None)
        .select_related("paper__organization", "paper__thumb")
        .only(*LIST_COLUMNS)
    )


def _period_page(request, *, first, last, **context):
    context.update(_period_rows(request, first=first, last=last))
    newest = selectors.latest_day_with_papers()
    if newest is None or newest <= last:  # no "next" into weeks or months with no papers yet
        context["following"] = None
    oldest = selectors.earliest_day_with_papers()
    if oldest is None or oldest >= first:  # nor "previous" into those before the first
        context["previous"] = None
    latest = None if context["has_entries"] else newest
    context.update(week=_week_label(first), month=f"{first:%Y-%m}", latest=latest)
    return render(request, "web/listing.html", context)


def _period_rows(request, *, first, last, sort="upvotes"):
    """One page of a period's papers: stamps of all, full rows of this page's uncached ones."""
    stamps, offset, has_more = _paginate(
        request, selectors.period_stamps(first_day=first, last_day=last, sort=sort)
    )
    day_of = {stamp[0]: stamp[4] for stamp in stamps}

    def fetch(paper_ids):
        entries = DailyEntry.objects.filter(paper_id__in=paper_ids, day__gte=first, day__lte=last)
        return {e.paper_id: e for e in _list_columns(entries) if e.day == day_of[e.paper_id]}

    return {
        "rows": rows_html(request, stamps, fetch, show_day=True),
        "has_entries": bool(stamps),
        "offset": offset,
        "page": page_number(request),
        "has_more": has_more,
    }


def _parse_day(text):
    try:
        if not DATE_RE.match(text):
            raise ValueError
        return dt.date.fromisoformat(text)
    except ValueError:
        raise Http404(f"“{text[:40]}” is not a date; dates look like 2026-02-17.") from None


def _week_label(day):
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def page_number(request):
    try:
        return max(1, min(int(request.GET.get("page", 1)), 10_000))
    except ValueError:
        return 1


def _paginate(request, entries):
    """One page of entries (a list or a QuerySet) and whether there is a next one."""
    offset = (page_number(request) - 1) * PER_PAGE
    rows = list(entries[offset : offset + PER_PAGE + 1])
    return rows[:PER_PAGE], offset, len(rows) > PER_PAGE


def with_votes(request, entries):
    """Mark the entries whose paper the member has upvoted (for pages rendered in place)."""
    voted = set()
    if request.user.is_authenticated and entries:
        voted = set(
            Vote.objects.filter(
                user=request.user, paper_id__in=[entry.paper_id for entry in entries]
            ).values_list("paper_id", flat=True)
        )
    for entry in entries:
        entry.paper.voted = entry.paper_id in voted
    return entries


# One paper ---------------------------------------------------------------------------


def paper_detail(request, raw):
    paper = paper_or_404(raw)
    if raw != paper.arxiv_id:  # a version, an "arXiv:" prefix ...: one canonical address
        return redirect(paper.get_absolute_url(), permanent=True)
    return _render_paper(request, paper, CommentForm())


def _render_paper(request, paper, comment_form, status=200):
    paper.voted = (
        request.user.is_authenticated
        and Vote.objects.filter(user=request.user, paper=paper).exists()
    )
    comments = discussion(paper=paper, viewer=request.user)
    context = {
        "paper": paper,
        "featured_days": list(paper.daily_entries.order_by("day").values_list("day", flat=True)),
        "comments": comments,
        "comments_have_math": any("$" in comment.body for comment in comments),
        "comment_form": comment_form,
        # a new account still waiting, or a banned one: a sentence instead of the form
        "comment_blocked": why_not_comment(request.user) if request.user.is_authenticated else "",
        "versions": _versions(paper),
        "related": related_papers(paper, limit=6, since=_related_since(request)),
        "related_recent": request.GET.get("related") == "recent",
        "signed_in": request.user.is_authenticated,
        "next": request.get_full_path(),
        **paper_people_context(request.user, paper),
    }
    return render(request, "web/paper.html", context, status=status)


RELATED_RECENT_DAYS = 90


def _related_since(request):
    """ "Related papers" from the last 90 days only, when the reader asks for recent ones."""
    if request.GET.get("related") != "recent":
        return None
    return timezone.now() - dt.timedelta(days=RELATED_RECENT_DAYS)


def _versions(paper):
    rows = []
    for item in paper.versions or ():
        if not isinstance(item, dict):
            continue
        created = item.get("created") or ""
        try:
            created = dt.datetime.fromisoformat(str(created).replace("Z", "+00:00"))
        except ValueError:
            pass
        rows.append({"version": item.get("version"), "created": created})
    return rows


def paper_or_404(raw):
    try:
        parsed = parse_arxiv_id(raw)
    except InvalidArxivId as exc:
        raise Http404(str(exc)) from None
    paper = selectors.paper_by_arxiv_id(parsed.base)
    if paper is None:
        raise Http404(
            f"We do not have arXiv:{parsed.base} (yet). Members can submit it on the Submit page."
        )
    return paper


@require_POST
def vote(request, raw):
    paper = paper_or_404(raw)
    back = safe_next(request, paper.get_absolute_url())
    if not request.user.is_authenticated:
        return redirect_to_login(back)
    status = 200
    try:
        if request.POST.get("action") == "retract":
            vote_retract(user=request.user, paper=paper)
        else:
            vote_cast(user=request.user, paper=paper)
    except RateLimited as exc:
        status = 429
        if not _is_htmx(request):
            return render(request, "web/message.html", {"message": str(exc)}, status=429)
        error = str(exc)
    else:
        error = ""
    if not _is_htmx(request):
        return HttpResponseRedirect(back)
    paper.refresh_from_db(fields=["imported_upvotes", "local_upvotes", "upvotes"])
    paper.voted = Vote.objects.filter(user=request.user, paper=paper).exists()
    context = {"paper": paper, "signed_in": True, "next": back, "error": error}
    if not error:  # read out by screen readers (an error is an alert of its own)
        count = f"{paper.upvotes} upvote{'' if paper.upvotes == 1 else 's'}"
        context["announce"] = f"{'Upvoted' if paper.voted else 'Upvote taken back'}: {count}."
    return render(request, "web/_vote.html", context, status=status)


@require_POST
def comment(request, raw):
    paper = paper_or_404(raw)
    if not request.user.is_authenticated:
        return redirect_to_login(paper.get_absolute_url())
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            posted = comment_post(user=request.user, paper=paper, body=form.cleaned_data["body"])
        except (CommentError, RateLimited) as exc:
            form.add_error("body", str(exc))
        else:
            return redirect(posted.get_absolute_url())
    paper.refresh_from_db()
    return _render_paper(request, paper, form, status=400)


def _is_htmx(request):
    return request.headers.get("HX-Request") == "true"


def safe_next(request, default):
    """The local path to go back to (`next`), or `default` for anything else."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


# Submitting, members, about -------------------------------------------------------------


def submit(request):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    status = 200
    if request.method == "POST":
        form = SubmitForm(request.POST)
        if form.is_valid():
            try:
                entry = paper_submit(user=request.user, arxiv_id=form.cleaned_data["arxiv_id"])
            except RateLimited as exc:
                form.add_error("arxiv_id", str(exc))
                status = 429
            except (InvalidArxivId, SubmissionError) as exc:
                form.add_error("arxiv_id", str(exc))
                status = 400
            except SubmissionQueued as exc:
                messages.info(request, str(exc))
                return redirect("submit")
            else:
                paper = entry.paper
                title = paper.plain_title[:120]
                messages.success(request, f"Thanks! “{title}” is on today’s page.")
                url = reverse("papers_by_date", args=[entry.day.isoformat()])
                return redirect(f"{url}#paper-{paper.arxiv_id}")
        else:
            status = 400
    else:
        form = SubmitForm(initial={"arxiv_id": request.GET.get("arxiv_id", "")[:300]})
    return render(
        request,
        "web/submit.html",
        {
            "form": form,
            "per_day": settings.SUBMISSIONS_PER_DAY,
            "max_age": settings.SUBMIT_MAX_AGE_DAYS,
            "waiting": selectors.submissions_waiting(request.user),
        },
        status=status,
    )


def profile(request, username):
    member = get_object_or_404(get_user_model(), username=username, is_active=True)
    upvotes = (
        Vote.objects.filter(user=member, paper__hidden=False)
        .select_related("paper")
        .order_by("-created_at")[:50]
    )
    submissions = (
        DailyEntry.objects.filter(submitted_by=member, paper__hidden=False)
        .select_related("paper")
        .order_by("-submitted_at")[:50]
    )
    return render(
        request,
        "web/profile.html",
        {
            "member": member,
            "upvotes": list(upvotes),
            "submissions": list(submissions),
            "waiting": selectors.submissions_waiting(member) if request.user == member else [],
            "collections": list(collections_visible_to(request.user, member)),
            "authors": authors_verified_as(member),
            "is_me": request.user == member,
        },
    )


def _doc_blocks(doc):
    """A docstring as ("formula", text) for indented blocks and ("text", html) paragraphs,
    with `code` as <code>code</code>."""
    blocks = []
    for chunk in textwrap.dedent(doc).strip().split("\n\n"):
        if chunk.startswith("    "):
            blocks.append(("formula", textwrap.dedent(chunk)))
        else:
            text = escape(" ".join(chunk.split()))
            blocks.append(("text", mark_safe(INLINE_CODE.sub(r"<code>\1</code>", text))))
    return blocks


def about(request):
    return render(
        request,
        "web/about.html",
        {
            "formula": _doc_blocks(ranking.__doc__),
            "seconds": ranking.SECONDS_PER_DECADE_OF_VOTES,
            "per_day": settings.SUBMISSIONS_PER_DAY,
            "votes_per_hour": settings.VOTES_PER_HOUR,
            "max_age": settings.SUBMIT_MAX_AGE_DAYS,
            "now": timezone.now(),
        },
    )
