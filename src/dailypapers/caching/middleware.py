"""The public pages, served from the cache to readers who are not signed in.

Which pages: the day, week, month and trending listings, paper pages and every feed. The
key is the address and the site's generation (generation.py), so a vote, a new entry, an
edit or an index move is visible at once. Every answer carries an ETag (a hash of the body)
and Last-Modified (when the generation last moved), and a client's copy that is current
gets 304. A request with a session cookie (a member) goes through to the views, which
render the member's own votes; so does anything that sets a cookie (never cached).
"""

import hashlib
import re

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.utils.cache import get_conditional_response
from django.utils.http import http_date

from .generation import current

PUBLIC_PAGES = re.compile(
    r"^/(?:|papers/(?:date|week|month)/[^/]+|papers/trending|papers/[^/]+|feeds/[^/]+)$"
)
KEPT_HEADERS = ("Content-Type", "Content-Language", "X-Frame-Options", "Cache-Control", "Link")


class AnonymousPageCache:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not self._cacheable(request):
            return self.get_response(request)
        generation, changed_at = current()
        path = request.get_full_path()
        key = f"page:{generation}:{hashlib.sha256(path.encode()).hexdigest()[:32]}"
        hit = cache.get(key)
        if hit is None:
            response = self.get_response(request)
            if not self._storable(response):
                return response
            hit = self._stored(response, int(changed_at.timestamp()))
            cache.set(key, hit, settings.PAGE_CACHE_SECONDS)
        return self._answer(request, *hit)

    @staticmethod
    def _cacheable(request):
        return (
            request.method in ("GET", "HEAD")
            and settings.SESSION_COOKIE_NAME not in request.COOKIES
            and PUBLIC_PAGES.match(request.path_info) is not None
        )

    @staticmethod
    def _storable(response):
        return (
            response.status_code == 200
            and not response.streaming
            and not response.cookies
            and "no-store" not in response.get("Cache-Control", "")
        )

    @staticmethod
    def _stored(response, modified):
        body = response.content
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        headers = {name: response[name] for name in KEPT_HEADERS if response.has_header(name)}
        return body, etag, modified, headers

    @staticmethod
    def _answer(request, body, etag, modified, headers):
        response = get_conditional_response(request, etag=etag, last_modified=modified)
        if response is None:
            response = HttpResponse(body)
        for name, value in headers.items():
            response[name] = value
        response["ETag"] = etag
        response["Last-Modified"] = http_date(modified)
        response["Vary"] = "Cookie"
        if "Cache-Control" not in headers:
            response["Cache-Control"] = "max-age=0"  # browsers ask again; 304 when current
        return response
