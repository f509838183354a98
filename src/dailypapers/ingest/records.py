"""The one normalised record type that every source produces and the upsert consumes."""

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass
class PaperRecord:
    arxiv_id: str  # base id, no version
    title: str
    published_at: datetime  # v1 date (timezone-aware)
    version: int = 1
    versions: list[dict] = field(default_factory=list)  # [{"version": 1, "created": iso}]
    updated_at: datetime | None = None
    abstract: str = ""
    authors: list[dict] = field(default_factory=list)  # [{"name": ...}] in paper order
    categories: list[str] = field(default_factory=list)
    primary_category: str = ""
    comment: str = ""
    journal_ref: str = ""
    doi: str = ""
    github_repo: str = ""
    github_stars: int | None = None
    project_page: str = ""
    organization: dict | None = None  # {"name", "fullname", "avatar_url"}
    ai_summary: str = ""
    ai_keywords: list[str] = field(default_factory=list)
    thumbnail: str = ""
    withdrawn_at: datetime | None = None
    imported_upvotes: int | None = None  # None: the source says nothing about upvotes
    # False for daily feeds (Hugging Face): their title/abstract/authors fill a new paper
    # but never replace what arXiv itself said about an existing one.
    arxiv_metadata: bool = True


@dataclass
class DailyRecord:
    """A paper featured on a day by another daily feed (Hugging Face's format)."""

    paper: PaperRecord
    day: date
    submitted_at: datetime
    submitter: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)


@dataclass
class Rejected:
    """A source record that could not be read; ingest reports it and goes on."""

    where: str  # file:line, URL, or record id
    reason: str
