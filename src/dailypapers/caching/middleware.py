"""The public pages, served from the cache.

Which pages: the day, week, month and trending listings, paper pages, search results and
every feed (search answers are cached by the API the same way, api/http.py). The
key is the address and the site's generation (generation.py), so a vote, a new entry, an
edit or an index move is visible at once. Every answer carries an ETag (a hash of the body)
and Last-Modified (when the generation last moved), and a client's copy that is current
gets 304. Nothing that sets a cookie or shows a one-time message is kept.

The copy that readers without a session share is also kept gzipped, compressed once when
stored, for the clients that accept it (every browser and feed reader): the trending feed
is 112 KB as text and about 20 KB gzipped, and sending it is most of what a hit costs. A
member's copy is never compressed: it holds their form token, and a compressed page that
also echoes what an attacker typed leaks such secrets through its length (BREACH).

PageCache sits before the session middleware, so a hit loads no session and no user:
- readers without a session cookie share one copy of each page;
- a signed-in member gets their own copy (their votes, their menu, their form token),
  keyed on their session and CSRF cookies. It is stored only once the session has proved
  to be a member's, it is never served past the session's expiry, and signing in or out
  (or any change to an account) moves the generation (apps.py), so a copy made for a
  session that has ended is never served again, in any process.
"""

import gzip
import hashlib
import re
import time

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
# The security headers too: a hit is answered before the CSP middleware runs.
KEPT_HEADERS = (
    "Content-Type", "Content-Language", "X-Frame-Options", "Cache-Control", "Link",
    "Content-Security-Policy", "Content-Security-Policy-Report-Only",
    "Access-Control-Allow-Origin", "Access-Control-Expose-Headers",  # feeds (api/middleware.py)
)  # fmt: skip
NEVER = float("inf")
ACCEPTS_GZIP = re.compile(r"\bgzip\b")  # as django.middleware.gzip reads Accept-Encoding
LAYOUT = 2  # of a stored copy (_stored): a shared cache may still hold the old layout's
GZIP_FROM = 1024  # bytes; smaller bodies gain less than the header costs


class PageCache:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not self._cacheable(request):
            return self.get_response(request)
        generation, changed_at = current()
        session = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
        path = _digest(request.get_full_path())
        key = f"page:{LAYOUT}:{generation}:{path}{_whose(request, session)}"
        hit = cache.get(key)
        if hit is None or hit[-1] < time.time():
            response = self.get_response(request)
            if not _storable(request, response, session):
                return response
            hit = _stored(
                response,
                int(changed_at.timestamp()),
                _expiry(request, session),
                member=session is not None,
            )
            cache.set(key, hit, settings.PAGE_CACHE_SECONDS)
        return _answer(request, *hit, member=session is not None)

    @staticmethod
    def _cacheable(request):
        return (
            request.method in ("GET", "HEAD")
            and MESSAGES_COOKIE not in request.COOKIES  # a message waits to be shown
            and PUBLIC_PAGES.match(request.path_info) is not None
        )


def _digest(text):
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _whose(request, session):
    if session is None:
        return ""
    # The CSRF cookie too: the page's forms carry a token made from it.
    return ":member:" + _digest(session + "|" + request.COOKIES.get(settings.CSRF_COOKIE_NAME, ""))


def _storable(request, response, session):
    messages = getattr(request, "_messages", None)
    return (
        response.status_code == 200
        and not response.streaming
        and not _sets_cookies(request, response)
        and "no-store" not in response.get("Cache-Control", "")
        # A page that showed (or queued) a one-time message must not show it again.
        and not (
            messages and (getattr(messages, "_loaded_data", None) or messages._queued_messages)
        )
        and (session is None or _is_members(request, session))
    )


def _sets_cookies(request, response):
    """Any cookie but the CSRF cookie sent again unchanged (Django renews its expiry on every
    page with a form; the copy served from the cache just leaves the browser's as it is)."""
    csrf = settings.CSRF_COOKIE_NAME
    renewed = (
        {csrf}
        if csrf in response.cookies and (response.cookies[csrf].value == request.COOKIES.get(csrf))
        else set()
    )
    return bool(set(response.cookies) - renewed)


def _is_members(request, session):
    """The page was made for a signed-in member whose session is this cookie's."""
    user = getattr(request, "user", None)
    store = getattr(request, "session", None)
    return (
        user is not None
        and user.is_authenticated
        and store.session_key == session
        and "_messages" not in store  # a message stored in the session waits to be shown
    )


def _expiry(request, session):
    return NEVER if session is None else request.session.get_expiry_date().timestamp()


def _stored(response, modified, expires, *, member):
    body = response.content
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {name: response[name] for name in KEPT_HEADERS if response.has_header(name)}
    return body, _gzipped(body, member), etag, modified, headers, expires


def _gzipped(body, member):
    """The body gzipped, or None (a member's page, a small body, or no gain)."""
    if member or len(body) < GZIP_FROM:
        return None
    packed = gzip.compress(body, compresslevel=6, mtime=0)
    return packed if len(packed) < len(body) else None


def _answer(request, body, packed, etag, modified, headers, expires, member):
    if packed is not None and ACCEPTS_GZIP.search(request.META.get("HTTP_ACCEPT_ENCODING", "")):
        body, etag = packed, etag[:-1] + '-gzip"'  # another representation, another tag
    else:
        packed = None
    response = get_conditional_response(request, etag=etag, last_modified=modified)
    if response is None:
        response = HttpResponse(body)
        # Set here, as CommonMiddleware (inside) would: without it the server sends the
        # body chunked.
        response["Content-Length"] = len(body)
        if packed is not None:
            response["Content-Encoding"] = "gzip"
    for name, value in headers.items():
        response[name] = value
    response["ETag"] = etag
    response["Last-Modified"] = http_date(modified)
    response["Vary"] = "Cookie" if member else "Cookie, Accept-Encoding"
    if "Cache-Control" not in headers:
        # Browsers ask again each time, and get 304 while their copy is current.
        response["Cache-Control"] = "private, max-age=0" if member else "max-age=0"
    return response
