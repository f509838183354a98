"""arXiv's announcement feeds (https://rss.arxiv.org/atom/cs.CL, also RSS 2.0): what was
announced today, each entry marked new, cross, replace or replace-cross.

The feed says less than the API (announcement date, not the v1 date; authors in one
string), so the records it gives are a quick first version that the query API or OAI-PMH
later refine: the upsert keeps the earliest publication date it is told.
"""

import re

from django.conf import settings
from lxml import etree

from dailypapers.papers.arxiv_ids import InvalidArxivId, parse_arxiv_id

from ..http import ArxivError, ArxivHttp, safe_parser
from ..records import PaperRecord, Rejected
from .common import clean_text, parse_datetime, parse_rfc2822, split_authors

NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "arxiv": "http://arxiv.org/schemas/atom",
    "dc": "http://purl.org/dc/elements/1.1/",
}
ANNOUNCE_TYPES = ("new", "cross", "replace", "replace-cross")
ABSTRACT = re.compile(r"^.*?Announce Type:\s*\S+\s*Abstract:\s*", re.S)


def parse_feed(body):
    """Atom or RSS 2.0 body -> [(announce type, PaperRecord | Rejected)]."""
    try:
        root = etree.fromstring(body, parser=safe_parser())
    except etree.XMLSyntaxError as exc:
        raise ArxivError(f"the arXiv feed is not valid XML ({exc})") from None
    if root.tag == f"{{{NS['atom']}}}feed":
        items = root.iterfind("atom:entry", NS)
    elif root.tag == "rss":
        items = root.iterfind("channel/item")
    else:
        raise ArxivError(f"not an Atom or RSS feed ({root.tag})")
    return [parse_item(item) for item in items]


def _find(item, *paths):
    for path in paths:
        text = item.findtext(path, namespaces=NS)
        if text and text.strip():
            return text
    return ""


def parse_item(item):
    raw_id = clean_text(_find(item, "atom:id", "guid"))
    announce = clean_text(_find(item, "arxiv:announce_type")).lower() or "new"
    try:
        parsed = parse_arxiv_id(re.sub(r"^oai:arXiv\.org:", "", raw_id))
    except InvalidArxivId as exc:
        return announce, Rejected(raw_id or "feed item without id", str(exc))
    date_text = _find(item, "atom:published", "atom:updated", "pubDate")
    announced = parse_datetime(date_text) or parse_rfc2822(date_text)
    title = clean_text(_find(item, "atom:title", "title"))
    if announced is None or not title:
        return announce, Rejected(parsed.base, "the feed item has no title or no date")
    summary = _find(item, "atom:summary", "description")
    creators = _find(item, "dc:creator", "atom:author/atom:name")
    categories = [c.get("term") for c in item.iterfind("atom:category", NS) if c.get("term")]
    categories = categories or [clean_text(c.text) for c in item.iterfind("category") if c.text]
    version = parsed.version or 1
    return announce, PaperRecord(
        arxiv_id=parsed.base,
        version=version,
        title=title,
        published_at=announced,
        updated_at=announced if version > 1 else None,
        abstract=clean_text(ABSTRACT.sub("", summary)),
        authors=split_authors(creators),
        categories=categories,
        primary_category=categories[0] if categories else "",
        doi=clean_text(_find(item, "arxiv:DOI")).split(" ")[0],
        journal_ref=clean_text(_find(item, "arxiv:journal_reference")),
    )


def fetch_announcements(category, *, http=None, types=ANNOUNCE_TYPES):
    """[(announce type, PaperRecord | Rejected)] of today's feed for `category`
    (several joined with '+', as arXiv allows), restricted to `types`."""
    own, http = http is None, http or ArxivHttp()
    try:
        body = http.get(f"{settings.ARXIV_RSS_URL.rstrip('/')}/{category}")
    finally:
        if own:
            http.close()
    return [(kind, item) for kind, item in parse_feed(body) if kind in types]
