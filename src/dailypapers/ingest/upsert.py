"""The one idempotent upsert that every source feeds: PaperRecord/DailyRecord -> rows.

Rules (arxiv-sanity-lite's, extended to several sources):
- keyed by the arXiv base id; versions only move forward: a record of an older version
  than the stored one never overwrites arXiv metadata (title, abstract, authors, ...);
- a newer version updates the paper in place, so its votes, comments and daily entries stay;
- an empty field in a record means "this source does not say", never "erase it";
- imported upvotes only grow (each daily file holds the count on the day it was saved) and
  live in Paper.imported_upvotes, apart from local votes;
- the same record twice changes nothing and is counted as unchanged.

Speed: records are handled in batches; each batch is one transaction with one query to
find the stored papers, then set-based writes (ingest/bulk.py: COPY on PostgreSQL,
executemany and json_each on SQLite) for new papers, changed papers and author links.
bench/ingest.py measures it.
"""

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson
from django.db import connection, transaction
from django.db.models import Q
from django.utils.text import slugify

from dailypapers.papers.arxiv_ids import InvalidArxivId, parse_arxiv_id
from dailypapers.papers.models import DailyEntry, Organization, Paper
from dailypapers.papers.ranking import trending_score
from dailypapers.papers.signals import papers_changed_on_commit

from . import bulk
from .records import DailyRecord, PaperRecord, Rejected
from .sources.common import split_collaborations

BATCH_SIZE = 2000
NEW_STYLE_BASE = re.compile(r"\d{2}(0[1-9]|1[0-2])\.\d{4,5}\Z")  # the common case, fast
IN_CHUNK = 900  # below SQLite's historic limit of 999 parameters per statement

# Columns that ingest writes, in this order (Paper's counters, flags and timestamps aside).
PAPER_FIELDS = [
    "version",
    "versions",
    "title",
    "abstract",
    "authors",
    "categories",
    "primary_category",
    "comment",
    "journal_ref",
    "doi",
    "github_repo",
    "github_stars",
    "project_page",
    "organization_id",
    "ai_summary",
    "ai_keywords",
    "thumbnail",
    "published_at",
    "updated_at",
    "withdrawn_at",
    "imported_upvotes",
]
# Fields that belong to one arXiv version: only the newest version (from arXiv) sets them.
VERSIONED = ["title", "abstract", "categories", "primary_category", "comment", "journal_ref", "doi"]
# Fields other services add; any source that has them may set them.
ENRICHMENT = ["github_repo", "project_page", "ai_summary", "ai_keywords", "thumbnail"]
JSON_FIELDS = {"versions", "authors", "categories", "ai_keywords"}
DATETIME_FIELDS = {"published_at", "updated_at", "withdrawn_at"}
MAX_LENGTHS = {
    "primary_category": 40,
    "doi": 200,
    "github_repo": 500,
    "project_page": 500,
    "thumbnail": 500,
}


@dataclass
class IngestSummary:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    older: int = 0  # records of an older version than the stored one: ignored
    rejected: list[Rejected] = field(default_factory=list)
    entries_new: int = 0
    entries_updated: int = 0
    entries_unchanged: int = 0
    new_paper_ids: list[int] = field(default_factory=list)

    def add(self, other):
        """Fold another summary (of a later page or batch) into this one."""
        for name in ("new", "updated", "unchanged", "older", "entries_new", "entries_updated",
                     "entries_unchanged"):  # fmt: skip
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.rejected.extend(other.rejected)
        self.new_paper_ids.extend(other.new_paper_ids)
        return self

    @property
    def seen(self):
        return self.new + self.updated + self.unchanged + self.older + len(self.rejected)

    def lines(self, *, max_reasons=20):
        """The human summary that commands print."""
        lines = [
            f"papers: {self.new} new, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.older} older versions ignored, {len(self.rejected)} rejected"
        ]
        if self.entries_new or self.entries_updated or self.entries_unchanged:
            lines.append(
                f"daily entries: {self.entries_new} new, {self.entries_updated} updated, "
                f"{self.entries_unchanged} unchanged"
            )
        for rejected in self.rejected[:max_reasons]:
            lines.append(f"  rejected {rejected.where}: {rejected.reason}")
        if len(self.rejected) > max_reasons:
            lines.append(f"  ... and {len(self.rejected) - max_reasons} more rejected")
        return lines

    def __str__(self):
        return "\n".join(self.lines())


class _DryRun(Exception):
    """Raised inside the outer transaction to roll a dry run back."""


def upsert_records(records: Iterable, *, dry_run=False, batch_size=BATCH_SIZE, progress=None):
    """Create or update papers from PaperRecords (Rejected items are just counted).

    `progress(n)` is called after each batch with the number of records handled.
    """
    return _run(records, daily=False, dry_run=dry_run, batch_size=batch_size, progress=progress)


def upsert_daily_records(records: Iterable, *, dry_run=False, batch_size=BATCH_SIZE, progress=None):
    """Create or update papers and their DailyEntry rows from DailyRecords."""
    return _run(records, daily=True, dry_run=dry_run, batch_size=batch_size, progress=progress)


def _run(records, *, daily, dry_run, batch_size, progress):
    """Batches of `batch_size`, each in its own short transaction (so that votes and other
    writers wait for one batch at most, never for a whole multi-million-record file); a dry
    run does them all in one transaction that it rolls back."""
    summary = IngestSummary()

    def batches():
        batch = []
        for item in records:
            batch.append(item)
            if len(batch) >= batch_size:
                yield batch
                batch = []
        if batch:
            yield batch

    def run_all():
        for batch in batches():
            _run_batch(batch, summary, daily=daily)
            if progress:
                progress(len(batch))

    if not dry_run:
        run_all()
        return summary
    try:
        with transaction.atomic():
            run_all()
            raise _DryRun
    except _DryRun:
        summary.new_paper_ids = []
    return summary


def _run_batch(batch, summary, *, daily):
    papers = []
    daily_records = []
    for item in batch:
        reason = _check(item, daily=daily)
        if reason:
            summary.rejected.append(
                item if isinstance(item, Rejected) else Rejected(_where(item), reason)
            )
            continue
        if daily:
            daily_records.append(item)
            papers.append(item.paper)
        else:
            papers.append(item)
    with transaction.atomic():
        ids, touched, written = _upsert_papers(papers, summary)
        if daily:
            _upsert_entries(daily_records, ids, summary)
            touched.update(ids[record.paper.arxiv_id] for record in daily_records)
        _refresh_trending(touched)
        # Search and the API cache follow once the batch is committed (not on a dry run).
        papers_changed_on_commit("ingest", written | touched)


def _where(item):
    record = item.paper if isinstance(item, DailyRecord) else item
    return getattr(record, "arxiv_id", None) or repr(item)[:80]


def _check(item, *, daily):
    """Why `item` cannot be ingested, or None."""
    if isinstance(item, Rejected):
        return item.reason
    if daily:
        if not isinstance(item, DailyRecord):
            return f"expected a daily record, got {type(item).__name__}"
        if not isinstance(item.submitted_at, datetime) or item.submitted_at.tzinfo is None:
            return "the daily entry has no timezone-aware submission time"
        item = item.paper
    if not isinstance(item, PaperRecord):
        return f"expected a paper record, got {type(item).__name__}"
    if not isinstance(item.arxiv_id, str) or not NEW_STYLE_BASE.match(item.arxiv_id):
        try:
            parsed = parse_arxiv_id(item.arxiv_id)
        except InvalidArxivId as exc:
            return str(exc)
        if parsed.base != item.arxiv_id:
            return f"“{item.arxiv_id}” is not a base arXiv id (no version, no prefix)"
    if not (item.title or "").strip():
        return "the record has no title"
    if not isinstance(item.published_at, datetime) or item.published_at.tzinfo is None:
        return "the record has no timezone-aware publication date"
    if not isinstance(item.version, int) or item.version < 1:
        return f"bad version {item.version!r}"
    return None


# Papers ------------------------------------------------------------------------------


def _upsert_papers(records, summary):
    """Insert/update the papers of one batch; returns ({arxiv_id: id}, ids whose upvotes
    or dates changed, for the trending score, ids of the papers written)."""
    records = _latest_per_id(records, summary)
    stored = _stored_papers([record.arxiv_id for record in records])
    org_ids = _organization_ids(records)
    bylines = {record.arxiv_id: _authors(record) for record in records}
    collab_ids = _collaboration_ids(
        labels[0] for record in records if not _org_name(record.organization)
        for _, labels in [bylines[record.arxiv_id]] if labels
    )  # fmt: skip
    now = datetime.now(UTC)
    inserts, updates, relink = [], [], {}  # relink: {arxiv id: its authors' names, in order}
    touched = set()
    new_row = _new_row_maker(now)
    for record in records:
        authors, labels = bylines[record.arxiv_id]
        org_id = org_ids.get(_org_name(record.organization))
        # A collaboration's name ("NVIDIA: ...") is the paper's organisation, when the
        # sources name none: it never replaces one.
        byline_org_id = collab_ids.get(labels[0]) if labels and not org_id else None
        old = stored.get(record.arxiv_id)
        if old is None:
            inserts.append(new_row(record, org_id or byline_org_id, authors))
            relink[record.arxiv_id] = [author["name"] for author in authors]
            continue
        if not org_id and not old["organization_id"]:
            org_id = byline_org_id
        if record.version < old["version"] and not _enrichment_differs(
            record, old, org_id, authors
        ):
            summary.older += 1
            continue
        merged = _merge(old, record, org_id, authors)
        if all(merged[name] == old[name] for name in PAPER_FIELDS):
            summary.unchanged += 1
            continue
        summary.updated += 1
        updates.append((old["id"], merged))
        names = [author["name"] for author in merged["authors"]]
        if names != [author["name"] for author in old["authors"]]:
            relink[record.arxiv_id] = names
        if merged["imported_upvotes"] != old["imported_upvotes"]:
            touched.add(old["id"])
    ids = {arxiv_id: row["id"] for arxiv_id, row in stored.items()}
    written = {paper_id for paper_id, _ in updates}
    if inserts:
        new_ids = bulk.insert_papers(INSERT_COLUMNS, inserts)
        written.update(new_ids.values())
        summary.new += len(new_ids)
        summary.new_paper_ids.extend(new_ids.values())
        ids.update(new_ids)  # their score was computed on insert
        _stored_meanwhile(inserts, new_ids, ids, relink, summary)
    if updates:
        _update_papers(updates, now)
    if relink:
        bulk.link_authors(
            {ids[arxiv_id]: names for arxiv_id, names in relink.items()},
            replace=[stored[arxiv_id]["id"] for arxiv_id in relink if arxiv_id in stored],
        )
    return ids, touched, written


def _stored_meanwhile(inserts, new_ids, ids, relink, summary):
    """Papers that a concurrent ingest (PostgreSQL) stored between our look-up and our
    insert: theirs stands, with its authors; counted as unchanged."""
    missing = [row[0] for row in inserts if row[0] not in new_ids]
    if missing:
        ids.update(bulk.select_papers(["arxiv_id", "id"], missing))
        summary.unchanged += len(missing)
        for arxiv_id in missing:
            relink.pop(arxiv_id, None)


def _latest_per_id(records, summary):
    """One record per arXiv id in a batch: the newest version (the later one on a tie)."""
    latest = {}
    for record in records:
        kept = latest.get(record.arxiv_id)
        if kept is None or record.version >= kept.version:
            latest[record.arxiv_id] = record
        if kept is not None:
            summary.unchanged += 1  # a duplicate in the input
    return list(latest.values())


def _chunks(items, size=IN_CHUNK):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start : start + size]


STORED_COLUMNS = ["id", "arxiv_id", "local_upvotes", *PAPER_FIELDS]


def _stored_papers(arxiv_ids):
    """{arxiv_id: {field: value}} of the papers already stored, in one query, with values
    as the ORM would give them (decoded by hand: the ORM's converters cost more than the
    query on a re-import, where every paper is found)."""
    stored = {}
    for row in bulk.select_papers(STORED_COLUMNS, arxiv_ids):
        paper = dict(zip(STORED_COLUMNS, row, strict=True))
        for name in JSON_FIELDS:
            if isinstance(paper[name], (str, bytes)):
                paper[name] = orjson.loads(paper[name])
        for name in DATETIME_FIELDS:
            paper[name] = _aware(paper[name])
        stored[paper["arxiv_id"]] = paper
    return stored


def _aware(value):
    """A stored datetime as an aware one (SQLite's raw cursor gives naive UTC, or text)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def _org_name(org):
    name = org.get("name") if isinstance(org, dict) else None
    return name.strip()[:200] if isinstance(name, str) else ""


def _organization_ids(records):
    orgs = {}
    for record in records:
        name = _org_name(record.organization)
        if name:
            orgs[name] = record.organization
    if not orgs:
        return {}
    ids = {}
    for stored in Organization.objects.filter(name__in=orgs):
        ids[stored.name] = stored.id
        org = orgs[stored.name]  # one named after a byline lacks what the source knows
        fullname = (org.get("fullname") or "")[:300]
        avatar = _url(org.get("avatar_url") or org.get("avatar"))
        if (fullname and not stored.fullname) or (avatar and not stored.avatar_url):
            stored.fullname, stored.avatar_url = (
                stored.fullname or fullname,
                stored.avatar_url or avatar,
            )
            stored.save(update_fields=["fullname", "avatar_url"])
    for name, org in orgs.items():
        if name not in ids:
            created, _ = Organization.objects.get_or_create(
                name=name,
                defaults={
                    "fullname": (org.get("fullname") or "")[:300],
                    "avatar_url": _url(org.get("avatar_url") or org.get("avatar")),
                },
            )
            ids[name] = created.id
    return ids


def _collaboration_ids(labels):
    """{collaboration label: organisation id}: the organisation whose handle or full name
    it is ("NVIDIA" -> nvidia), else a new one with the label as full name (as members
    name one on a paper's page), handle slugified; labels without one are left out."""
    ids = {}
    for label in set(labels):
        label = label[:300]
        found = Organization.objects.filter(Q(name__iexact=label) | Q(fullname__iexact=label))
        org = found.order_by("pk").first()
        if org is None:
            handle = slugify(label)[:200]
            if not handle:
                continue
            org, _ = Organization.objects.get_or_create(name=handle, defaults={"fullname": label})
        ids[label] = org.id
    return ids


def _url(value, limit=500):
    value = (value or "").strip()
    return value if value.startswith(("http://", "https://")) and len(value) <= limit else ""


def _clean(name, value):
    if value is None:
        return [] if name in JSON_FIELDS else ""
    if name in ("github_repo", "project_page", "thumbnail"):
        return _url(value)
    if name in MAX_LENGTHS and isinstance(value, str):
        return value[: MAX_LENGTHS[name]]
    return value


def _authors(record):
    """([{"name": ...}, ...] with tidy names of people (<= 300 chars, Author.name), the
    collaboration labels of the byline): common.split_collaborations."""
    authors = []
    for author in record.authors:
        if isinstance(author, str):
            author = {"name": author}
        name = author.get("name")
        if not isinstance(name, str) or not name or len(name) > 300 or name != name.strip():
            name = " ".join(str(name or "").split())[:300]
            if not name:
                continue
            author = {**author, "name": name}
        authors.append(author)
    return split_collaborations(authors)


def _new_row_maker(now):
    """A function record -> INSERT parameters (INSERT_COLUMNS order), adapted for this
    database. Built by hand rather than through model instances: this is the hot loop."""
    as_json, as_datetime = _json_and_datetime()
    created = as_datetime(now)

    def json_list(value):
        return as_json(list(value)) if value else as_json([])

    def new_row(record, org_id, authors):
        categories = record.categories or []
        upvotes = max(record.imported_upvotes or 0, 0)
        primary = record.primary_category or (categories[0] if categories else "")
        return (
            record.arxiv_id,
            record.version,
            json_list(record.versions),
            record.title,
            record.abstract or "",
            as_json(authors),
            json_list(categories),
            primary[:40],
            record.comment or "",
            record.journal_ref or "",
            (record.doi or "")[:200],
            _url(record.github_repo),
            record.github_stars,
            _url(record.project_page),
            org_id,
            record.ai_summary or "",
            json_list(record.ai_keywords),
            _url(record.thumbnail),
            as_datetime(record.published_at),
            as_datetime(record.updated_at),
            as_datetime(record.withdrawn_at),
            upvotes,
            trending_score(upvotes=upvotes, featured_at=record.published_at),
            0,  # local_upvotes
            0,  # num_comments
            False,  # hidden
            created,
            created,
        )

    return new_row


INSERT_COLUMNS = [
    "arxiv_id",
    *PAPER_FIELDS,
    "trending_score",
    "local_upvotes",
    "num_comments",
    "hidden",
    "created_at",
    "modified_at",
]


def _enrichment_differs(record, old, org_id, authors):
    """Does an older-version record still bring upvotes, code links, ...?"""
    merged = _merge(old, record, org_id, authors)
    return any(merged[name] != old[name] for name in PAPER_FIELDS)


def _merge(old, record, org_id, authors):
    merged = dict(old)
    newer = record.version > old["version"]
    same = record.version == old["version"]
    if newer or (same and record.arxiv_metadata):
        for name in VERSIONED:
            value = _clean(name, getattr(record, name))
            if value:
                merged[name] = value
        if record.categories and not record.primary_category:
            merged["primary_category"] = _clean("primary_category", record.categories[0])
        if record.updated_at and (newer or not old["updated_at"]):
            merged["updated_at"] = record.updated_at
    merged["version"] = max(old["version"], record.version)
    stored_people, _ = split_collaborations(old["authors"])  # heals bylines stored before
    merged["authors"] = _merge_authors(
        stored_people, authors, replace=newer or (same and record.arxiv_metadata)
    )
    merged["versions"] = _merge_versions(old["versions"], record.versions)
    if record.published_at < old["published_at"]:
        merged["published_at"] = record.published_at  # the v1 date: the earliest word wins
    for name in ENRICHMENT:
        value = _clean(name, getattr(record, name))
        if value:
            merged[name] = list(value) if isinstance(value, list) else value
    if record.github_stars is not None:
        merged["github_stars"] = record.github_stars
    if org_id:
        merged["organization_id"] = org_id
    if record.withdrawn_at:
        merged["withdrawn_at"] = record.withdrawn_at
    if record.imported_upvotes is not None:
        merged["imported_upvotes"] = max(old["imported_upvotes"], record.imported_upvotes)
    return merged


def _merge_authors(old, new, *, replace):
    """Keep upstream keys (Hugging Face's _id, user, ...) of authors whose name matches."""
    if not new:
        return old
    old_names = [author["name"] for author in old]
    new_names = [author["name"] for author in new]
    if old_names == new_names:
        return [{**before, **after} for before, after in zip(old, new, strict=True)]
    return new if replace or not old else old


def _merge_versions(old, new):
    if not new:
        return old
    by_number = {v.get("version"): v for v in old}
    by_number.update({v.get("version"): v for v in new})
    return [by_number[key] for key in sorted(by_number, key=lambda n: n or 0)]


# Raw statements: executemany with values adapted once, for speed ----------------------


def _json_and_datetime():
    """Value adapters for JSON and datetime columns on this database (what the fields'
    get_db_prep_value does, without the per-value overhead). JSON goes as text on both
    databases (COPY sends text anyway on PostgreSQL)."""

    def as_json(value):  # orjson: a fifth of json.dumps's time, in the hot loop
        return orjson.dumps(value).decode()

    adapt_datetime = connection.ops.adapt_datetimefield_value

    def as_datetime(value):
        return None if value is None else adapt_datetime(value)

    return as_json, as_datetime


def _adapt(name, value, as_json, as_datetime):
    if name in JSON_FIELDS:
        return as_json(value)
    if name in DATETIME_FIELDS:
        return as_datetime(value)
    return value


def _update_papers(updates, now):
    as_json, as_datetime = _json_and_datetime()
    modified = as_datetime(now)
    rows = [
        (
            paper_id,
            *[_adapt(name, merged[name], as_json, as_datetime) for name in PAPER_FIELDS],
            modified,
        )  # fmt: skip
        for paper_id, merged in updates
    ]
    bulk.update_papers([*PAPER_FIELDS, "modified_at"], rows)


# Daily entries --------------------------------------------------------------------------


def _upsert_entries(records, ids, summary):
    latest = {}
    for record in records:  # the same paper twice on one day: the last word counts
        latest[(ids[record.paper.arxiv_id], record.day)] = record
    stored = {}
    for chunk in _chunks({paper_id for paper_id, _ in latest}):
        for entry in DailyEntry.objects.filter(paper_id__in=chunk):
            stored[(entry.paper_id, entry.day)] = entry
    creates, changed = [], []
    for (paper_id, day), record in latest.items():
        values = {
            "submitter": record.submitter or {},
            "submitted_at": record.submitted_at,
            "extra": record.extra or {},
        }
        entry = stored.get((paper_id, day))
        if entry is None:
            creates.append(
                DailyEntry(paper_id=paper_id, day=day, source=DailyEntry.Source.IMPORT, **values)
            )
        elif entry.source == DailyEntry.Source.IMPORT and any(
            getattr(entry, name) != value for name, value in values.items()
        ):
            for name, value in values.items():
                setattr(entry, name, value)
            changed.append(entry)
        else:  # unchanged, or a member/moderator put it there: theirs stays
            summary.entries_unchanged += 1
    summary.entries_unchanged += len(records) - len(latest)
    DailyEntry.objects.bulk_create(creates)
    DailyEntry.objects.bulk_update(changed, ["submitter", "submitted_at", "extra"])
    summary.entries_new += len(creates)
    summary.entries_updated += len(changed)


def _refresh_trending(paper_ids):
    """Stored trending score = f(upvotes, first time featured) for the given papers."""
    if not paper_ids:
        return
    rows = {}
    for chunk in _chunks(paper_ids):
        for row in Paper.objects.filter(pk__in=chunk).values(
            "id", "imported_upvotes", "local_upvotes", "published_at", "trending_score"
        ):
            rows[row["id"]] = row
        first = (
            DailyEntry.objects.filter(paper_id__in=chunk)
            .values_list("paper_id", "submitted_at")
            .order_by("paper_id", "submitted_at")
        )
        for paper_id, submitted_at in first:
            row = rows[paper_id]
            row.setdefault("featured_at", submitted_at)
    changes = []
    for row in rows.values():
        score = trending_score(
            upvotes=row["imported_upvotes"] + row["local_upvotes"],
            featured_at=row.get("featured_at", row["published_at"]),
        )
        if not math.isclose(score, row["trending_score"], abs_tol=1e-9):
            changes.append((row["id"], score))
    if changes:
        bulk.update_papers(["trending_score"], changes)
