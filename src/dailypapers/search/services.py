"""Writes of the search app: keeping the indexes in step with papers, members' feedback."""

import contextlib
import hashlib
import logging

import numpy as np
from django.db import connection, transaction
from django.db.models import F

from dailypapers.papers.models import DailyEntry, Paper

from . import keyword, pg, pgvector, vectors
from .embedders import EmbedderUnavailable, get_embedder, paper_text
from .models import IndexState, PaperEmbedding, PaperFeedback, UnindexedPaper

log = logging.getLogger(__name__)

BATCH = 2000


class Superseded(Exception):
    """`search reindex` started after this index work was queued: it does the work."""


def index_papers(
    paper_ids, *, embed=True, epoch=None, progress=None, publish=True, batch_size=BATCH,
    step=None,
):  # fmt: skip
    """Bring the keyword index and the embeddings of these papers up to date.

    New and changed papers are (re)indexed, hidden or deleted ones removed; a paper whose
    text did not change keeps its vector. Idempotent; ingest calls it after a bulk write,
    signals after single saves. `epoch`: the reindex epoch when the work was queued; a
    later `search reindex` supersedes it (Superseded). `progress(n)` after each batch.
    `publish`: publish the vector graph when enough new vectors wait (not in a request).
    `batch_size`: papers per transaction. `step(text)`: told before a long step that is
    not a batch of papers (building a vector index), so a progress bar can say what waits.
    Returns the number of papers indexed.
    """
    paper_ids = sorted({int(pk) for pk in paper_ids})
    indexed = 0
    with _bulk_vectors(paper_ids if embed else []) as building:
        for start in range(0, len(paper_ids), batch_size):
            if epoch is not None and epoch != reindex_epoch():
                raise Superseded
            batch = paper_ids[start : start + batch_size]
            indexed += _index_batch(batch, embed=embed)
            moved()
            if embed and publish:
                _publish_if_due(step)
            if progress:
                progress(len(batch))
        if building and step:
            step(building)
    pg.analyze_after_bulk(len(paper_ids))
    return indexed


@contextlib.contextmanager
def _bulk_vectors(paper_ids):
    """Many papers to embed: pgvector's HNSW index is built after them, not grown. Yields
    what it builds at the end, in words, or None."""
    try:
        embedder = get_embedder()
    except EmbedderUnavailable:
        embedder = None
    if embedder is None or len(paper_ids) < pgvector.REBUILD_FROM or not pgvector.table_ready():
        yield None
        return
    # Papers re-announced with a vector already are not written again (text_hash).
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM {PaperEmbedding._meta.db_table} "
            "WHERE contract = %s AND paper_id = ANY(%s)",
            [embedder.contract, list(paper_ids)],
        )
        count = len(paper_ids) - cursor.fetchone()[0]
    outer = embedder.contract in pgvector._bulk_contracts  # an enclosing bulk write builds
    with pgvector.bulk_write(embedder.contract, embedder.dims, count):
        builds = not outer and embedder.contract in pgvector._bulk_contracts
        yield (
            "building the vector index (pgvector HNSW) over every vector: minutes from "
            "100,000 vectors; searches scan the vectors exactly meanwhile"
            if builds
            else None
        )


def _state():
    state, _ = IndexState.objects.get_or_create(pk=1)
    return state


def index_generation():
    """Moves whenever indexing changed what a search finds: caches of answers key on it."""
    generation = IndexState.objects.filter(pk=1).values_list("generation", flat=True).first()
    return generation or 0


def moved():
    from dailypapers.caching.generation import bump

    _state()
    IndexState.objects.filter(pk=1).update(generation=F("generation") + 1)
    bump()  # pages and answers show search results (related papers, search answers)


def reindex_epoch():
    return IndexState.objects.filter(pk=1).values_list("reindex_epoch", flat=True).first() or 0


def start_reindex():
    """Supersede all index work queued or running so far; returns the new epoch."""
    _state()
    IndexState.objects.filter(pk=1).update(reindex_epoch=F("reindex_epoch") + 1)
    return reindex_epoch()


def _index_batch(paper_ids, *, embed):
    # The marks of these papers as they are before the papers are read: a write after this
    # read marks its paper again, and that mark stays for the next catch-up.
    marks = list(UnindexedPaper.objects.filter(paper_id__in=paper_ids).values_list("id", flat=True))
    papers, documents, gone = keyword_documents(paper_ids)
    keyword.write_documents(add=documents, delete=gone)
    pgvector.forget(gone)  # PaperEmbedding rows of hidden papers stay, for when they return
    embedded = _embed(papers) if embed and papers else True
    if embed and embedded and marks:
        UnindexedPaper.objects.filter(id__in=marks).delete()
    return len(papers)


def keyword_documents(paper_ids):
    """(visible papers, their keyword documents, ids of the papers gone or hidden)."""
    papers = list(Paper.objects.filter(pk__in=paper_ids, hidden=False))
    visible = {paper.pk for paper in papers}
    featured = set(
        DailyEntry.objects.filter(paper_id__in=visible).values_list("paper_id", flat=True)
    )
    documents = [keyword.paper_document(p, featured=p.pk in featured) for p in papers]
    return papers, documents, [pk for pk in paper_ids if pk not in visible]


def _embed(papers):
    """Embed these papers where their text changed; False when the embedder is unavailable
    (their marks stay: the next catch-up embeds them)."""
    try:
        embedder = get_embedder()
    except EmbedderUnavailable:
        return False  # keyword search still works; a catch-up or reindex embeds later
    if embedder is None:
        return True
    hashes = {paper.pk: text_hash(paper) for paper in papers}
    unchanged = set(
        PaperEmbedding.objects.filter(
            paper_id__in=list(hashes), contract=embedder.contract
        ).values_list("paper_id", "text_hash")
    )
    papers = [paper for paper in papers if (paper.pk, hashes[paper.pk]) not in unchanged]
    if not papers:
        return True
    embedded = embedder.encode_papers(papers)
    rows = [
        PaperEmbedding(
            paper_id=paper.pk, contract=embedder.contract, vector=vector.tobytes(),
            text_hash=hashes[paper.pk],
        )
        for paper, vector in zip(papers, embedded, strict=True)
    ]  # fmt: skip
    with transaction.atomic():
        # Delete and insert (not update) so the row id grows: see PaperEmbedding.
        PaperEmbedding.objects.filter(paper_id__in=[p.pk for p in papers]).delete()
        if connection.vendor == "postgresql":
            _copy_embeddings(rows, embedded)  # ~10x faster than bulk_create
        else:
            PaperEmbedding.objects.bulk_create(rows)
        pgvector.mirror(rows)
    return True


def _copy_embeddings(rows, vectors):
    """Insert PaperEmbedding rows with PostgreSQL's binary COPY, their ids (which mirror
    needs) taken from the table's sequence first."""
    table = PaperEmbedding._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [table, len(rows)],
        )
        ids = sorted(row[0] for row in cursor.fetchall())
        for row, pk in zip(rows, ids, strict=True):
            row.pk = pk
        vectors = np.ascontiguousarray(vectors, dtype="<f4")  # stored little-endian
        pgvector.copy_binary(cursor, table, {
            "id": (">i8", ids),
            "paper_id": (">i8", [row.paper_id for row in rows]),
            "contract": pgvector.text_column(rows[0].contract, len(rows)),
            "vector": (f"V{vectors.shape[1] * 4}", vectors.view(f"V{vectors.shape[1] * 4}")[:, 0]),
            "text_hash": (">S16", [row.text_hash.encode() for row in rows]),
        })  # fmt: skip


def _publish_if_due(step=None):
    try:
        embedder = get_embedder()
    except EmbedderUnavailable:
        return
    if embedder is None:
        return
    if step and vectors.publish_due(embedder.contract):
        step("publishing the vector graph (hnswlib) of every vector: a minute or more")
    vectors.publish_if_due(embedder.contract, embedder.dims)


def text_hash(paper):
    """A digest of what the embedder reads of a paper."""
    text = paper_text(paper.title, paper.abstract)
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


# --- catch-up: papers written but not indexed -------------------------------------------------


def mark_unindexed(paper_ids):
    """Mark these papers as written but not yet indexed (their indexing clears the marks)."""
    paper_ids = sorted({int(pk) for pk in paper_ids})
    if paper_ids:
        UnindexedPaper.objects.bulk_create(UnindexedPaper(paper_id=pk) for pk in paper_ids)


def unindexed_ids():
    """Ids of the papers marked as written but not indexed, visible or not."""
    return list(UnindexedPaper.objects.values_list("paper_id", flat=True).distinct().order_by())


def unindexed_count():
    return UnindexedPaper.objects.values("paper_id").distinct().count()


def mark_never_embedded():
    """Mark the visible papers that have no vector at all and no mark: written before marks
    existed, by an indexing that died in the instant between a write and its mark, or behind
    the search app's back. Returns how many. (A paper whose vector is of another embedding
    contract is `search reindex`'s, not this.) Nothing when no embedder is on."""
    from dailypapers.papers.models import Paper

    try:
        if get_embedder() is None:
            return 0
    except EmbedderUnavailable:
        return 0
    missing = list(
        Paper.objects.visible()
        .exclude(pk__in=PaperEmbedding.objects.values("paper_id"))
        .exclude(pk__in=UnindexedPaper.objects.values("paper_id"))
        .values_list("pk", flat=True)
    )
    mark_unindexed(missing)
    return len(missing)


def catch_up(*, progress=None, step=None, epoch=None):
    """Index every paper marked as written but not indexed; returns how many were indexed."""
    mark_never_embedded()
    ids = unindexed_ids()
    if not ids:
        return 0
    log.info("search: indexing %d papers written but not indexed", len(ids))
    return index_papers(ids, progress=progress, step=step, epoch=epoch)


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
