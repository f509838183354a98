"""Papers and daily entries in the Hugging Face papers API's dialect (field names and types).

One place turns our models into that JSON, so that /api/daily_papers, /api/papers/{id},
search and the feeds agree, and so that a day imported from Hugging Face comes back out
field by field (ingest/sources/hf_daily.py keeps the upstream objects verbatim in
DailyEntry.extra["entry"|"paper"], the submitter in DailyEntry.submitter and the author
dicts in Paper.authors).
"""

import datetime as dt
import hashlib

# Author keys of the upstream format; anything else in Paper.authors is ours.
AUTHOR_KEYS = ("_id", "name", "hidden", "status", "statusLastChangedAt", "user")


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


def _same(upstream, ours):
    """Do they say the same thing? (We store text on one line, arXiv hard-wraps it.)"""
    if isinstance(upstream, str) and isinstance(ours, str):
        return " ".join(upstream.split()) == " ".join(ours.split())
    return upstream == ours


def _put(data, upstream, key, ours):
    """Our value for `key`, in the upstream spelling when that says the same."""
    data[key] = upstream[key] if key in upstream and _same(upstream[key], ours) else ours


def hf_paper(paper, entry=None):
    """The `paper` object (also the body of GET /api/papers/{id}).

    Upstream fields we have no column for (discussionId, mediaUrls, ...) come back as the
    importer kept them (DailyEntry.extra["paper"]); those we store come from our columns,
    so upvotes are live and edits show.
    """
    upstream = _upstream(entry, "paper")
    data = dict(upstream)
    data["id"] = paper.arxiv_id
    data["authors"] = hf_authors(paper)
    _put(data, upstream, "publishedAt", hf_datetime(paper.published_at))
    _put(data, upstream, "title", paper.title)
    _put(data, upstream, "summary", paper.abstract)
    data["upvotes"] = paper.upvotes
    data.setdefault("discussionId", object_id("discussion", paper.arxiv_id))
    if entry is not None:
        _put(data, upstream, "submittedOnDailyAt", hf_datetime(entry.submitted_at))
        if "submittedOnDailyBy" not in upstream:
            submitter = _submitter(entry)
            if submitter:
                keys = ("_id", "avatarUrl", "isPro", "fullname", "user", "type")
                data["submittedOnDailyBy"] = {k: submitter[k] for k in keys if k in submitter}
    optional = {
        "ai_summary": paper.ai_summary,
        "ai_keywords": list(paper.ai_keywords or []),
        "githubRepo": paper.github_repo,
        "githubStars": paper.github_stars,
        "projectPage": paper.project_page,
        "withdrawnAt": hf_datetime(paper.withdrawn_at),
    }
    for key, value in optional.items():
        if value not in (None, "", []):
            _put(data, upstream, key, value)
    organization = hf_organization(paper.organization)
    if organization:
        kept = upstream.get("organization") or {}
        same = kept.get("name") == organization["name"]
        data["organization"] = kept if same else organization
    return data


def _upstream(entry, part):
    if entry is None or not isinstance(entry.extra, dict):
        return {}
    kept = entry.extra.get(part)
    return kept if isinstance(kept, dict) else {}


def hf_entry(entry):
    """A daily entry as /api/daily_papers lists it (upstream fields kept, ours live)."""
    paper = entry.paper
    upstream = _upstream(entry, "entry")
    data = dict(upstream)
    data["paper"] = hf_paper(paper, entry)
    data.setdefault("publishedAt", hf_datetime(entry.submitted_at))
    # The entry's own title/summary may differ from the paper's (TeX removed upstream):
    # kept while the paper's still reads as imported, ours once it was edited.
    upstream_paper = _upstream(entry, "paper")
    for key, ours in (("title", paper.title), ("summary", paper.abstract)):
        if not (key in upstream and _same(upstream_paper.get(key), ours)):
            data[key] = ours
    _put(data, upstream, "thumbnail", paper.thumbnail or upstream.get("thumbnail") or "")
    # The comments a reader finds here, as every page counts them (an imported upstream
    # count, of a discussion held elsewhere, stays in DailyEntry.extra).
    data["numComments"] = paper.num_comments
    submitter = _submitter(entry)
    if submitter:
        data["submittedBy"] = submitter
    data.setdefault("isAuthorParticipating", False)
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
