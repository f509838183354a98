"""Responses of the read endpoints: JSON with ETag, Last-Modified and Cache-Control.

A client that sends If-None-Match / If-Modified-Since gets 304 when nothing changed. The
ETag is a hash of the body, so it is exact; Last-Modified is the newest change among the
papers, entries and votes in the answer (a retracted vote leaves no trace there, which is
why If-None-Match is checked first, as RFC 9110 asks).
"""

import hashlib
import json

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.utils.cache import get_conditional_response
from django.utils.http import http_date


def error(status, message, *, field=None, headers=None):
    """Errors in the upstream shape ({"error": ...}, which huggingface_hub shows), plus field."""
    body = {"error": message}
    if field:
        body["field"] = field
    response = HttpResponse(json.dumps(body), status=status, content_type="application/json")
    for key, value in (headers or {}).items():
        response[key] = value
    return response


def json_response(data, status=200):
    return HttpResponse(json_body(data), status=status, content_type="application/json")


def json_body(data):
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def cached_json(request, data, *, last_modified=None, max_age=None, headers=None):
    """200 with validators, or 304 when the client's copy is current."""
    body = json_body(data)
    timestamp = int(last_modified.timestamp()) if last_modified else None
    return _answer(request, body, _etag(body), timestamp, max_age, headers)


def remembered_json(request, build, *, max_age=None):
    """Like cached_json, but the rendered answer is kept in the Django cache.

    `build()` returns (data, last_modified, headers). The key holds the full URL and the
    site's generation (caching/generation.py, in the database, so shared by every process),
    which every vote, entry, paper write and search indexing moves: members see their own
    changes at once, and once a bulk import is indexed no answer kept from before it is
    served, an empty search answer included.
    """
    from dailypapers.caching.generation import current

    key = "api-answer:" + hashlib.sha256(request.get_full_path().encode()).hexdigest()[:32]
    key += f":{current()[0]}"
    hit = cache.get(key)
    if hit is None:
        data, last_modified, headers = build()
        body = json_body(data)
        timestamp = int(last_modified.timestamp()) if last_modified else None
        hit = (body, _etag(body), timestamp, headers)
        cache.set(key, hit, settings.API_CACHE_MAX_AGE)
    body, etag, timestamp, headers = hit
    return _answer(request, body, etag, timestamp, max_age, headers)


def _etag(body):
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _answer(request, body, etag, timestamp, max_age, headers):
    not_modified = get_conditional_response(request, etag=etag, last_modified=timestamp)
    response = not_modified or HttpResponse(body, content_type="application/json")
    response["ETag"] = etag
    if timestamp is not None:
        response["Last-Modified"] = http_date(timestamp)
    max_age = settings.API_CACHE_MAX_AGE if max_age is None else max_age
    response["Cache-Control"] = f"public, max-age={max_age}"
    response["Vary"] = "Accept-Encoding"
    for key, value in (headers or {}).items():
        response[key] = value
    return response
