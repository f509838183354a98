"""Write endpoints for members, authenticated by personal API tokens with scopes."""

from ninja import Query, Router

from dailypapers.papers.services import paper_submit, vote_cast, vote_retract

from . import hf_format, queries
from .http import json_response
from .papers import _paper_or_404
from .schemas import (
    DailyEntryOut,
    ErrorOut,
    RecommendationOut,
    SubmitIn,
    SubmitQueuedOut,
    VoteOut,
)
from .security import TokenAuth, require_scope

router = Router(tags=["members"], auth=TokenAuth(), by_alias=True)

WRITE_ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 429: ErrorOut}


@router.post("/papers/submit", response={201: DailyEntryOut, 202: SubmitQueuedOut, **WRITE_ERRORS})
def submit(request, body: SubmitIn):
    """Put a paper on today's daily page by arXiv id or link (scope: submit). 202 when
    arXiv did not answer in time: the submission is queued and finished by the worker."""
    require_scope(request, "submit")
    # SubmissionError / InvalidArxivId (400), RateLimited (429) and SubmissionQueued (202)
    # are mapped in urls.py.
    entry = paper_submit(user=request.auth.user, arxiv_id=body.id)
    entry.paper.refresh_from_db()
    return json_response(hf_format.hf_entry(entry), status=201)


def _vote(request, id, cast):
    require_scope(request, "vote")
    paper, failure = _paper_or_404(id)
    if failure:
        return failure
    action = vote_cast if cast else vote_retract
    changed = action(user=request.auth.user, paper=paper)
    paper.refresh_from_db(fields=["imported_upvotes", "local_upvotes", "upvotes"])
    result = {"id": paper.arxiv_id, "upvotes": paper.upvotes, "upvoted": cast}
    return json_response({**result, "changed": changed})


@router.post("/papers/{path:id}/upvote", response={200: VoteOut, 404: ErrorOut, **WRITE_ERRORS})
def upvote(request, id: str):
    """Upvote a paper (scope: vote); upvoting twice changes nothing."""
    return _vote(request, id, cast=True)


@router.delete("/papers/{path:id}/upvote", response={200: VoteOut, 404: ErrorOut, **WRITE_ERRORS})
def unupvote(request, id: str):
    """Take back an upvote (scope: vote)."""
    return _vote(request, id, cast=False)


@router.get("/for_you", response={200: list[RecommendationOut], **WRITE_ERRORS})
def for_you(request, limit: int = Query(20, ge=1, le=100)):
    """The member's "For you" papers, each with why it was picked (scope: read)."""
    require_scope(request, "read")
    from dailypapers.search import recommend_for

    picks = list(recommend_for(request.auth.user, limit=limit))
    entries = queries.first_entries([pick.paper for pick in picks])
    data = [
        {**hf_format.hf_paper(pick.paper, entries.get(pick.paper.pk)), "reason": pick.reason}
        for pick in picks
    ]
    response = json_response(data)
    response["Cache-Control"] = "private, no-store"  # personal: never in a shared cache
    return response
