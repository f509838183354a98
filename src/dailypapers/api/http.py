"""Responses of the read endpoints: JSON with ETag, Last-Modified and Cache-Control.

A client that sends If-None-Match / If-Modified-Since gets 304 when nothing changed. The
ETag is a hash of the body, so it is exact; Last-Modified is the newest change among the
papers, entries and votes in the answer (a retracted vote leaves no trace there, which is
why If-None-Match is checked first, as RFC 9110 asks).

Answers of 1 KB and more are gzipped for clients that accept it (huggingface_hub's httpx
does): a page of 50 papers is ~270 KB of JSON. A kept answer is compressed once, when
stored. BREACH, which reads secrets from the length of compressed answers, needs a browser
sending its own credentials; the API's are a token in a header no browser adds by itself.
"""

import gzip
import hashlib
import json

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.utils.cache import get_conditional_response
from django.utils.http import http_date

from dailypapers.caching.middleware import ACCEPTS_GZIP, GZIP_FROM

LAYOUT = 2  # of a kept answer (remembered_json): a shared cache may hold the old layout


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
    packed = _packed(body) if _accepts_gzip(request) else None
    return _answer(request, body, packed, _etag(body), timestamp, max_age, headers)


def remembered_json(request, build, *, max_age=None):
    """Like cached_json, but the rendered answer is kept in the Django cache.

    `build()` returns (data, last_modified, headers). The key holds the full URL and the
    site's generation (caching/generation.py, in the database, so shared by every process),
    which every vote, entry, paper write and search indexing moves: members see their own
    changes at once, and once a bulk import is indexed no answer kept from before it is
    served, an empty search answer included.
    """
    from dailypapers.caching.generation import current

    path = hashlib.sha256(request.get_full_path().encode()).hexdigest()[:32]
    key = f"api-answer:{LAYOUT}:{path}:{current()[0]}"
    hit = cache.get(key)
    if hit is None:
        data, last_modified, headers = build()
        body = json_body(data)
        timestamp = int(last_modified.timestamp()) if last_modified else None
        hit = (body, _packed(body), _etag(body), timestamp, headers)  # gzipped once, here
        cache.set(key, hit, settings.API_CACHE_MAX_AGE)
    body, packed, etag, timestamp, headers = hit
    if not _accepts_gzip(request):
        packed = None
    return _answer(request, body, packed, etag, timestamp, max_age, headers)


def _etag(body):
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _accepts_gzip(request):
    return ACCEPTS_GZIP.search(request.headers.get("Accept-Encoding", "")) is not None


def _packed(body):
    """`body` gzipped, or None when it is too small to gain from it."""
    return gzip.compress(body, mtime=0) if len(body) >= GZIP_FROM else None


def _answer(request, body, packed, etag, timestamp, max_age, headers):
    """The answer, gzipped when `packed` is given (the client accepts it): another
    representation, so another ETag, as the page cache does."""
    if packed is not None:
        body, etag = packed, etag[:-1] + '-gzip"'
    not_modified = get_conditional_response(request, etag=etag, last_modified=timestamp)
    response = not_modified or HttpResponse(body, content_type="application/json")
    if packed is not None and not not_modified:
        response["Content-Encoding"] = "gzip"
    response["ETag"] = etag
    if timestamp is not None:
        response["Last-Modified"] = http_date(timestamp)
    max_age = settings.API_CACHE_MAX_AGE if max_age is None else max_age
    response["Cache-Control"] = f"public, max-age={max_age}"
    response["Vary"] = "Accept-Encoding"
    for key, value in (headers or {}).items():
        response[key] = value
    return response
