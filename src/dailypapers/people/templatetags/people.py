"""Author links, organisation links and the "verified author" badge for any template.

`{{ paper|authors_linked }}` (all names) and `{{ paper|authors_linked_short }}` (listing
rows) link each name to its author page when the view attached `author_links`
(selectors.attach_author_links) and print plain names otherwise. A search for an author
sets `paper.sought_positions` (selectors.author_positions): those names stand out, and a
cut byline still shows them.
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


def _html(links, sought=()):
    """`links`: [(position in the byline, (name, url))]."""
    return format_html_join(", ", "{}", ((_name_html(*link, sought),) for link in links))


def _name_html(position, link, sought):
    name, url = link
    if position in sought:
        name = format_html('<strong class="sought">{}</strong>', name)
    return format_html('<a href="{}">{}</a>', url, name) if url else name


@register.filter
def authors_linked(paper):
    return _html(enumerate(_links(paper)))


@register.filter
def authors_linked_short(paper, limit=4):
    """'A, B, C, D et al. (9 authors)' as in listings, each name a link; with the sought
    authors that the cut would hide after them: 'A, B, C, D, …, H et al. (9 authors)'."""
    links = list(enumerate(_links(paper)))
    sought = getattr(paper, "sought_positions", ())
    if len(links) <= limit + 1:
        return _html(links, sought)
    shown = _html(links[:limit], sought)
    hidden = [link for link in links[limit:] if link[0] in sought]
    if hidden:
        shown = format_html("{}, …, {}", shown, _html(hidden, sought))
    return mark_safe(f"{shown} et al. ({len(links):,} authors)")


@register.filter
def verified_author_of(user_id, paper):
    return user_id in verified_user_ids(paper)


@register.filter
def org_url(organization):
    return f"/orgs/{quote(organization.name, safe='')}" if organization else ""


@register.filter
def author_url(author):
    return f"/authors/{author_slug(author.pk, author.name)}"
