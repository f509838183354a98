"""The answer to an error that escaped every view (urls.handler500).

When the database is the cause (PostgreSQL restarting or unreachable, SQLite on a full or
read-only disk) the site answers 503 with Retry-After and says what is going on, instead
of a 500: a load balancer or a client can retry, and a reader knows their change was not
saved. Django's persistent connections are health-checked at each request, so the next
request after the database is back reconnects: no restart needed. Nothing here touches
the database.
"""

import logging
import sys

from django.db.utils import InterfaceError, OperationalError
from django.http import HttpResponse, HttpResponseServerError, JsonResponse
from django.template import loader

log = logging.getLogger(__name__)

DATABASE_DOWN = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 30
# SQLite's words for a disk that is full or read-only (a read-only disk can also keep it
# from opening the database at all, in WAL mode).
CANNOT_WRITE = (
    "readonly database",
    "read-only",
    "disk is full",
    "disk i/o error",
    "unable to open database file",
)

UNAVAILABLE = (
    "The site's database is not answering right now. Nothing is lost; please try again in a minute."
)
READ_ONLY = (
    "The site cannot save changes right now: its disk is full or read-only. What you sent "
    "was not saved; reading still works. Please try again later."
)


# The API's error shape, {"error": ...}, which huggingface_hub prints (docs/api.md).
API_FAILED = "Something went wrong on our side; it has been logged. Please try again later."


def server_error(request):
    error = sys.exc_info()[1]
    api = request.path.startswith("/api/")
    if not isinstance(error, DATABASE_DOWN):
        if api:
            return JsonResponse({"error": API_FAILED}, status=500)
        return HttpResponseServerError(loader.get_template("500.html").render())
    cannot_write = any(words in str(error).lower() for words in CANNOT_WRITE)
    message = READ_ONLY if cannot_write else UNAVAILABLE
    log.error("database unavailable for %s %s: %s", request.method, request.path, error)
    if api:
        response = JsonResponse({"error": message}, status=503)
    else:
        title = "Changes cannot be saved" if cannot_write else "The database is unavailable"
        page = loader.get_template("503.html").render({"title": title, "message": message})
        response = HttpResponse(page, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response
