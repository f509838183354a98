"""The JSON API: one NinjaAPI, one router per domain (routers live beside this file).

Errors are JSON in the upstream shape, {"error": message, "field": name}, with the right
status: 400 for bad parameters (never clamped), 401/403 for tokens, 404, 429 with
Retry-After (rate limits per token and per IP, see security.py).
"""

import math

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError

from dailypapers.curation import api as curation_api
from dailypapers.papers.arxiv_ids import InvalidArxivId
from dailypapers.papers.services import RateLimited, SubmissionError, SubmissionQueued
from dailypapers.plural import counted

from . import follows, members, papers
from .http import error, json_response
from .params import explain
from .queries import BadParameter
from .security import ClientRateThrottle, Forbidden

api = NinjaAPI(
    title="dailypapers API",
    version="1",
    urls_namespace="api",
    description=(
        "Speaks the Hugging Face papers API's dialect (huggingface_hub's HfApi and the "
        "`hf papers` CLI work against it), plus our additions. See docs/api.md."
    ),
    throttle=[ClientRateThrottle()],
)
# Members' routes first: /papers/submit and /papers/{id}/upvote must win over /papers/{id}.
api.add_router("/", members.router)
api.add_router("/", follows.router)
api.add_router("/", papers.router)
api.add_router("/", curation_api.router)


@api.exception_handler(ValidationError)
def invalid(request, exc):
    # The first refusal, in a sentence (params.explain), never the validator's wording.
    if not exc.errors:
        return error(400, "The request is not valid; see /api/docs.")
    field, message = explain(exc.errors[0], query=request.GET)
    return error(400, message, field=field)


@api.exception_handler(BadParameter)
def bad_parameter(request, exc):
    return error(400, str(exc), field=exc.field)


@api.exception_handler(DjangoValidationError)
def refused(request, exc):
    # The digests services explain refusals for people (bad address, too many follows...).
    return error(400, " ".join(exc.messages))


@api.exception_handler(InvalidArxivId)
def invalid_arxiv_id(request, exc):
    return error(400, str(exc), field="id")


@api.exception_handler(SubmissionError)
def submission_refused(request, exc):
    return error(400, str(exc), field="id")


@api.exception_handler(SubmissionQueued)
def submission_queued(request, exc):
    # Not an error: accepted, finished by the worker once arXiv answers (202 Accepted).
    body = {"id": exc.arxiv_id, "status": "queued", "message": str(exc)}
    return json_response(body, status=202)


@api.exception_handler(AuthenticationError)
def unauthenticated(request, exc):
    return error(
        401,
        "A valid API token is needed: send `Authorization: Bearer <token>` "
        "(create one at /settings/tokens).",
        headers={"WWW-Authenticate": "Bearer"},
    )


@api.exception_handler(Forbidden)
def forbidden(request, exc):
    return error(403, str(exc))


@api.exception_handler(Http404)
def not_found(request, exc):
    return error(404, str(exc) or "Not found.")


@api.exception_handler(Throttled)
def throttled(request, exc):
    # The seconds in the sentence too: `hf papers ls` prints the message, not the headers.
    # (django-ninja sets Retry-After to the same rounded-up number.)
    seconds = math.ceil(exc.wait or 1)
    return error(429, f"Too many requests; slow down and retry in {counted(seconds, 'second')}.")


@api.exception_handler(RateLimited)
def rate_limited(request, exc):
    return error(429, str(exc), headers={"Retry-After": str(exc.retry_after)})


@api.exception_handler(HttpError)
def http_error(request, exc):
    if exc.status_code == 400 and str(exc).startswith("Cannot parse request body"):
        return error(400, "The request body must be JSON; /api/docs shows its fields.")
    return error(exc.status_code, str(exc))


@csrf_exempt  # no session is involved; a JSON 404 beats a CSRF 403 page
def api_not_found(request):
    return error(404, f"No API endpoint at {request.path[:200]}; see /api/docs.")
