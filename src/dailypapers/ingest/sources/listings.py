"""The daily arXiv listing JSON lines (`arxiv-listings-*.jsonl.gz`), streamed.

Each line: id, title, authors[] (names), categories[], comment, summary, pdf, abs, and
`listed` (the first listing day it appeared on; the records carry no dates of their own,
so the listing day stands in for the publication date until arXiv itself says better).
"""

from dailypapers.papers.arxiv_ids import InvalidArxivId

from ..records import PaperRecord, Rejected
from .common import clean_text, json_lines, parse_datetime, split_id


def parse_listing(obj, where="listing"):
    try:
        base, version = split_id(obj.get("id"))
    except InvalidArxivId as exc:
        return Rejected(where, str(exc))
    listed = parse_datetime(obj.get("listed"))
    if listed is None:
        return Rejected(f"{where} ({base})", f"no valid 'listed' date: {obj.get('listed')!r}")
    title = clean_text(obj.get("title"))
    if not title:
        return Rejected(f"{where} ({base})", "no title")
    authors = obj.get("authors") or []
    if not isinstance(authors, list):
        return Rejected(f"{where} ({base})", "'authors' is not a list")
    categories = [c for c in obj.get("categories") or [] if isinstance(c, str)]
    return PaperRecord(
        arxiv_id=base,
        version=version or 1,
        title=title,
        published_at=listed,
        abstract=clean_text(obj.get("summary")),
        authors=[{"name": name} for name in map(clean_text, map(str, authors)) if name],
        categories=categories,
        primary_category=categories[0] if categories else "",
        comment=clean_text(obj.get("comment")),
    )


def read_listings(path):
    """Iterator of PaperRecord | Rejected."""
    return json_lines(path, parse_listing)
