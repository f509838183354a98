"""Papers and daily entries in the Hugging Face papers API's dialect (field names and types).

One place turns our models into that JSON, so that /api/daily_papers, /api/papers/{id},
search and the feeds agree, and so that a day imported from Hugging Face comes back out
field by field (the importer keeps the upstream fields we have no column for in
DailyEntry.extra, DailyEntry.submitter and the author dicts of Paper.authors).
"""

import datetime as dt
import hashlib

# Author keys of the upstream format; anything else in Paper.authors is ours.
AUTHOR_KEYS = ("_id", "name", "hidden", "status", "statusLastChangedAt", "user")
# Keys we compute for the top level of a daily entry; other upstream keys pass through.
ENTRY_KEYS = ("paper", "publishedAt", "title", "summary", "thumbnail", "numComments")
# Upstream keys of `paper` we have no column for (kept by the importer under extra["paper"]).
PAPER_PASSTHROUGH = ("mediaUrls", "githubRepoAddedBy")


def hf_datetime(value):
    """2025-06-09T17:59:53.000Z: millisecond precision, UTC, as the upstream API writes it."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    value = value.astimezone(dt.UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def object_id(*parts):
    """A stable 24-hex id in the upstream style for things that have none of their own."""
    return hashlib.sha1(":".join(str(part) for part in parts).encode()).hexdigest()[:24]


def hf_authors(paper):
    authors = []
    for position, author in enumerate(paper.authors or []):
        item = {key: author[key] for key in AUTHOR_KEYS if key in author}
        upstream_id = author.get("_id") or author.get("hf_id")
        item["_id"] = upstream_id or object_id(paper.arxiv_id, position)
        item["name"] = author.get("name", "")
        item.setdefault("hidden", False)
        authors.append(item)
    return authors


def hf_organization(organization):
    if organization is None:
        return None
    data = {"name": organization.name, "fullname": organization.fullname or organization.name}
    if organization.avatar_url:
        data["avatar"] = organization.avatar_url
    return {"_id": object_id("org", organization.name), **data}


def hf_user(user):
    """A local member in the upstream `submittedBy` shape."""
    if user is None:
        return None
    return {
        "_id": object_id("user", user.pk),
        "avatarUrl": "",
        "fullname": user.get_full_name() or user.username,
        "name": user.username,
        "user": user.username,
        "type": "user",
        "isPro": False,
    }


def _submitter(entry):
    if entry.submitter:
        return dict(entry.submitter)
    return hf_user(entry.submitted_by)


def hf_paper(paper, entry=None):
    """The `paper` object (also the body of GET /api/papers/{id})."""
    upstream = (entry.extra.get("paper") or {}) if entry is not None else {}
    data = {
        "id": paper.arxiv_id,
        "authors": hf_authors(paper),
        "publishedAt": hf_datetime(paper.published_at),
        "title": paper.title,
        "summary": paper.abstract,
        "upvotes": paper.upvotes,
        "discussionId": upstream.get("discussionId") or object_id("discussion", paper.arxiv_id),
    }
    if entry is not None:
        data["submittedOnDailyAt"] = hf_datetime(entry.submitted_at)
        submitter = _submitter(entry)
        if submitter:
            # Upstream's submittedOnDailyBy is the short user form (no follower counts...).
            keys = ("_id", "avatarUrl", "isPro", "fullname", "user", "type")
            short = {key: submitter[key] for key in keys if key in submitter}
            data["submittedOnDailyBy"] = upstream.get("submittedOnDailyBy") or short
    if paper.ai_summary:
        data["ai_summary"] = paper.ai_summary
    if paper.ai_keywords:
        data["ai_keywords"] = list(paper.ai_keywords)
    if paper.github_repo:
        data["githubRepo"] = paper.github_repo
    if paper.github_stars is not None:
        data["githubStars"] = paper.github_stars
    if paper.project_page:
        data["projectPage"] = paper.project_page
    organization = hf_organization(paper.organization)
    if organization:
        data["organization"] = upstream.get("organization") or organization
    if paper.withdrawn_at:
        data["withdrawnAt"] = hf_datetime(paper.withdrawn_at)
    for key in PAPER_PASSTHROUGH:
        if key in upstream:
            data[key] = upstream[key]
    return data


def hf_entry(entry):
    """A daily entry as /api/daily_papers lists it."""
    paper = entry.paper
    extra = entry.extra or {}
    data = {
        "paper": hf_paper(paper, entry),
        "publishedAt": extra.get("publishedAt") or hf_datetime(entry.submitted_at),
        "title": paper.title,
        "summary": paper.abstract,
        "thumbnail": paper.thumbnail or extra.get("thumbnail") or "",
        "numComments": max(paper.num_comments, extra.get("numComments") or 0),
    }
    submitter = _submitter(entry)
    if submitter:
        data["submittedBy"] = submitter
    data.setdefault("isAuthorParticipating", False)
    for key, value in extra.items():
        if key not in ENTRY_KEYS and key not in data:
            data[key] = value
    if "isAuthorParticipating" in extra:
        data["isAuthorParticipating"] = extra["isAuthorParticipating"]
    return data


def hf_search_hit(paper, entry=None):
    """A search result: upstream answers with daily-entry-shaped objects."""
    if entry is not None:
        return hf_entry(entry)
    return {
        "paper": hf_paper(paper),
        "publishedAt": hf_datetime(paper.published_at),
        "title": paper.title,
        "summary": paper.abstract,
        "thumbnail": paper.thumbnail,
        "numComments": paper.num_comments,
        "isAuthorParticipating": False,
    }
