"""The arXiv query API (Atom): by category and date window, and by id list.

lxml + our polite ArxivHttp rather than the `arxiv` package: that client rate-limits per
Client object only (not across processes), brings its own requests session (no injectable
transport for recorded tests, no day cache), and we need the raw entries anyway to keep
versions, DOI, journal ref and comments in our record type.
"""

from datetime import date

from django.conf import settings
from lxml import etree

from dailypapers.papers.arxiv_ids import InvalidArxivId, parse_arxiv_id

from ..http import ArxivError, ArxivHttp, ArxivRequestError, safe_parser
from ..records import PaperRecord, Rejected
from .common import clean_text, parse_datetime

NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "arxiv": "http://arxiv.org/schemas/atom",
    "opensearch": "http://a9.com/-/spec/opensearch/1.1/",
}
PAGE_SIZE = 100  # arXiv's advice for id lists and a comfortable page for queries
EMPTY_PAGE_RETRIES = 3  # the API now and then answers an empty page mid-way: ask again


def parse_feed(body):
    """Atom body -> (total results, [PaperRecord | Rejected]). Raises ArxivRequestError for
    an answer that is an API error (arXiv sends those as an entry titled "Error")."""
    try:
        root = etree.fromstring(body, parser=safe_parser())
    except etree.XMLSyntaxError as exc:
        raise ArxivError(f"arXiv sent an answer that is not valid XML ({exc})") from None
    if root.tag != f"{{{NS['atom']}}}feed":
        raise ArxivError(f"arXiv sent something that is not an Atom feed ({root.tag})")
    total = root.findtext("opensearch:totalResults", default="0", namespaces=NS)
    records = []
    for entry in root.iterfind("atom:entry", NS):
        entry_id = entry.findtext("atom:id", default="", namespaces=NS)
        if "api/errors" in entry_id:
            message = clean_text(entry.findtext("atom:summary", default="", namespaces=NS))
            raise ArxivRequestError(f"arXiv API error: {message or entry_id}")
        records.append(parse_entry(entry))
    try:
        return int(total.strip()), records
    except ValueError:
        return len(records), records


def parse_entry(entry):
    """One Atom <entry> -> PaperRecord, or Rejected with the reason."""
    entry_id = (entry.findtext("atom:id", default="", namespaces=NS) or "").strip()
    try:
        parsed = parse_arxiv_id(entry_id)
    except InvalidArxivId as exc:
        return Rejected(entry_id or "entry without id", str(exc))
    published = parse_datetime(entry.findtext("atom:published", namespaces=NS))
    updated = parse_datetime(entry.findtext("atom:updated", namespaces=NS))
    title = clean_text(entry.findtext("atom:title", namespaces=NS))
    if published is None or not title:
        return Rejected(parsed.base, "the entry has no title or no published date")
    version = parsed.version or 1
    versions = [{"version": 1, "created": published.isoformat()}]
    if version > 1 and updated:
        versions.append({"version": version, "created": updated.isoformat()})
    categories = [c.get("term") for c in entry.iterfind("atom:category", NS) if c.get("term")]
    primary = entry.find("arxiv:primary_category", NS)
    return PaperRecord(
        arxiv_id=parsed.base,
        version=version,
        versions=versions,
        title=title,
        published_at=published,
        updated_at=updated if version > 1 else None,
        abstract=clean_text(entry.findtext("atom:summary", namespaces=NS)),
        authors=[
            {"name": clean_text(name)}
            for name in entry.xpath("atom:author/atom:name/text()", namespaces=NS)
            if clean_text(name)
        ],
        categories=categories,
        primary_category=primary.get("term", "") if primary is not None else "",
        comment=clean_text(entry.findtext("arxiv:comment", namespaces=NS)),
        journal_ref=clean_text(entry.findtext("arxiv:journal_ref", namespaces=NS)),
        doi=clean_text(entry.findtext("arxiv:doi", namespaces=NS)),
    )


def query(
    *,
    search_query="",
    id_list=(),
    http=None,
    page_size=PAGE_SIZE,
    limit=None,
    sort_by="relevance",
    sort_order="descending",
):
    """Yield PaperRecord | Rejected for a query, page by page (start=0, 100, ...)."""
    own, http = http is None, http or ArxivHttp()
    try:
        yield from _pages(http, search_query, id_list, page_size, limit, sort_by, sort_order)
    finally:
        if own:
            http.close()


def _pages(http, search_query, id_list, page_size, limit, sort_by, sort_order):
    start, retries = 0, 0
    while True:
        size = page_size if limit is None else min(page_size, limit - start)
        if size <= 0:
            return
        params = {
            "search_query": search_query,
            "id_list": ",".join(id_list),
            "sortBy": sort_by,
            "sortOrder": sort_order,
            "start": start,
            "max_results": size,
        }
        body = http.get(settings.ARXIV_API_URL, params)
        total, records = parse_feed(body)
        if not records:
            if start >= total:
                if total == 0:  # not there yet (a paper submitted today): ask again next time
                    http.forget(settings.ARXIV_API_URL, params)
                return
            retries += 1
            if retries > EMPTY_PAGE_RETRIES:
                yield Rejected(
                    f"query start={start}",
                    f"arXiv answered empty pages {retries} times although it counts {total} "
                    "results; stopping here (run it again later)",
                )
                return
            http.forget(settings.ARXIV_API_URL, params)  # or the retry reads it again
            continue
        retries = 0
        yield from records
        start += len(records)
        if start >= total:
            return


def fetch_by_ids(ids, *, http=None):
    """PaperRecords for arXiv ids (any form a user types; latest versions), 100 per call.
    Unknown ids are simply absent from the answer; malformed ones raise InvalidArxivId."""
    bases = list(dict.fromkeys(parse_arxiv_id(i).base for i in ids))
    records = []
    for start in range(0, len(bases), PAGE_SIZE):
        chunk = bases[start : start + PAGE_SIZE]
        for item in query(id_list=chunk, http=http):
            if isinstance(item, PaperRecord):
                records.append(item)
    return records


def fetch_category(category, *, since, until=None, http=None):
    """Yield the papers of `category` first submitted between `since` and `until`
    (dates, inclusive), newest first."""
    until = until or date.today()
    window = f"[{since:%Y%m%d}0000 TO {until:%Y%m%d}2359]"
    yield from query(
        search_query=f"cat:{category} AND submittedDate:{window}",
        http=http,
        sort_by="submittedDate",
        sort_order="descending",
    )
