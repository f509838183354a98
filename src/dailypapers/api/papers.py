"""Read endpoints in the Hugging Face papers API's dialect, plus our additions.

Thin: validate the query, call a selector (or search), shape with hf_format, answer
with cache validators (http.cached_json).
"""

import re
from typing import Literal

from django.http import HttpResponse
from ninja import Query, Router

from dailypapers.papers import selectors
from dailypapers.papers.arxiv_ids import parse_arxiv_id

from . import hf_format, queries
from .http import cached_json, error, remembered_json
from .params import CURSOR, DATE, MONTH, TEXT, USERNAME, WEEK
from .schemas import CategoryOut, DailyEntryOut, ErrorOut, PaperInfoOut, PaperOut, TrendingOut

router = Router(tags=["papers"], by_alias=True)  # "_id", as upstream spells it

READ_ERRORS = {304: None, 400: ErrorOut, 429: ErrorOut}


@router.get("/daily_papers", response={200: list[DailyEntryOut], **READ_ERRORS})
def daily_papers(
    request,
    p: int = Query(0, ge=0, le=10_000, description="page number, from 0"),
    limit: int = Query(50, ge=1, le=100),
    date: str | None = Query(None, pattern=DATE, description="YYYY-MM-DD"),
    week: str | None = Query(None, pattern=WEEK, description="YYYY-Www"),
    month: str | None = Query(None, pattern=MONTH, description="YYYY-MM"),
    submitter: str | None = Query(None, pattern=USERNAME, description="username"),
    sort: Literal["publishedAt", "trending"] | None = Query(
        None, description="default: as the daily page (upvotes)"
    ),
):
    """Daily papers of a day, week or month (or every day, newest first), as on the pages."""
    bounds = queries.period_bounds(date=date, week=week, month=month)

    def build():
        entries = queries.daily_entries(
            bounds=bounds, sort=sort, submitter=submitter, offset=p * limit, limit=limit
        )
        data = [hf_format.hf_entry(entry) for entry in entries]
        return data, queries.last_modified([entry.paper for entry in entries], entries), None

    return remembered_json(request, build)


@router.get("/papers/search", response={200: list[DailyEntryOut], **READ_ERRORS})
def papers_search(
    request,
    q: str | None = Query(
        None, max_length=500, pattern=TEXT, description="none or blank: trending, then newest"
    ),
    limit: int = Query(20, ge=1, le=100),
):
    """Our hybrid search (keywords and meaning), answered in the upstream search shape.

    Without a query (HfApi.list_papers() sends none): the trending page's papers, then the
    newest others, `limit` in all.
    """

    def build():
        if q is None or not q.strip():
            papers, mode = queries.papers_without_query(limit=limit), "none"
        else:
            papers, mode = queries.search(q, limit=limit)
        entries = queries.first_entries(papers)
        data = [hf_format.hf_search_hit(paper, entries.get(paper.pk)) for paper in papers]
        return data, queries.last_modified(papers), {"X-Search-Mode": str(mode)}

    return remembered_json(request, build)


@router.get("/papers", response={200: list[PaperOut], **READ_ERRORS})
def papers_list(
    request,
    cursor: str | None = Query(None, max_length=200, pattern=CURSOR),
    limit: int = Query(50, ge=1, le=100),
):
    """Every paper, newest arXiv date first; the next page's URL is in the Link header."""
    papers, following = queries.papers_page(cursor=cursor, limit=limit)
    entries = queries.first_entries(papers)
    data = [hf_format.hf_paper(paper, entries.get(paper.pk)) for paper in papers]
    headers = {}
    if following:
        url = request.build_absolute_uri(request.path) + f"?cursor={following}&limit={limit}"
        headers["Link"] = f'<{url}>; rel="next"'
    return cached_json(request, data, last_modified=queries.last_modified(papers), headers=headers)


@router.get("/trending", response={200: list[TrendingOut], **READ_ERRORS})
def trending(request, p: int = Query(0, ge=0, le=10_000), limit: int = Query(50, ge=1, le=100)):
    """The trending page: papers by stored trending score, with the score (see /about)."""
    entries = queries.trending(offset=p * limit, limit=limit)
    data = []
    for entry in entries:
        item = hf_format.hf_entry(entry)
        item["trendingScore"] = entry.paper.trending_score
        data.append(item)
    modified = queries.last_modified([entry.paper for entry in entries], entries)
    return cached_json(request, data, last_modified=modified)


@router.get("/categories", response={200: list[CategoryOut], **READ_ERRORS})
def categories(request):
    """arXiv primary categories with their number of papers, most papers first."""
    return cached_json(request, queries.categories(), max_age=3600)


# "2512.16776/comments": an id, then a part of a paper this API does not have ({path:id}
# takes slashes for old ids such as hep-th/9901001 and for arxiv.org links).
SUB_RESOURCE = re.compile(r"^\d{4}\.\d{4,5}(v\d+)?/[a-z]", re.IGNORECASE)


def _paper_or_404(paper_id):
    if SUB_RESOURCE.match(paper_id):
        return None, error(404, f"No API endpoint at /api/papers/{paper_id[:200]}; see /api/docs.")
    try:
        base = parse_arxiv_id(paper_id).base
    except ValueError as exc:
        return None, error(400, str(exc), field="id")
    paper = selectors.paper_by_arxiv_id(base)
    if paper is None:
        return None, error(404, f"No paper {base} here.", field="id")
    return paper, None


@router.get(
    "/papers/{path:id}/related",
    response={200: list[PaperOut], 404: ErrorOut, **READ_ERRORS},
)
def related(request, id: str, limit: int = Query(10, ge=1, le=50)):
    """Papers related to this one: its text as a keyword query fused with meaning."""
    from dailypapers.search import related_papers

    paper, failure = _paper_or_404(id)
    if failure:
        return failure
    papers = list(related_papers(paper, limit=limit))
    entries = queries.first_entries(papers)
    data = [hf_format.hf_paper(item, entries.get(item.pk)) for item in papers]
    return cached_json(request, data, last_modified=queries.last_modified(papers))


@router.get("/papers/{path:id}", response={200: PaperInfoOut, 404: ErrorOut, **READ_ERRORS})
def paper_info(request, id: str):
    """One paper (any version or arxiv.org link works as the id)."""
    paper, failure = _paper_or_404(id)
    if failure:
        return failure
    entry = queries.first_entries([paper]).get(paper.pk)
    data = hf_format.hf_paper(paper, entry)
    data["numComments"] = paper.num_comments  # HfApi.paper_info(...).comments, as the page
    return cached_json(
        request, data, last_modified=queries.last_modified([paper], [entry] if entry else [])
    )


def paper_markdown(request, id):
    """GET /papers/{id}.md: the paper as Markdown (huggingface_hub's read_paper)."""
    paper, failure = _paper_or_404(id)
    if failure:
        return failure
    facts = [
        f"**Authors:** {', '.join(paper.author_names)}" if paper.authors else None,
        f"**Published:** {paper.published_at:%Y-%m-%d} · **Upvotes:** {paper.upvotes}",
        f"**arXiv:** [{paper.arxiv_id}]({paper.arxiv_url}) · [PDF]({paper.pdf_url})",
        f"**Code:** {paper.github_repo}" if paper.github_repo else None,
        f"**Project page:** {paper.project_page}" if paper.project_page else None,
    ]
    parts = [f"# {paper.title}", *[fact for fact in facts if fact]]
    parts += ["## Abstract", paper.abstract.strip()]
    if paper.ai_summary:
        parts += ["## Summary", paper.ai_summary.strip()]
    body = "\n\n".join(parts) + "\n"  # a blank line between blocks: each its own paragraph
    response = HttpResponse(body, content_type="text/markdown; charset=utf-8")
    response["Cache-Control"] = "public, max-age=300"
    return response
