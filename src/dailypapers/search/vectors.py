"""The in-memory vector index (SQLite, or PostgreSQL without pgvector).

Vectors live in the database (PaperEmbedding: re-embedding deletes and inserts, so ids only
grow). Each process searches a *view*: an HNSW graph published as a file, plus an exact scan
of the vectors newer than that graph (the tail). No request builds a graph:

- a search reads up to SYNC_ROWS new vectors into the tail itself, so a paper just submitted
  or an index batch just written is found at once; a bigger backlog wakes the process's
  refresher thread instead, and the search goes on with the view it has;
- the refresher reads the backlog into a new tail, loads a newer published graph when there
  is one, and publishes a graph itself when the tail outgrew TAIL_MAX and nobody else did;
- whoever indexes (the worker, `dailypapers ingest`, `search reindex`) publishes: under a
  file lock, one process at a time, it adds the new vectors to its private copy of the
  graph, writes `vectors-<contract>-<watermark>.hnsw` and swaps the pointer file
  `vectors-<contract>.json` atomically. Processes pick the new graph up in the background.

Small instances (under HNSW_THRESHOLD vectors) need no graph: the tail is all of them.
The graph is hnswlib's (M=16, ef_construction=128): recall@10 0.987 at ef=1024 and 100k
papers (~6 ms), 0.957 at ef=2560 and a million (~20 ms; bench/search_speed.py).
"""

import contextlib
import dataclasses
import fcntl
import json
import logging
import os
import threading
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import connection

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
SYNC_ROWS = 2_000  # new vectors a search reads in itself (one index batch, ~10 ms)
PUBLISH_EVERY = 10_000  # unpublished vectors before an indexer publishes a new graph
TAIL_MAX = 30_000  # vectors beyond the graph before a serving process publishes itself
READ_CHUNK = 5_000

_lock = threading.Lock()
_stores = {}
_publishers = {}


def _forget_after_fork():
    """A forked server worker builds its own view: the parent's refresher thread (and any
    lock it held) did not come along."""
    global _lock
    _lock = threading.Lock()
    _stores.clear()
    _publishers.clear()


os.register_at_fork(after_in_child=_forget_after_fork)


class ExactIndex:
    """Vectors searched exactly (a matrix product). Never changed in place: `extended`
    returns a new index, so a search running in another thread sees a consistent one."""

    def __init__(self, dims, labels=None, matrix=None):
        self.dims = dims
        self.labels = np.zeros(0, np.int64) if labels is None else labels
        self.matrix = np.zeros((0, dims), np.float32) if matrix is None else matrix
        self.position = {int(label): row for row, label in enumerate(self.labels)}

    def __len__(self):
        return len(self.labels)

    def extended(self, labels, vectors):
        """A new index with these vectors added (a label already here gets its new vector)."""
        labels = np.asarray(labels, dtype=np.int64)
        vectors = np.asarray(vectors, dtype=np.float32).reshape(-1, self.dims)
        replaced = set(labels.tolist())
        keep = np.array([int(label) not in replaced for label in self.labels], bool)
        if keep.all():
            return ExactIndex(
                self.dims,
                np.concatenate([self.labels, labels]),
                np.vstack([self.matrix, vectors]),
            )
        return ExactIndex(
            self.dims,
            np.concatenate([self.labels[keep], labels]),
            np.vstack([self.matrix[keep], vectors]),
        )

    def search(self, query, k, *, coarse=False):  # exact either way
        if not len(self.labels) or k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        scores = self.matrix @ np.asarray(query, dtype=np.float32)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return self.labels[top], scores[top]

    def get(self, labels):
        found = [int(label) for label in labels if int(label) in self.position]
        rows = [self.position[label] for label in found]
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

    def add(self, labels, vectors, *, threads=-1):
        needed = len(self) + len(labels)
        if needed > self.index.get_max_elements():
            self.index.resize_index(max(needed, 2 * self.index.get_max_elements()))
        vectors = np.asarray(vectors, dtype=np.float32)
        self.index.add_items(vectors, np.asarray(labels), num_threads=threads)

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


# --- published graphs ------------------------------------------------------------------


def search_dir():
    base = Path(getattr(settings, "SEARCH_DIR", "") or settings.DATA_DIR / "search")
    base.mkdir(parents=True, exist_ok=True)
    return base


def pointer_path(contract):
    return search_dir() / f"vectors-{contract}.json"


def read_pointer(contract):
    """{"file", "watermark", "count"} of the published graph, or None."""
    try:
        state = json.loads(pointer_path(contract).read_text())
        file = state.get("file") or f"vectors-{contract}.hnsw"  # the one-file layout of old
        return {"file": file, "watermark": int(state["watermark"]), "count": state.get("count")}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_pointer(contract, state):
    path = pointer_path(contract)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(state))
    os.replace(tmp, path)  # atomic: a reader sees the old pointer or the new one


def _load_graph(contract, dims, pointer):
    try:
        return HnswIndex.load(search_dir() / pointer["file"], dims)
    except Exception as exc:  # removed under us, torn or foreign: the tail covers it
        log.warning("vector graph %s unusable (%s)", pointer["file"], exc)
        return None


def _rows_after(contract, watermark, limit=None):
    """(id, paper id, vector) of this contract's vectors with id > watermark, by id."""
    from .models import PaperEmbedding

    table = connection.ops.quote_name(PaperEmbedding._meta.db_table)
    sql = f"SELECT id, paper_id, vector FROM {table} WHERE contract = %s AND id > %s ORDER BY id"
    with connection.cursor() as cursor:
        cursor.execute(sql + (f" LIMIT {int(limit)}" if limit else ""), [contract, watermark])
        while rows := cursor.fetchmany(READ_CHUNK):
            yield rows


def _as_arrays(rows, dims):
    labels = np.array([row[1] for row in rows], dtype=np.int64)
    vectors = np.frombuffer(b"".join(bytes(row[2]) for row in rows), np.float32)
    return labels, vectors.reshape(-1, dims)


@contextlib.contextmanager
def _publishing_lock(contract):
    """One publisher at a time across processes; yields False when another holds it."""
    with open(search_dir() / f"vectors-{contract}.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class Publisher:
    """A process's private copy of the graph, grown and written out as the next graph."""

    def __init__(self, contract, dims):
        self.contract, self.dims = contract, dims
        self.graph, self.watermark = None, 0

    def publish(self, *, threads):
        pointer = read_pointer(self.contract)
        if pointer is None or pointer["watermark"] != self.watermark:  # another published
            self.graph = _load_graph(self.contract, self.dims, pointer) if pointer else None
            self.watermark = pointer["watermark"] if self.graph is not None else 0
        added = 0
        for rows in _rows_after(self.contract, self.watermark):
            labels, vectors = _as_arrays(rows, self.dims)
            if self.graph is None:
                self.graph = HnswIndex(self.dims, capacity=max(2 * len(labels), HNSW_THRESHOLD))
            self.graph.add(labels, vectors, threads=threads)
            self.watermark, added = rows[-1][0], added + len(rows)
        if not added:
            return False
        name = f"vectors-{self.contract}-{self.watermark}.hnsw"
        tmp = search_dir() / f".{name}.tmp"
        self.graph.save(tmp)
        os.replace(tmp, search_dir() / name)
        _write_pointer(
            self.contract, {"file": name, "watermark": self.watermark, "count": len(self.graph)}
        )
        self._remove_old_graphs(keep={name, pointer["file"] if pointer else name})
        log.info("published vector graph %s (%d vectors)", name, len(self.graph))
        return True

    def _remove_old_graphs(self, keep):
        # The previous graph stays: a process may be loading it right now.
        for path in search_dir().glob(f"vectors-{self.contract}*.hnsw"):
            if path.name not in keep:
                path.unlink(missing_ok=True)


def publish(contract, dims, *, threads=-1):
    """Fold the vectors written since the published graph into it, and publish it.
    False when nothing was new or another process is publishing."""
    with _publishing_lock(contract) as held:
        if not held:
            return False
        with _lock:
            publisher = _publishers.setdefault(contract, Publisher(contract, dims))
        return publisher.publish(threads=threads)


def publish_due(contract):
    """Whether enough vectors wait beyond the published graph to publish a new one."""
    from .models import PaperEmbedding

    if connection.vendor == "postgresql" and pgvector.mode() != "memory" and pgvector.table_ready():
        return False  # pgvector's own HNSW index grows with every insert
    pointer = read_pointer(contract)
    waiting = PaperEmbedding.objects.filter(
        contract=contract, id__gt=pointer["watermark"] if pointer else 0
    ).count()
    # small: every process scans them exactly
    return waiting >= (PUBLISH_EVERY if pointer is not None else HNSW_THRESHOLD)


def publish_if_due(contract, dims):
    """After an index batch: publish when enough vectors wait beyond the published graph."""
    if not publish_due(contract):
        return False
    return publish(contract, dims)


def forget_published(contract):
    """Start the next graph from scratch (`search reindex --reembed`)."""
    pointer_path(contract).unlink(missing_ok=True)
    with _lock:
        _publishers.pop(contract, None)


# --- what a process searches ---------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class View:
    graph: "HnswIndex | None"
    graph_file: str | None
    tail: ExactIndex
    watermark: int  # the highest vector id in graph or tail

    def extended(self, rows, dims):
        labels, vectors = _as_arrays(rows, dims)
        tail = self.tail.extended(labels, vectors)
        return dataclasses.replace(self, tail=tail, watermark=rows[-1][0])

    def search(self, query, k, coarse):
        if self.graph is None or not len(self.graph):
            return self.tail.search(query, k)
        labels, scores = self.graph.search(query, k + min(len(self.tail), 64), coarse=coarse)
        if not len(self.tail):
            return labels[:k], scores[:k]
        older = np.array([int(label) not in self.tail.position for label in labels], bool)
        tail_labels, tail_scores = self.tail.search(query, k)
        labels = np.concatenate([labels[older], tail_labels])  # the tail's vector is newer
        scores = np.concatenate([scores[older], tail_scores])
        best = np.argsort(-scores, kind="stable")[:k]
        return labels[best], scores[best]


class VectorStore:
    """The process's view of all vectors of one contract (see the module's docstring)."""

    kind = "memory"

    def __init__(self, contract, dims):
        self.contract, self.dims = contract, dims
        self.lock = threading.Lock()  # one writer of self.view at a time
        self.wake = threading.Event()
        self.refresher = None
        self.unusable = None  # a published graph that failed to load: not tried again
        self.view = self._read_backlog(self._published_view() or self._empty_view())
        if len(self.view.tail) >= TAIL_MAX:
            self._wake()  # nothing published yet: the refresher publishes a graph

    @property
    def index(self):  # what the searches mostly go through (tests, `search status`)
        return self.view.graph if self.view.graph is not None else self.view.tail

    def _empty_view(self):
        return View(None, None, ExactIndex(self.dims), 0)

    def _published_view(self):
        pointer = read_pointer(self.contract)
        graph = pointer and _load_graph(self.contract, self.dims, pointer)
        if not graph:
            return None
        return View(graph, pointer["file"], ExactIndex(self.dims), pointer["watermark"])

    def _read_backlog(self, view):
        for rows in _rows_after(self.contract, view.watermark):
            view = view.extended(rows, self.dims)
        return view

    def current(self):
        """The view to search, with a small backlog read in; a big one is left to the
        refresher (this search goes on with what it has)."""
        view = self.view
        pointer = read_pointer(self.contract)
        if pointer and pointer["file"] not in (view.graph_file, self.unusable):
            self._wake()  # a newer graph: load it in the background
        rows = [row for chunk in _rows_after(self.contract, view.watermark, SYNC_ROWS + 1)
                for row in chunk]  # fmt: skip
        if not rows:
            return view
        if len(rows) > SYNC_ROWS:
            self._wake()
            return view
        with self.lock:
            if self.view is view:
                self.view = view.extended(rows, self.dims)
            return self.view

    def refresh(self):
        """Load a newer published graph, read the backlog; publish when the tail is big."""
        view = self.view
        pointer = read_pointer(self.contract)
        if pointer and pointer["file"] not in (view.graph_file, self.unusable):
            published = self._published_view()
            if published is None:
                self.unusable = pointer["file"]
            else:
                view = published
        view = self._read_backlog(view)
        with self.lock:
            self.view = view
        if len(view.tail) >= TAIL_MAX and len(view.tail) + len(view.graph or ()) >= HNSW_THRESHOLD:
            if publish(self.contract, self.dims, threads=1):  # one core: requests need one
                self.refresh()

    def _wake(self):
        with self.lock:
            if self.refresher is None or not self.refresher.is_alive():
                self.refresher = threading.Thread(
                    target=self._refresh_loop, name=f"vectors-{self.contract}", daemon=True
                )
                self.refresher.start()
        self.wake.set()

    def _refresh_loop(self):
        from django.db import close_old_connections

        while True:
            self.wake.wait()
            self.wake.clear()
            try:
                self.refresh()
            except Exception:
                log.exception("refreshing the vector view of %s failed", self.contract)
            finally:
                close_old_connections()
                connection.close()  # this thread's own connection

    def search(self, query, k, *, coarse=False):
        """(paper ids, cosine similarities), best first. coarse: near neighbours will do
        (HNSW_EF_COARSE: ~5 ms instead of ~15-20 at 1M)."""
        return self.current().search(query, k, coarse)

    def vectors_of(self, paper_ids):
        """(ids found, their vectors as rows), in the order asked."""
        view = self.current()
        if view.graph is None:
            return view.tail.get(list(paper_ids))
        # hnswlib's get_items converts through Python lists (13 ms for the 300 candidates
        # of a hybrid query); the same vectors read by paper id from the database: 2 ms.
        return self._vectors_from_database([int(pk) for pk in paper_ids])

    def _vectors_from_database(self, paper_ids):
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
