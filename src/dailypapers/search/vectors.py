"""The vector index: vectors live in the database (PaperEmbedding); each process keeps an
in-memory index of them and catches up on new rows (ids only grow) before a query.

Small instances use exact numpy search (a matrix product). From HNSW_THRESHOLD vectors
on, an hnswlib HNSW graph (M=16, ef_construction=128): recall@10 0.987 at ef=1024 and
100k papers (~6 ms), 0.957 at ef=2560 and a million (~20 ms; bench/search_speed.py).
A snapshot of the graph is saved in the data directory so that a restart does not
rebuild it.
"""

import json
import logging
import threading
from pathlib import Path

import numpy as np
from django.conf import settings

from . import pgvector

log = logging.getLogger(__name__)

HNSW_THRESHOLD = 20_000
HNSW_M = 16
HNSW_EF_CONSTRUCTION = 128
HNSW_EF = 1024
# A million papers need a wider search for recall@10 >= 0.95 from the same graph
# (bench/search_speed.py, 1M: 0.911 at ef=1024, 0.949 at 2048, 0.957 at 2560 for ~20 ms
# a query; 100k: 0.987 at 1024).
HNSW_EF_LARGE = 2560
HNSW_LARGE = 500_000  # vectors from which HNSW_EF_LARGE applies
HNSW_EF_COARSE = 512  # search(coarse=True): the hybrid's feedback neighbours
SNAPSHOT_EVERY = 5_000  # new vectors before the snapshot is rewritten

_lock = threading.Lock()
_stores = {}


class ExactIndex:
    def __init__(self, dims):
        self.dims = dims
        self.labels = np.zeros(0, dtype=np.int64)
        self.matrix = np.zeros((0, dims), dtype=np.float32)
        self.position = {}

    def __len__(self):
        return len(self.labels)

    def add(self, labels, vectors):
        fresh_labels, fresh_vectors = [], []
        for label, vector in zip(labels, vectors, strict=True):
            if (row := self.position.get(int(label))) is not None:
                self.matrix[row] = vector
            else:
                fresh_labels.append(int(label))
                fresh_vectors.append(vector)
        if fresh_labels:
            start = len(self.labels)
            self.labels = np.concatenate([self.labels, np.array(fresh_labels, dtype=np.int64)])
            self.matrix = np.vstack([self.matrix, np.asarray(fresh_vectors, dtype=np.float32)])
            for offset, label in enumerate(fresh_labels):
                self.position[label] = start + offset

    def search(self, query, k, *, coarse=False):  # exact either way
        if not len(self.labels):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        scores = self.matrix @ np.asarray(query, dtype=np.float32)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return self.labels[top], scores[top]

    def get(self, labels):
        rows = [self.position[int(label)] for label in labels if int(label) in self.position]
        found = [int(label) for label in labels if int(label) in self.position]
        return found, self.matrix[rows] if rows else np.zeros((0, self.dims), np.float32)


class HnswIndex:
    def __init__(self, dims, capacity=1024):
        import hnswlib

        self.dims = dims
        self.index = hnswlib.Index(space="ip", dim=dims)
        self.index.init_index(
            max_elements=capacity, ef_construction=HNSW_EF_CONSTRUCTION, M=HNSW_M,
            allow_replace_deleted=False,
        )  # fmt: skip
        self.index.set_ef(HNSW_EF)

    def __len__(self):
        return self.index.get_current_count()

    def add(self, labels, vectors):
        needed = len(self) + len(labels)
        if needed > self.index.get_max_elements():
            self.index.resize_index(max(needed, 2 * self.index.get_max_elements()))
        self.index.add_items(np.asarray(vectors, dtype=np.float32), np.asarray(labels))

    def search(self, query, k, *, coarse=False):
        k = min(k, len(self))
        if k == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        if coarse:
            ef = HNSW_EF_COARSE
        else:
            ef = HNSW_EF_LARGE if len(self) >= HNSW_LARGE else HNSW_EF
        self.index.set_ef(max(ef, k))
        labels, distances = self.index.knn_query(np.asarray(query, dtype=np.float32), k=k)
        return labels[0].astype(np.int64), 1.0 - distances[0]  # ip distance = 1 - dot

    def get(self, labels):
        labels = [int(label) for label in labels]
        try:  # one call when every label is there (the usual case)
            vectors = self.index.get_items(labels, return_type="numpy")
            return labels, np.asarray(vectors, dtype=np.float32).reshape(-1, self.dims)
        except RuntimeError:
            pass
        found, vectors = [], []
        for label in labels:
            try:
                vectors.append(self.index.get_items([label])[0])
                found.append(label)
            except RuntimeError:
                continue
        return found, np.asarray(vectors, dtype=np.float32).reshape(-1, self.dims)

    def save(self, path):
        self.index.save_index(str(path))

    @classmethod
    def load(cls, path, dims):
        import hnswlib

        self = cls.__new__(cls)
        self.dims = dims
        self.index = hnswlib.Index(space="ip", dim=dims)
        self.index.load_index(str(path))
        self.index.set_ef(HNSW_EF)
        return self


def snapshot_paths(contract):
    base = Path(getattr(settings, "SEARCH_DIR", "") or settings.DATA_DIR / "search")
    base.mkdir(parents=True, exist_ok=True)
    return base / f"vectors-{contract}.hnsw", base / f"vectors-{contract}.json"


class VectorStore:
    """The process's view of all vectors of one contract."""

    def __init__(self, contract, dims):
        self.contract = contract
        self.dims = dims
        self.index = ExactIndex(dims)
        self.watermark = 0  # highest PaperEmbedding.id seen
        self.saved_watermark = 0
        self.lock = threading.Lock()
        self._load_snapshot()

    def _load_snapshot(self):
        graph, meta = snapshot_paths(self.contract)
        if not (graph.exists() and meta.exists()):
            return
        try:
            state = json.loads(meta.read_text())
            self.index = HnswIndex.load(graph, self.dims)
            self.watermark = self.saved_watermark = int(state["watermark"])
        except Exception as exc:  # a torn or foreign file: rebuild from the database
            log.warning("vector snapshot %s unusable (%s); rebuilding", graph, exc)
            self.index, self.watermark = ExactIndex(self.dims), 0

    def catch_up(self):
        """Add vectors written since this process last looked (one indexed query)."""
        from .models import PaperEmbedding

        with self.lock:
            rows = PaperEmbedding.objects.filter(contract=self.contract, id__gt=self.watermark)
            batch_labels, batch_vectors = [], []
            for row_id, paper_id, blob in (
                rows.order_by("id")
                .values_list("id", "paper_id", "vector")
                .iterator(chunk_size=5000)
            ):
                batch_labels.append(paper_id)
                batch_vectors.append(np.frombuffer(bytes(blob), dtype=np.float32))
                self.watermark = row_id
                if len(batch_labels) >= 5000:
                    self._add(batch_labels, batch_vectors)
                    batch_labels, batch_vectors = [], []
            if batch_labels:
                self._add(batch_labels, batch_vectors)
            if (
                isinstance(self.index, HnswIndex)
                and self.watermark - self.saved_watermark >= SNAPSHOT_EVERY
            ):
                self.save()

    def _add(self, labels, vectors):
        if isinstance(self.index, ExactIndex) and len(self.index) + len(labels) >= HNSW_THRESHOLD:
            self.index = self._to_hnsw(self.index)
        self.index.add(labels, np.vstack(vectors))

    def _to_hnsw(self, exact):
        hnsw = HnswIndex(self.dims, capacity=max(2 * len(exact), HNSW_THRESHOLD * 2))
        if len(exact):
            hnsw.add(exact.labels, exact.matrix)
        return hnsw

    def save(self):
        graph, meta = snapshot_paths(self.contract)
        tmp = graph.with_suffix(".tmp")
        self.index.save(tmp)
        tmp.replace(graph)
        meta.write_text(json.dumps({"watermark": self.watermark, "count": len(self.index)}))
        self.saved_watermark = self.watermark

    def search(self, query, k, *, coarse=False):
        """(paper ids, cosine similarities), best first. coarse: near neighbours will do
        (HNSW_EF_COARSE: ~5 ms instead of ~15-20 at 1M)."""
        self.catch_up()
        return self.index.search(query, k, coarse=coarse)

    def vectors_of(self, paper_ids):
        """(ids found, their vectors as rows), in the order asked."""
        self.catch_up()
        if not isinstance(self.index, HnswIndex):
            return self.index.get(list(paper_ids))
        # hnswlib's get_items converts through Python lists (13 ms for the 300 candidates
        # of a hybrid query); the same vectors read by paper id from the database: 2 ms.
        return self._vectors_from_database([int(pk) for pk in paper_ids])

    def _vectors_from_database(self, paper_ids):
        from django.db import connection

        from .models import PaperEmbedding

        table = connection.ops.quote_name(PaperEmbedding._meta.db_table)
        blobs = {}
        with connection.cursor() as cursor:  # plain SQL: the ORM's row handling costs 2x
            for start in range(0, len(paper_ids), 900):  # below SQLite's old 999 parameters
                chunk = paper_ids[start : start + 900]
                # By paper id alone: with the contract in the WHERE clause SQLite picks the
                # contract index and scans every vector.
                cursor.execute(
                    f"SELECT paper_id, contract, vector FROM {table} "
                    f"WHERE paper_id IN ({', '.join(['%s'] * len(chunk))})",
                    chunk,
                )
                for paper_id, contract, blob in cursor.fetchall():
                    if contract == self.contract:
                        blobs[paper_id] = blob
        found = [pk for pk in paper_ids if pk in blobs]
        vectors = np.frombuffer(b"".join(bytes(blobs[pk]) for pk in found), dtype=np.float32)
        return found, vectors.reshape(-1, self.dims)


def get_store(contract, dims):
    with _lock:
        store = _stores.get(contract)
        if store is None:
            # pgvector on PostgreSQL when there (search/pgvector.py), else this module's index.
            store = pgvector.choose(contract, dims)
            if store is None:
                store = VectorStore(contract, dims)
            _stores[contract] = store
        return store


def reset_stores():
    """Forget in-memory indexes (tests, reindex)."""
    with _lock:
        _stores.clear()
