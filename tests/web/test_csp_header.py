"""Every answer carries the Content-Security-Policy, pages served from the cache included."""

import re

from django.conf import settings


def policy(response):
    return response.headers.get("Content-Security-Policy", "")


def test_pages_carry_the_policy_and_no_inline_code(client, day_of_papers):
    paper = day_of_papers[0]
    for path in ["/", "/", "/about", f"/papers/{paper.arxiv_id}", "/accounts/login/", "/nope"]:
        response = client.get(path)
        assert "script-src 'self'" in policy(response), path
        assert "frame-ancestors 'none'" in policy(response), path
        html = response.content.decode()
        # No inline script or style, no event-handler attribute, no javascript: link.
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        assert "<style" not in html and " style=" not in html, path
        assert not re.search(r"\son[a-z]+=", html) and "javascript:" not in html, path


def test_the_policy_allows_nothing_from_elsewhere():
    for directive, sources in settings.SECURE_CSP.items():
        assert set(sources) <= {"'self'", "'none'", "data:"}, directive
