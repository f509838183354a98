"""Who is calling: personal API tokens (Bearer), scopes, and rate limits per token and per IP."""

import time

from django.conf import settings
from django.core.cache import cache
from ninja.security import HttpBearer
from ninja.throttling import BaseThrottle

from dailypapers.accounts.services import token_authenticate


class Forbidden(Exception):
    """A valid token without the scope an endpoint needs (403)."""


class TokenAuth(HttpBearer):
    openapi_description = "A personal token from /settings/tokens: `Authorization: Bearer dp_...`"

    def authenticate(self, request, token):
        found = token_authenticate(token)
        if found is not None:
            request.user = found.user
        return found


def require_scope(request, scope):
    if scope not in request.auth.scopes:
        raise Forbidden(
            f"This token lacks the “{scope}” scope; create one with it at /settings/tokens."
        )


def _bearer_token(request):
    """The token of an anonymous-friendly request, if it carries a valid one (memoised)."""
    if not hasattr(request, "_api_token"):
        header = request.headers.get("Authorization", "")
        scheme, _, secret = header.partition(" ")
        token = getattr(request, "auth", None)
        if token is None and scheme.lower() == "bearer":
            token = token_authenticate(secret.strip())
        request._api_token = token
    return request._api_token


class ClientRateThrottle(BaseThrottle):
    """Fixed one-minute windows in the Django cache: per token when one is sent, else per IP.

    Rates come from settings at each request (API_RATE_TOKEN, API_RATE_ANON; 0 = no limit),
    so operators and tests can change them without rebuilding the API.
    """

    window = 60

    def allow_request(self, request):
        token = _bearer_token(request)
        if token is not None:
            kind, ident, rate = "token", token.pk, settings.API_RATE_TOKEN
        else:
            kind, ident, rate = "ip", self.get_ident(request), settings.API_RATE_ANON
        if not rate:
            return True
        now = time.time()
        window_start = int(now // self.window) * self.window
        self.retry_after = window_start + self.window - now
        key = f"api-rate:{kind}:{ident}:{window_start}"
        cache.add(key, 0, self.window + 5)
        try:
            count = cache.incr(key)
        except ValueError:  # evicted between add and incr: count this request alone
            cache.set(key, 1, self.window + 5)
            count = 1
        return count <= rate

    def wait(self):
        return max(1.0, getattr(self, "retry_after", self.window))
