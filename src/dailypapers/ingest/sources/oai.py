"""arXiv OAI-PMH: ListRecords in the `arXivRaw` (all versions with dates) and `arXiv`
formats, by set (`cs`, `cs:cs:CL`, `physics:hep-th`) and datestamp window.

lxml rather than oaipmh-scythe: arXiv's two formats need their own parsing anyway, and our
polite ArxivHttp (shared rate limit, Retry-After, day cache, injectable transport) must do
the fetching; the protocol part left is a loop over resumption tokens, kept here.
Resumption tokens are stored in OaiHarvest after each page is ingested, so an interrupted
harvest resumes where it stopped (a page seen twice is harmless: the upsert is idempotent).
"""

from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone
from lxml import etree

from dailypapers.papers.arxiv_ids import InvalidArxivId, parse_arxiv_id

from ..http import ArxivError, ArxivHttp, ArxivRequestError, safe_parser
from ..models import OaiHarvest
from ..records import PaperRecord, Rejected
from .common import clean_text, parse_datetime, parse_rfc2822, split_authors, versions_from

OAI = "http://www.openarchives.org/OAI/2.0/"
FORMATS = {"arXivRaw": "http://arxiv.org/OAI/arXivRaw/", "arXiv": "http://arxiv.org/OAI/arXiv/"}


class OaiError(ArxivRequestError):
    """An OAI-PMH <error>: code (badArgument, badResumptionToken, ...) and arXiv's text."""

    def __init__(self, code, message):
        super().__init__(f"OAI-PMH error {code}: {message}")
        self.code = code


@dataclass
class Page:
    records: list
    token: str  # "" on the last page
    complete_list_size: int | None = None


def parse_response(body):
    """An OAI-PMH answer -> Page. Raises OaiError for an <error> (noRecordsMatch included)."""
    try:
        root = etree.fromstring(body, parser=safe_parser())
    except etree.XMLSyntaxError as exc:
        raise ArxivError(f"the OAI-PMH answer is not valid XML ({exc})") from None
    error = root.find(f"{{{OAI}}}error")
    if error is not None:
        raise OaiError(error.get("code", "unknown"), clean_text(error.text))
    records = [parse_record(record) for record in root.iter(f"{{{OAI}}}record")]
    token_element = root.find(f".//{{{OAI}}}resumptionToken")
    token, size = "", None
    if token_element is not None:
        token = (token_element.text or "").strip()
        size = token_element.get("completeListSize")
    return Page(records, token, int(size) if size and size.isdigit() else None)


def parse_record(record):
    """One OAI <record> (arXivRaw or arXiv format) -> PaperRecord or Rejected."""
    header = record.find(f"{{{OAI}}}header")
    identifier = clean_text(header.findtext(f"{{{OAI}}}identifier")) if header is not None else ""
    if header is not None and header.get("status") == "deleted":
        return Rejected(identifier, "deleted at arXiv")
    for prefix, ns in FORMATS.items():
        metadata = record.find(f"{{{OAI}}}metadata/{{{ns}}}{prefix}")
        if metadata is not None:
            parse = _parse_raw if prefix == "arXivRaw" else _parse_arxiv
            try:
                return parse(metadata, ns)
            except (InvalidArxivId, ValueError) as exc:
                return Rejected(identifier or "record", str(exc))
    return Rejected(identifier or "record", "no arXiv or arXivRaw metadata in the record")


def _text(element, ns, name):
    return clean_text(element.findtext(f"{{{ns}}}{name}"))


def _common(element, ns, base):
    categories = _text(element, ns, "categories").split()
    title = _text(element, ns, "title")
    if not title:
        raise ValueError(f"{base}: no title")
    return {
        "arxiv_id": base,
        "title": title,
        "abstract": _text(element, ns, "abstract"),
        "categories": categories,
        "primary_category": categories[0] if categories else "",
        "comment": _text(element, ns, "comments"),
        "journal_ref": _text(element, ns, "journal-ref"),
        "doi": _text(element, ns, "doi").split(" ")[0],
    }


def _parse_raw(element, ns):
    base = parse_arxiv_id(_text(element, ns, "id")).base
    versions, latest, first, last = versions_from(
        (v.get("version"), parse_rfc2822(v.findtext(f"{{{ns}}}date")))
        for v in element.iterfind(f"{{{ns}}}version")
    )
    if first is None:
        raise ValueError(f"{base}: no version with a readable date")
    return PaperRecord(
        **_common(element, ns, base),
        version=latest,
        versions=versions,
        published_at=first,
        updated_at=last if latest > 1 else None,
        authors=split_authors(_text(element, ns, "authors")),
    )


def _parse_arxiv(element, ns):
    """The `arXiv` format has no version numbers: the record counts as v1 and so never
    overrides a newer version another source stored."""
    base = parse_arxiv_id(_text(element, ns, "id")).base
    created = parse_datetime(_text(element, ns, "created"))
    if created is None:
        raise ValueError(f"{base}: no readable <created> date")
    authors = []
    for author in element.iterfind(f"{{{ns}}}authors/{{{ns}}}author"):
        parts = [_text(author, ns, "forenames"), _text(author, ns, "keyname"),
                 _text(author, ns, "suffix")]  # fmt: skip
        name = " ".join(part for part in parts if part)
        if name:
            authors.append({"name": name})
    return PaperRecord(
        **_common(element, ns, base),
        published_at=created,
        versions=[{"version": 1, "created": created.isoformat()}],
        authors=authors,
    )


def list_pages(*, set_spec="", from_date=None, until=None, metadata_prefix="arXivRaw",
               token="", http=None):  # fmt: skip
    """Yield Page after Page of ListRecords, following resumption tokens."""
    if metadata_prefix not in FORMATS:
        raise ValueError(f"unknown OAI format {metadata_prefix!r}: use arXivRaw or arXiv")
    own, http = http is None, http or ArxivHttp()
    try:
        yield from _pages(http, set_spec, from_date, until, metadata_prefix, token)
    finally:
        if own:
            http.close()


def _pages(http, set_spec, from_date, until, metadata_prefix, token):
    while True:
        if token:
            params = {"verb": "ListRecords", "resumptionToken": token}
        else:
            params = {"verb": "ListRecords", "metadataPrefix": metadata_prefix}
            if set_spec:
                params["set"] = set_spec
            if from_date:
                params["from"] = from_date.isoformat()
            if until:
                params["until"] = until.isoformat()
        page = parse_response(http.get(settings.ARXIV_OAI_URL, params))
        yield page
        if not page.token:
            return
        token = page.token


def harvest(*, set_spec="", from_date=None, until=None, metadata_prefix="arXivRaw",
            http=None, ingest=None, dry_run=False, progress=None):  # fmt: skip
    """Harvest into the database, resuming an unfinished harvest of the same window.

    `ingest(records, dry_run=...) -> IngestSummary` defaults to upsert_records.
    Returns (summary, OaiHarvest).
    """
    from ..upsert import IngestSummary, upsert_records

    ingest = ingest or upsert_records
    state = (
        OaiHarvest.objects.filter(
            set_spec=set_spec,
            metadata_prefix=metadata_prefix,
            from_date=from_date,
            until_date=until,
            finished_at=None,
        )
        .order_by("-updated_at")
        .first()  # fmt: skip
        or OaiHarvest(
            set_spec=set_spec,
            metadata_prefix=metadata_prefix,
            from_date=from_date,
            until_date=until,
        )  # fmt: skip
    )
    summary = IngestSummary()
    pages = list_pages(set_spec=set_spec, from_date=from_date, until=until,
                       metadata_prefix=metadata_prefix, token=state.resumption_token,
                       http=http)  # fmt: skip
    try:
        for page in pages:
            summary.add(ingest(page.records, dry_run=dry_run))
            if progress:
                progress(len(page.records), page.complete_list_size)
            if not dry_run:
                state.resumption_token = page.token
                state.pages += 1
                state.records += len(page.records)
                state.complete_list_size = page.complete_list_size or state.complete_list_size
                state.last_error = ""
                state.save()
    except OaiError as exc:
        if exc.code == "noRecordsMatch":  # nothing new in the window: a normal outcome
            pass
        elif exc.code == "badResumptionToken":
            if not dry_run:
                state.resumption_token, state.last_error = "", str(exc)
                state.save()
            raise OaiError(
                exc.code,
                "arXiv no longer knows the saved resumption token (they expire); "
                "run the same harvest again to start it over",
            ) from None
        else:
            raise
    except ArxivError as exc:
        if not dry_run and state.pk:
            state.last_error = str(exc)
            state.save()
        raise
    if not dry_run:
        state.finished_at = timezone.now()
        state.resumption_token = ""
        state.save()
    return summary, state
