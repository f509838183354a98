"""Small display helpers for paper lists (kept cheap: the daily page renders 50 rows)."""

from django import template

from dailypapers.papers.tex import tex_plain

register = template.Library()


@register.filter
def short_authors(authors, limit=4):
    """'A, B, C, D et al.' from Paper.authors ([{"name": ...}])."""
    names = [author.get("name", "") for author in authors or () if isinstance(author, dict)]
    if len(names) <= limit + 1:
        return ", ".join(names)
    return f"{', '.join(names[:limit])} et al. ({len(names)} authors)"


@register.filter
def plain_tex(text):
    """Titles and abstracts where KaTeX does not run: `$\\mathcal{O}(n^2)$` -> `O(n²)`."""
    return tex_plain(text)


@register.filter
def preview(text, length=280):
    """The first `length` characters of an abstract, cut at a word boundary."""
    text = " ".join((text or "").split())
    if len(text) <= length:
        return text
    cut = text[:length].rsplit(" ", 1)[0]
    return f"{cut}…"


@register.filter
def repo_name(url):
    """'https://github.com/owner/repo' -> 'owner/repo' (any other URL comes back whole)."""
    url = url or ""
    for prefix in ("https://github.com/", "http://github.com/"):
        if url.startswith(prefix):
            return url[len(prefix) :].strip("/") or url
    return url
