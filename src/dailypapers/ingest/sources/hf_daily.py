"""Hugging Face daily papers JSON (`GET /api/daily_papers?date=D`, one file per day).

The schema grew over time: older files lack ai_summary/ai_keywords/githubRepo/...;
`organization` and the repo fields may sit on the entry or on its paper. Each entry
becomes a DailyRecord (paper + the day it was featured + its upstream submitter).

What is kept for a faithful re-export (the HF-compatible API rebuilds the entry from it):
- Paper.authors: each author dict as upstream wrote it (`_id`, `name`, `hidden`, `status`,
  `statusLastChangedAt`, `user`);
- DailyEntry.submitter: the entry's `submittedBy` user object (or the paper's
  `submittedOnDailyBy` when the entry has none);
- DailyEntry.extra = {"entry": the entry's own fields except `paper` and `submittedBy`
  (title, summary, publishedAt, thumbnail, numComments, mediaUrls, isAuthorParticipating,
  organization, ...), "paper": the paper object as upstream wrote it (id, authors, title,
  summary, publishedAt, upvotes on that day, discussionId, submittedOnDailyAt, ...)},
  verbatim. So entry == {**extra["entry"], "paper": extra["paper"],
  "submittedBy": submitter} for the file as ingested (the API may put live upvotes in).
"""

import json
import re
from datetime import date
from pathlib import Path

from ..records import DailyRecord, PaperRecord, Rejected
from .common import clean_text, parse_datetime, split_id

FILE_DAY = re.compile(r"(\d{4}-\d{2}-\d{2})")


def parse_hf_entry(obj, *, day=None):
    """One entry of the daily papers JSON -> DailyRecord. Raises ValueError with the reason.

    `day`: the daily page it belongs to (the file's date); defaults to the day it was
    submitted to Daily Papers.
    """
    if not isinstance(obj, dict):
        raise ValueError("an entry is not a JSON object")
    paper = obj.get("paper")
    if not isinstance(paper, dict):
        raise ValueError("the entry has no 'paper' object")
    base, _version = split_id(paper.get("id"))  # InvalidArxivId is a ValueError
    title = clean_text(paper.get("title") or obj.get("title"))
    if not title:
        raise ValueError(f"{base}: no title")
    published = parse_datetime(paper.get("publishedAt"))
    if published is None:
        raise ValueError(f"{base}: no valid publishedAt: {paper.get('publishedAt')!r}")
    submitted = parse_datetime(paper.get("submittedOnDailyAt")) or parse_datetime(
        obj.get("publishedAt")
    )
    if isinstance(day, str):
        day = date.fromisoformat(day)
    if day is None:
        if submitted is None:
            raise ValueError(f"{base}: no day (no submittedOnDailyAt or publishedAt)")
        day = submitted.date()
    if submitted is None:
        submitted = parse_datetime(day)
    authors = paper.get("authors") or []
    if not isinstance(authors, list) or not all(isinstance(a, dict) for a in authors):
        raise ValueError(f"{base}: 'authors' is not a list of objects")
    upvotes = paper.get("upvotes")
    if upvotes is not None and (not isinstance(upvotes, int) or upvotes < 0):
        raise ValueError(f"{base}: bad upvotes {upvotes!r}")

    def either(key):  # the field may sit on the paper or on the entry
        value = paper.get(key)
        return obj.get(key) if value in (None, "", []) else value

    organization = either("organization")
    ai_keywords = paper.get("ai_keywords") or []
    record = PaperRecord(
        arxiv_id=base,
        title=title,
        published_at=published,
        abstract=clean_text(paper.get("summary") or obj.get("summary")),
        authors=[dict(author) for author in authors],
        github_repo=either("githubRepo") or "",
        github_stars=either("githubStars") if isinstance(either("githubStars"), int) else None,
        project_page=either("projectPage") or "",
        organization=_organization(organization),
        ai_summary=paper.get("ai_summary") or "",
        ai_keywords=[k for k in ai_keywords if isinstance(k, str)],
        thumbnail=obj.get("thumbnail") or "",
        withdrawn_at=parse_datetime(either("withdrawnAt")),
        imported_upvotes=upvotes,
        arxiv_metadata=False,  # a daily feed: arXiv's own word wins over its copy
    )
    submitter = obj.get("submittedBy") or paper.get("submittedOnDailyBy") or {}
    return DailyRecord(
        paper=record,
        day=day,
        submitted_at=submitted,
        submitter=submitter if isinstance(submitter, dict) else {},
        extra={
            "entry": {k: v for k, v in obj.items() if k not in ("paper", "submittedBy")},
            "paper": paper,
        },
    )


def _organization(org):
    if not isinstance(org, dict) or not org.get("name"):
        return None
    return {
        "name": org["name"],
        "fullname": org.get("fullname") or "",
        "avatar_url": org.get("avatar") or org.get("avatarUrl") or "",
    }


def read_hf_daily(path):
    """Iterator of DailyRecord | Rejected from one JSON file or a directory of them."""
    path = Path(path)
    if path.is_dir():
        files = sorted(path.glob("*.json"))
        if not files:
            yield Rejected(str(path), "the directory has no .json files")
        for file in files:
            yield from _read_file(file)
    elif path.exists():
        yield from _read_file(path)
    else:
        yield Rejected(str(path), "no such file or directory")


def _read_file(path):
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, OSError) as exc:
        yield Rejected(path.name, f"not a readable JSON file ({exc})")
        return
    if isinstance(entries, dict) and isinstance(entries.get("papers"), list):
        entries = entries["papers"]  # some dumps wrap the list
    if not isinstance(entries, list):
        yield Rejected(path.name, "expected a JSON array of daily entries")
        return
    match = FILE_DAY.search(path.stem)
    try:
        day = date.fromisoformat(match[1]) if match else None
    except ValueError:
        day = None  # not a real date: each entry's submission day decides
    for index, obj in enumerate(entries):
        try:
            yield parse_hf_entry(obj, day=day)
        except (ValueError, TypeError, AttributeError) as exc:
            yield Rejected(f"{path.name}[{index}]", str(exc))
