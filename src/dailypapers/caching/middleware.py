"""The public pages, served from the cache.

Which pages: the day, week, month and trending listings, paper pages, search results and
every feed (search answers are cached by the API the same way, api/http.py). The
key is the address and the site's generation (generation.py), so a vote, a new entry, an
edit or an index move is visible at once. Every answer carries an ETag (a hash of the body)
and Last-Modified (when the generation last moved), and a client's copy that is current
gets 304. Nothing that sets a cookie or shows a one-time message is kept.

- AnonymousPageCache, before the session middleware: readers without a session cookie
  share one copy of each page, served without loading a session.
- MemberPageCache, after authentication: a member's own copy (their votes, their menu,
  their form token), keyed on the member and the session too, so a reload costs the
  session and user lookups, not the page. Their vote moves the generation: they see it.
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
    r"^/(?:|papers/(?:date|week|month)/[^/]+|papers/trending|papers/[^/]+|feeds/[^/]+|search)$"
)
MESSAGES_COOKIE = "messages"  # django.contrib.messages' cookie storage
KEPT_HEADERS = ("Content-Type", "Content-Language", "X-Frame-Options", "Cache-Control", "Link")


class AnonymousPageCache:
    cache_control = "max-age=0"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not self._cacheable(request):
            return self.get_response(request)
        generation, changed_at = current()
        key = f"page:{generation}:{self._address(request)}{self._whose(request)}"
        hit = cache.get(key)
        if hit is None:
            response = self.get_response(request)
            if not self._storable(request, response):
                return response
            hit = self._stored(response, int(changed_at.timestamp()))
            cache.set(key, hit, settings.PAGE_CACHE_SECONDS)
        return self._answer(request, *hit)

    @staticmethod
    def _address(request):
        return hashlib.sha256(request.get_full_path().encode()).hexdigest()[:32]

    def _whose(self, request):
        return ""

    def _cacheable(self, request):
        return (
            request.method in ("GET", "HEAD")
            and settings.SESSION_COOKIE_NAME not in request.COOKIES
            and MESSAGES_COOKIE not in request.COOKIES
            and PUBLIC_PAGES.match(request.path_info) is not None
        )

    @staticmethod
    def _storable(request, response):
        messages = getattr(request, "_messages", None)
        return (
            response.status_code == 200
            and not response.streaming
            and not response.cookies
            and "no-store" not in response.get("Cache-Control", "")
            # A page that showed (or queued) a one-time message must not show it again.
            and not (
                messages and (getattr(messages, "_loaded_data", None) or messages._queued_messages)
            )  # noqa: E501
        )

    @staticmethod
    def _stored(response, modified):
        body = response.content
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        headers = {name: response[name] for name in KEPT_HEADERS if response.has_header(name)}
        return body, etag, modified, headers

    def _answer(self, request, body, etag, modified, headers):
        response = get_conditional_response(request, etag=etag, last_modified=modified)
        if response is None:
            response = HttpResponse(body)
        for name, value in headers.items():
            response[name] = value
        response["ETag"] = etag
        response["Last-Modified"] = http_date(modified)
        response["Vary"] = "Cookie"
        if "Cache-Control" not in headers:
            response["Cache-Control"] = self.cache_control  # browsers ask again; 304 if current
        return response


class MemberPageCache(AnonymousPageCache):
    """A signed-in member's own copy of the public pages (after AuthenticationMiddleware)."""

    cache_control = "private, max-age=0"

    def _cacheable(self, request):
        return (
            request.method in ("GET", "HEAD")
            and request.user.is_authenticated
            and MESSAGES_COOKIE not in request.COOKIES  # a message waits to be shown
            and "_messages" not in request.session
            and PUBLIC_PAGES.match(request.path_info) is not None
        )

    def _whose(self, request):
        session = hashlib.sha256(request.session.session_key.encode()).hexdigest()[:16]
        return f":member:{request.user.pk}:{session}"
