"""The rows of paper listings, rendered once and cached until the paper changes.

A row is the costly part of a listing page (~30 template lookups each, 50 a page), and it
changes only when its paper does: the cache key holds the paper's upvotes and comment count
(written with UPDATE ... F(), which leaves modified_at alone), its modified_at (bumped by
ingest, the admin and every save), and what differs between readers: voted or not, or, for
visitors, nothing: their rows hold a mark where the page to come back to after signing
in goes, filled in when the page is put together, so one cached row serves every listing
and every search. Rows hold no CSRF token (the vote buttons submit one shared form of the
page), so members' rows are shared too. A search for an author marks that author in its
rows (`sought`), which are cached apart.
"""

import hashlib

from django.core.cache import cache
from django.template.defaultfilters import urlencode
from django.template.loader import get_template
from django.utils.safestring import mark_safe

from dailypapers.papers.models import Vote
from dailypapers.people.selectors import attach_author_links
from dailypapers.thumbnails.selectors import thumbnail_image

ROW_TIMEOUT = 24 * 3600  # an organisation renamed in the admin shows within a day
NEXT_MARK = "dp-next-page-mark"  # survives the template's urlencode unchanged


def rows_html(request, stamps, fetch, *, show_day=False, sought=None):
    """The HTML of the rows for `stamps`, in order.

    `stamps`: [(paper id, upvotes, comments, modified_at, day)] of the page, best first.
    `fetch(paper_ids)`: {paper id: DailyEntry with its paper} for the rows not cached.
    `sought`: {paper id: the byline positions of the authors searched for}.
    """
    sought = sought or {}
    if not stamps:
        return ""
    voted = _voted(request, [stamp[0] for stamp in stamps])
    signed_in = request.user.is_authenticated
    reader = "member" if signed_in else "visitor"
    keys = {}
    for paper_id, upvotes, comments, modified, day in stamps:
        state = "voted" if paper_id in voted else reader
        when = day if show_day else ""
        marked = ",".join(map(str, sorted(sought.get(paper_id, ()))))
        stamp = f"{upvotes}:{comments}:{modified}:{when}:{state}:{marked}".encode()
        keys[paper_id] = f"row:{paper_id}:{hashlib.blake2b(stamp, digest_size=12).hexdigest()}"
    cached = cache.get_many(list(keys.values()))
    missing = [paper_id for paper_id, key in keys.items() if key not in cached]
    if missing:
        entries = fetch(missing)
        for paper_id, entry in entries.items():
            entry.paper.sought_positions = sought.get(paper_id, set())
        cached.update(_render(entries, keys, voted, signed_in, show_day))
    html = "".join(cached.get(keys[stamp[0]], "") for stamp in stamps)
    return mark_safe(html.replace(NEXT_MARK, urlencode(request.get_full_path())))


def _render(entries, keys, voted, signed_in, show_day):
    """{cache key: row HTML} of `entries` ({paper id: entry with its paper}), now cached."""
    template = get_template("web/_row.html")
    fresh = {}
    attach_author_links([entry.paper for entry in entries.values()])
    for paper_id, entry in entries.items():
        entry.paper.voted = paper_id in voted
        if not hasattr(entry.paper, "image"):  # else attached already (attach_thumbnails)
            entry.paper.image = thumbnail_image(entry.paper)  # its task touches modified_at
        context = {"entry": entry, "paper": entry.paper, "show_day": show_day}
        context.update(signed_in=signed_in, next=NEXT_MARK)
        fresh[keys[paper_id]] = template.render(context)
    cache.set_many(fresh, ROW_TIMEOUT)
    return fresh


def _voted(request, paper_ids):
    if not request.user.is_authenticated:
        return set()
    votes = Vote.objects.filter(user=request.user, paper_id__in=paper_ids)
    return set(votes.values_list("paper_id", flat=True))
