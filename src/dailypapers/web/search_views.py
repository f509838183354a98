"""Search, "For you" and the buttons that teach recommendations (save, not interested,
follow a topic). Thin: read the form, call the search and digests services, render."""

import datetime as dt
from types import SimpleNamespace
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from dailypapers.digests.selectors import follows_for_user
from dailypapers.digests.services import follow_add, follow_of_query, follow_remove
from dailypapers.papers.arxiv_ids import InvalidArxivId, parse_arxiv_id
from dailypapers.papers.selectors import entries_page, paper_by_arxiv_id, trending_window
from dailypapers.people.selectors import attach_author_links, author_positions
from dailypapers.search import paper_feedback, recommend_for, search_papers
from dailypapers.thumbnails.selectors import attach_thumbnails

from .rows import rows_html
from .views import PER_PAGE, page_number, paper_or_404, safe_next, with_votes

SORTS = {"relevance": "Relevance", "newest": "Newest", "upvotes": "Most upvoted"}
MAX_QUERY = 1000  # longer queries are cut, not refused: a pasted abstract still searches


def search(request):
    query = request.GET.get("q", "")[:MAX_QUERY].strip()
    jump = _paper_for_id(query)
    if jump is not None:  # an arXiv id or link goes straight to the paper
        return redirect(jump.get_absolute_url())
    form, filters = _filters(request)
    page = page_number(request)
    results = None
    if query or any(filters.values()):
        results = search_papers(
            query, limit=PER_PAGE, offset=(page - 1) * PER_PAGE, sort=form["sort"], **filters
        )
    papers = results.papers if results else []
    follow_kind, following = _follows_query(request.user, query)
    context = {
        "query": query,
        "form": form,
        "sorts": SORTS,
        "results": results,
        "rows": _cached_rows(request, papers, results.authors_sought if results else ()),
        "offset": (page - 1) * PER_PAGE,
        "page": page,
        "has_more": bool(results) and results.total > page * PER_PAGE,
        "page_query": urlencode({k: v for k, v in {**form, "q": query}.items() if v}),
        "feed": "/feeds/search.atom?" + urlencode({"q": query}) if query else "",
        "follow_kind": follow_kind,
        "following": following,
        "kind": "search",
    }
    return render(request, "web/search.html", context)


def _paper_for_id(query):
    try:
        parsed = parse_arxiv_id(query)
    except InvalidArxivId:
        return None
    return paper_by_arxiv_id(parsed.base)


def _filters(request):
    """The filter form as the user left it, and the search_papers arguments it means."""
    params = request.GET
    form = {
        "sort": params.get("sort") if params.get("sort") in SORTS else "relevance",
        "category": params.get("category", "")[:40].strip(),
        "from": _date_text(params.get("from")),
        "to": _date_text(params.get("to")),
        "code": "1" if params.get("code") else "",
        "featured": "1" if params.get("featured") else "",
    }
    filters = {
        "category": form["category"] or None,
        "published_after": _start_of(form["from"]),
        "published_before": _start_of(form["to"], plus_days=1),
        "has_code": True if form["code"] else None,
        "featured_only": bool(form["featured"]),
    }
    return form, filters


def _date_text(text):
    try:
        return dt.date.fromisoformat((text or "").strip()).isoformat()
    except ValueError:
        return ""  # a malformed date is ignored, as a browser's date picker would never send it


def _start_of(day_text, plus_days=0):
    if not day_text:
        return None
    day = dt.date.fromisoformat(day_text) + dt.timedelta(days=plus_days)
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


def _cached_rows(request, papers, authors_sought=()):
    """The hits' rows as the listings render them, from the same row cache, with the authors
    searched for marked."""
    papers_by_id = {paper.pk: paper for paper in papers}
    stamps = [(p.pk, p.upvotes, p.num_comments, p.modified_at, None) for p in papers]
    sought = {p.pk: author_positions(p, authors_sought) for p in papers} if authors_sought else {}

    def fetch(paper_ids):
        missing = attach_thumbnails([papers_by_id[pk] for pk in paper_ids])
        return {paper.pk: SimpleNamespace(paper=paper, day=None) for paper in missing}

    return rows_html(request, stamps, fetch, sought=sought)


def _rows(request, papers):
    """Search hits in the shape that the listing template renders (entry.paper)."""
    attach_thumbnails(papers)
    attach_author_links(papers)
    rows = [SimpleNamespace(paper=paper, paper_id=paper.pk, day=None) for paper in papers]
    return with_votes(request, rows)


def _follows_query(user, query):
    """(kind of follow the query makes, whether the member follows it already)."""
    kind, value = follow_of_query(query)
    if not user.is_authenticated or not query:
        return kind, False
    return kind, any(f.kind == kind and f.value == value for f in follows_for_user(user))


@login_required
def for_you(request):
    recommendations = recommend_for(request.user, limit=PER_PAGE)
    starting = not recommendations  # nothing learned, nothing followed: the week's trending
    if starting:
        recommendations = [SimpleNamespace(paper=p, reason=STARTER) for p in _starters(PER_PAGE)]
    rows = _rows(request, [item.paper for item in recommendations])
    for row, item in zip(rows, recommendations, strict=True):
        row.reason = item.reason
    context = {
        "entries": rows,
        "starting": starting,
        "follows": follows_for_user(request.user),
        "kind": "for_you",
    }
    return render(request, "web/for_you.html", context)


STARTER = "Trending this week. Upvote or save it if it is your kind of paper."


def _starters(limit):
    """A new member's first page: the trending papers, to upvote, save or pass on."""
    window = trending_window()
    if window is None:
        return []
    entries = entries_page(first_day=window[0], last_day=window[1], sort="trending", limit=limit)
    return [entry.paper for entry in entries]


@require_POST
@login_required
def feedback(request, raw):
    """Save a paper, or say "not interested": both teach the member's recommendations."""
    paper = paper_or_404(raw)
    kind = request.POST.get("kind") or None
    try:
        paper_feedback(user=request.user, paper=paper, kind=kind)
    except ValueError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _feedback_message(kind, paper))
    return redirect(safe_next(request, paper.get_absolute_url()))


def _feedback_message(kind, paper):
    title = paper.plain_title[:80]
    return {
        "saved": f"Saved “{title}”.",
        "not_interested": f"Noted: fewer papers like “{title}”.",
    }.get(kind, f"Forgot your feedback on “{title}”.")


@require_POST
@login_required
def follow(request):
    """Follow (or stop following) a topic, author or category for "For you" and digests."""
    kind = request.POST.get("kind", "topic")
    value = request.POST.get("value", "")
    try:
        if request.POST.get("action") == "unfollow":
            follow_remove(user=request.user, kind=kind, value=value)
            messages.success(request, f"You no longer follow “{value[:80]}”.")
        else:
            follow = follow_add(user=request.user, kind=kind, value=value)
            messages.success(
                request,
                f"You follow “{follow.value[:80]}”: it feeds For you and, if you subscribe, "
                "your digest.",
            )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect(safe_next(request, "/for-you"))
