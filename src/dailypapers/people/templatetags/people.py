"""Author links, organisation links and the "verified author" badge for any template.

`{{ paper|authors_linked }}` (all names) and `{{ paper|authors_linked_short }}` (listing
rows) link each name to its author page when the view attached `author_links`
(selectors.attach_author_links) and print plain names otherwise.
`{% if comment.user_id|verified_author_of:paper %}` is the badge's test (one query a paper).
"""

from urllib.parse import quote

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from ..models import author_slug
from ..selectors import verified_user_ids

register = template.Library()


def _links(paper):
    links = getattr(paper, "author_links", None)
    if links is None:
        links = [(name, "") for name in paper.author_names]
    return links


def _html(links):
    return format_html_join(
        ", ",
        "{}",
        ((format_html('<a href="{}">{}</a>', url, name) if url else name,) for name, url in links),
    )


@register.filter
def authors_linked(paper):
    return _html(_links(paper))


@register.filter
def authors_linked_short(paper, limit=4):
    """'A, B, C, D et al. (9 authors)' as in listings, each name a link."""
    links = _links(paper)
    if len(links) <= limit + 1:
        return _html(links)
    return mark_safe(f"{_html(links[:limit])} et al. ({len(links)} authors)")


@register.filter
def verified_author_of(user_id, paper):
    return user_id in verified_user_ids(paper)


@register.filter
def org_url(organization):
    return f"/orgs/{quote(organization.name, safe='')}" if organization else ""


@register.filter
def author_url(author):
    return f"/authors/{author_slug(author.pk, author.name)}"
