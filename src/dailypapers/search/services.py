"""Writes of the search app: keeping the indexes in step with papers, members' feedback."""

import logging

from django.db import transaction

from dailypapers.papers.models import DailyEntry, Paper

from . import keyword, pgvector
from .embedders import EmbedderUnavailable, get_embedder
from .models import PaperEmbedding, PaperFeedback

log = logging.getLogger(__name__)

BATCH = 2000


def index_papers(paper_ids, *, embed=True):
    """Bring the keyword index and the embeddings of these papers up to date.

    New and changed papers are (re)indexed, hidden or deleted ones removed. Idempotent;
    ingest calls it after a bulk write, signals after single saves.
    Returns the number of papers indexed.
    """
    paper_ids = sorted({int(pk) for pk in paper_ids})
    indexed = 0
    for start in range(0, len(paper_ids), BATCH):
        indexed += _index_batch(paper_ids[start : start + BATCH], embed=embed)
    return indexed


def _index_batch(paper_ids, *, embed):
    papers = list(Paper.objects.filter(pk__in=paper_ids, hidden=False))
    visible = {paper.pk for paper in papers}
    featured = set(
        DailyEntry.objects.filter(paper_id__in=visible).values_list("paper_id", flat=True)
    )
    documents = [keyword.paper_document(p, featured=p.pk in featured) for p in papers]
    gone = [pk for pk in paper_ids if pk not in visible]
    keyword.get_index().write(add=documents, delete=gone)
    pgvector.forget(gone)  # PaperEmbedding rows of hidden papers stay, for when they return
    if embed and papers:
        _embed(papers)
    return len(papers)


def _embed(papers):
    try:
        embedder = get_embedder()
    except EmbedderUnavailable:
        return  # keyword search still works; reindex later re-embeds
    if embedder is None:
        return
    vectors = embedder.encode_papers(papers)
    rows = [
        PaperEmbedding(paper_id=paper.pk, contract=embedder.contract, vector=vector.tobytes())
        for paper, vector in zip(papers, vectors, strict=True)
    ]
    with transaction.atomic():
        # Delete and insert (not update) so the row id grows: see PaperEmbedding.
        PaperEmbedding.objects.filter(paper_id__in=[p.pk for p in papers]).delete()
        PaperEmbedding.objects.bulk_create(rows)  # ids set on PostgreSQL, as mirror needs
        pgvector.mirror(rows)


def missing_embeddings():
    """Ids of visible papers without a vector under the current contract."""
    embedder = get_embedder()
    if embedder is None:
        return []
    current = PaperEmbedding.objects.filter(contract=embedder.contract).values("paper_id")
    return list(Paper.objects.visible().exclude(pk__in=current).values_list("pk", flat=True))


def paper_feedback(*, user, paper, kind):
    """Record "saved" or "not_interested" for a member (one per paper: the latest wins).

    kind=None removes it. Raises ValueError on an unknown kind.
    """
    if kind is None:
        PaperFeedback.objects.filter(user=user, paper=paper).delete()
        return None
    if kind not in PaperFeedback.Kind.values:
        raise ValueError(f"Feedback must be one of {', '.join(PaperFeedback.Kind.values)}.")
    feedback, _ = PaperFeedback.objects.update_or_create(
        user=user, paper=paper, defaults={"kind": kind}
    )
    return feedback
