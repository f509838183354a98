"""arXiv's bulk metadata snapshot (Kaggle `arxiv-metadata-oai-snapshot.json`): JSON lines
of id, submitter, authors, authors_parsed, title, comments, journal-ref, doi, categories,
abstract, versions [{version: "v1", created: RFC 2822 date}], update_date. Streamed, so the
full 4-million-record file goes through in constant memory."""

from dailypapers.papers.arxiv_ids import InvalidArxivId

from ..records import PaperRecord, Rejected
from .common import clean_text, json_lines, parse_rfc2822, split_authors, split_id, versions_from


def parse_snapshot(obj, where="snapshot"):
    try:
        base, _ = split_id(obj.get("id"))
    except InvalidArxivId as exc:
        return Rejected(where, str(exc))
    raw_versions = obj.get("versions") or []
    if not isinstance(raw_versions, list):
        return Rejected(f"{where} ({base})", "'versions' is not a list")
    versions, latest, first, last = versions_from(
        (v.get("version"), parse_rfc2822(v.get("created")))
        for v in raw_versions
        if isinstance(v, dict)
    )
    if first is None:
        return Rejected(f"{where} ({base})", "no version with a readable date")
    title = clean_text(obj.get("title"))
    if not title:
        return Rejected(f"{where} ({base})", "no title")
    categories = clean_text(obj.get("categories")).split()
    return PaperRecord(
        arxiv_id=base,
        version=latest,
        versions=versions,
        title=title,
        published_at=first,
        updated_at=last if latest > 1 else None,
        abstract=clean_text(obj.get("abstract")),
        authors=_authors(obj),
        categories=categories,
        primary_category=categories[0] if categories else "",
        comment=clean_text(obj.get("comments")),
        journal_ref=clean_text(obj.get("journal-ref")),
        doi=clean_text(obj.get("doi")).split(" ")[0],
    )


def _authors(obj):
    """authors_parsed ([last, first, suffix]) when present: it has already split the list."""
    parsed = obj.get("authors_parsed")
    if isinstance(parsed, list) and parsed:
        authors = []
        for parts in parsed:
            if isinstance(parts, list) and parts:
                last, first, suffix = ([*parts, "", ""])[:3]
                name = clean_text(f"{first} {last} {suffix}")
                if name:
                    authors.append({"name": name})
        if authors:
            return authors
    return split_authors(obj.get("authors"))


def read_snapshot(path):
    """Iterator of PaperRecord | Rejected."""
    return json_lines(path, parse_snapshot)
