"""Real papers (Hugging Face daily papers, May 2025, plus every paper about pruning of 2025,
sliced into tests/data by its make_slices.py) and a fresh search directory for each test."""

import datetime as dt
import functools
import gzip
import json

import pytest

from dailypapers.search import keyword


def _clean(text):
    return " ".join((text or "").split())


@functools.cache
def _records(path):
    return json.loads(gzip.decompress(path.read_bytes()))


@pytest.fixture(autouse=True)
def search_dir(fresh_search_dir):
    return fresh_search_dir


@pytest.fixture
def keyword_only(settings):
    """No embedder: search is the keyword engine alone."""
    settings.SEARCH_EMBEDDER = "none"


@pytest.fixture
def tantivy_engine(settings, keyword_only):
    """The tantivy engine, on PostgreSQL too (where the default is PostgreSQL full-text)."""
    settings.SEARCH_ENGINE = "tantivy"


@pytest.fixture
def paper(make_paper):
    """make_paper, then indexed (tests run in a transaction: after-commit hooks never fire)."""
    from dailypapers.search import index_papers

    def make(**fields):
        made = make_paper(**fields)
        index_papers([made.pk])
        return made

    return make


@pytest.fixture
def load_real_papers(db, sample_data):
    """Create the real papers (bulk, no signals) and index them; returns the Paper list."""
    from dailypapers.papers.models import Paper
    from dailypapers.search import index_papers

    def load(*, index=True):
        papers = []
        for record in _records(sample_data / "hf-search-papers.json.gz"):
            published = dt.datetime.fromisoformat(record["publishedAt"].replace("Z", "+00:00"))
            papers.append(
                Paper(
                    arxiv_id=record["id"],
                    title=_clean(record["title"]),
                    abstract=_clean(record.get("summary")),
                    authors=[{"name": a["name"]} for a in record.get("authors", [])],
                    categories=["cs.CL"],
                    primary_category="cs.CL",
                    published_at=published,
                    github_repo=record.get("githubRepo") or "",
                    imported_upvotes=record.get("upvotes") or 0,
                    ai_keywords=record.get("ai_keywords") or [],
                )
            )
        Paper.objects.bulk_create(papers)
        saved = list(Paper.objects.order_by("pk"))
        if index:
            index_papers([p.pk for p in saved])
            keyword.get_index().refresh_statistics()  # as the indexing task does
        return saved

    return load
