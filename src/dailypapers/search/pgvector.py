"""The vector index on PostgreSQL with pgvector: HNSW in the database, shared by every process.

PaperEmbedding stays the truth. `search_pgvector` (migration 0003, only where the `vector`
extension exists) mirrors it: one row per paper with its contract, the id of its
PaperEmbedding row and the vector. services writes a row with every embedding and drops the
rows of hidden and deleted papers; a store also catches up on rows written behind its back
(another tool, an extension installed later) when a process first uses it and on
`dailypapers search reindex`.

Dimensions vary with the contract, so the column is an untyped `vector` and each contract
gets a partial HNSW index over `embedding::vector(dims)` (pgvector's way to index mixed
dimensions), built on first use once the rows are in: a bulk build is much faster than
growing the graph row by row. Vectors are L2-normalised, so the inner product (`<#>`, the
negated dot product) orders by cosine.

DAILYPAPERS_VECTOR_INDEX: "auto" (pgvector when there, else the in-memory index of
vectors.py), "pgvector" (fail loudly without it) or "memory".
"""

import contextlib
import hashlib
import logging

import numpy as np
from django.conf import settings
from django.db import connection, transaction

log = logging.getLogger(__name__)

TABLE = "search_pgvector"
MODES = ("auto", "pgvector", "memory")
HNSW_M = 16
HNSW_EF_CONSTRUCTION = 128  # as hnswlib here; 64: build 1.8x faster, recall@10 0.946 not 0.958
EF_SEARCH = 200  # recall@10 0.958 at 100k papers (400: 0.982, twice the time); bench/pgvector.py
MAX_EF_SEARCH = 1000  # pgvector's upper bound
# The build slows down many times once the graph outgrows maintenance_work_mem: it gets
# about what the graph takes (a vector, 2m neighbours of 16 bytes, a header), within bounds.
BUILD_MEMORY_MB = (512, 4096)
CATCH_UP_BATCH = 5000
# Writing this many vectors, and at least a quarter of those in the table, drops the HNSW
# index and builds it again after: growing the graph costs ~4 ms a vector at 10k papers (more
# at 1M), a build a fraction of that.
REBUILD_FROM = 2000
BULK_LOCK = 72_640_016  # advisory lock held while a bulk write has the index dropped

CREATE_TABLE = f"""CREATE TABLE IF NOT EXISTS {TABLE} (
    paper_id bigint PRIMARY KEY,
    embedding_id bigint NOT NULL,
    contract varchar(64) NOT NULL,
    embedding vector NOT NULL
)"""
# PostgreSQL's binary COPY: a signature, flags and a header extension length, the tuples,
# then -1 fields.
COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
COPY_TRAILER = b"\xff\xff"

_said = set()
_bulk_contracts = set()  # of bulk writes running in this process (bulk_write)


class PgVectorUnavailable(RuntimeError):
    pass


def _say_once(message):
    if message not in _said:
        _said.add(message)
        log.info(message)


def _literal(vector):
    # Nine significant digits give back the very same float32 (and are 2x faster than repr).
    return "[" + ",".join(map("{:.9g}".format, np.asarray(vector, np.float32).tolist())) + "]"


def _quoted(text):
    return "'" + str(text).replace("'", "''") + "'"


def mode():
    value = (getattr(settings, "SEARCH_VECTOR_INDEX", "auto") or "auto").strip().lower()
    if value not in MODES:
        raise PgVectorUnavailable(
            f"DAILYPAPERS_VECTOR_INDEX must be one of {', '.join(MODES)}, not {value!r}."
        )
    return value


def _scalar(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def _present(*names):
    """Whether each of these tables or indexes exists."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(['to_regclass(%s) IS NOT NULL'] * len(names))}", names)
        return cursor.fetchone()


def table_ready():
    """The mirror table exists (PostgreSQL with the extension enabled), creating it if needed."""
    if connection.vendor != "postgresql":
        return False
    if _scalar("SELECT to_regclass(%s) IS NOT NULL", [TABLE]):
        return True
    if not _scalar("SELECT count(*) FROM pg_extension WHERE extname = 'vector'"):
        return False
    with connection.cursor() as cursor:
        cursor.execute(CREATE_TABLE)
    return True


def choose(contract, dims):
    """A PgVectorStore when pgvector should hold this contract's vectors, else None."""
    wanted = mode()
    if wanted == "memory":
        return None
    if connection.vendor != "postgresql":
        if wanted == "pgvector":
            raise PgVectorUnavailable("DAILYPAPERS_VECTOR_INDEX=pgvector needs PostgreSQL.")
        return None
    store = PgVectorStore(contract, dims)
    table, index = _present(TABLE, store.index_name)  # one query in the usual case
    if not (table or table_ready()):
        if wanted == "pgvector":
            raise PgVectorUnavailable(
                "DAILYPAPERS_VECTOR_INDEX=pgvector, but the vector extension is not enabled "
                "in this database: CREATE EXTENSION vector, then dailypapers search reindex."
            )
        _say_once("PostgreSQL without the pgvector extension: the vector index is in memory")
        return None
    _say_once("vector index: pgvector HNSW in the database")
    if not index and not bulk_write_running():
        store.catch_up()  # a new contract, or pgvector newly enabled: fill the table, build
    return store


# --- writes, called by services where PaperEmbedding rows change ----------------------------


def mirror(embeddings):
    """Copy freshly saved PaperEmbedding rows (with ids) into the pgvector table."""
    if not embeddings or connection.vendor != "postgresql" or not table_ready():
        return
    by_contract = {}
    for embedding in embeddings:
        by_contract.setdefault(embedding.contract, []).append(embedding)
    with transaction.atomic(), connection.cursor() as cursor:
        papers = [e.paper_id for e in embeddings]
        cursor.execute(f"DELETE FROM {TABLE} WHERE paper_id = ANY(%s)", [papers])
        for contract, rows in by_contract.items():
            vectors = np.vstack([np.frombuffer(bytes(e.vector), np.float32) for e in rows])
            copy_binary(cursor, TABLE, {
                "paper_id": (">i8", [e.paper_id for e in rows]),
                "embedding_id": (">i8", [e.pk for e in rows]),
                "contract": text_column(contract, len(rows)),
                "embedding": vector_column(vectors),
            })  # fmt: skip


def copy_binary(cursor, table, columns):
    """COPY rows into `table` in PostgreSQL's binary format, built by numpy in one go.

    `columns` maps each column to (a big-endian numpy dtype, its values): every value of a
    column has the same size. A text literal per vector took ~0.3 ms (the `[...]` of 256
    numbers, then parsed back by the server); this takes microseconds.
    """
    names = list(columns)
    layout = [("fields", ">i2")]
    for i, name in enumerate(names):
        layout += [(f"size{i}", ">i4"), (name, columns[name][0])]
    rows = np.zeros(len(columns[names[0]][1]), dtype=layout)
    rows["fields"] = len(names)
    for i, name in enumerate(names):
        dtype, values = columns[name]
        rows[f"size{i}"] = np.dtype(dtype).itemsize
        rows[name] = values
    with cursor.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.write(COPY_HEADER + rows.tobytes() + COPY_TRAILER)


def text_column(text, count):
    """A text column holding the same value in `count` rows, for copy_binary."""
    data = str(text).encode()
    return f"S{len(data)}", np.full(count, data)


def vector_column(vectors):
    """A pgvector column for copy_binary: dimensions, a reserved int16, big-endian floats."""
    vectors = np.asarray(vectors, np.float32)
    dtype = np.dtype([("dims", ">i2"), ("unused", ">i2"), ("values", ">f4", vectors.shape[1:])])
    values = np.zeros(len(vectors), dtype=dtype)
    values["dims"], values["values"] = vectors.shape[1], vectors
    return dtype, values


@contextlib.contextmanager
def bulk_write(contract, dims, count):
    """Around writing `count` vectors of a contract: from REBUILD_FROM vectors and a quarter
    of the table, the HNSW index is dropped first and built again after, under an advisory
    lock that keeps serving processes from building it meanwhile (their searches scan the
    table exactly until it is back). Within another bulk write of the contract it does
    nothing: the outer one builds."""
    store = PgVectorStore(contract, dims)
    if (
        contract in _bulk_contracts or count < REBUILD_FROM
        or connection.vendor != "postgresql" or mode() == "memory"
        or not table_ready() or count < len(store) // 4
    ):  # fmt: skip
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [BULK_LOCK])
        _bulk_contracts.add(contract)
        try:
            cursor.execute(f"DROP INDEX IF EXISTS {store.index_name}")
            yield
            store.build_index()
        finally:
            _bulk_contracts.discard(contract)
            cursor.execute("SELECT pg_advisory_unlock(%s)", [BULK_LOCK])


def bulk_write_running():
    """Whether some process holds the index of this database dropped for a bulk write."""
    return _scalar(
        "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = 0 "
        "AND objid = %s AND objsubid = 1 AND database = "
        "(SELECT oid FROM pg_database WHERE datname = current_database()))",
        [BULK_LOCK],
    )


def forget(paper_ids):
    """Drop the vectors of hidden or deleted papers from the index."""
    if not paper_ids or connection.vendor != "postgresql" or not table_ready():
        return
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE paper_id = ANY(%s)", [list(paper_ids)])


# --- the store -----------------------------------------------------------------------------


class PgVectorStore:
    """The vectors of one contract in pgvector; the interface of vectors.VectorStore."""

    kind = "pgvector"

    def __init__(self, contract, dims):
        self.contract, self.dims = contract, int(dims)
        digest = hashlib.sha1(f"{contract}|{self.dims}".encode()).hexdigest()[:12]
        self.index_name = f"{TABLE}_hnsw_{digest}"
        self.expression = f"(embedding::vector({self.dims}))"

    def has_index(self):
        return _present(self.index_name)[0]

    def catch_up(self):
        """Mirror rows missing from the table, drop hidden papers', build the HNSW index.

        Writes through services keep the table in step; this repairs what was written
        behind its back (`dailypapers search reindex` runs it).
        """
        missing = _scalar(f"SELECT count(*) {self._missing_sql()}", [self.contract, 0])
        if missing >= REBUILD_FROM and missing >= len(self) // 4:
            # Growing the graph row by row costs ~4 ms a vector; a fresh build is cheaper.
            with connection.cursor() as cursor:
                cursor.execute(f"DROP INDEX IF EXISTS {self.index_name}")
        self._copy_missing()
        self._prune()
        self.build_index()

    def _missing_sql(self):
        from dailypapers.papers.models import Paper

        from .models import PaperEmbedding

        return f"""
            FROM {PaperEmbedding._meta.db_table} e
            JOIN {Paper._meta.db_table} p ON p.id = e.paper_id AND NOT p.hidden
            WHERE e.contract = %s AND e.id > %s AND NOT EXISTS (
                SELECT 1 FROM {TABLE} v WHERE v.paper_id = e.paper_id AND v.embedding_id = e.id)
        """

    def _copy_missing(self):
        from .models import PaperEmbedding

        sql = f"SELECT e.id, e.paper_id, e.vector {self._missing_sql()} ORDER BY e.id LIMIT %s"
        after, copied = 0, 0
        while True:
            with connection.cursor() as cursor:
                cursor.execute(sql, [self.contract, after, CATCH_UP_BATCH])
                rows = cursor.fetchall()
            if not rows:
                break
            embeddings = [
                PaperEmbedding(id=pk, paper_id=paper_id, contract=self.contract, vector=blob)
                for pk, paper_id, blob in rows
            ]
            mirror(embeddings)
            after, copied = rows[-1][0], copied + len(rows)
        if copied:
            log.info("pgvector: copied %d vectors of %s", copied, self.contract)

    def _prune(self):
        from dailypapers.papers.models import Paper

        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {TABLE} v WHERE NOT EXISTS (SELECT 1 FROM {Paper._meta.db_table} p"
                " WHERE p.id = v.paper_id AND NOT p.hidden)"
            )

    def build_index(self):
        if self.has_index():
            return
        log.info("pgvector: building HNSW index %s for %s", self.index_name, self.contract)
        low, high = BUILD_MEMORY_MB
        megabytes = len(self) * (4 * self.dims + 700) * 1.1 / 2**20
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"SET LOCAL maintenance_work_mem = '{int(min(high, max(low, megabytes)))}MB'"
            )
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {self.index_name} ON {TABLE} USING hnsw "
                f"({self.expression} vector_ip_ops) "
                f"WITH (m = {HNSW_M}, ef_construction = {HNSW_EF_CONSTRUCTION}) "
                f"WHERE contract = {_quoted(self.contract)}"
            )

    def __len__(self):
        return _scalar(f"SELECT count(*) FROM {TABLE} WHERE contract = %s", [self.contract])

    def search(self, query, k, *, ef_search=None, coarse=False):
        """(paper ids, cosine similarities), best first; at most k of them. (The default
        ef_search is already a coarse one: `coarse` is for the in-memory index.)"""
        k = max(0, int(k))
        if k == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        ef = min(MAX_EF_SEARCH, max(ef_search or EF_SEARCH, k))
        # The contract is spelt out (not a parameter) so the planner matches the partial index.
        sql = (
            f"SELECT paper_id, {self.expression} <#> %s::vector({self.dims}) AS distance "
            f"FROM {TABLE} WHERE contract = {_quoted(self.contract)} "
            f"ORDER BY distance LIMIT %s"
        )
        setup = [f"SET LOCAL hnsw.ef_search = {int(ef)}"]
        if k > ef and self._iterative():  # else at most ef_search rows come back
            setup.append("SET LOCAL hnsw.iterative_scan = strict_order")
        # One round trip: statements sent together run in one transaction, so SET LOCAL
        # holds for the SELECT and ends with it (Django's client-side binding allows this).
        with connection.cursor() as cursor:
            cursor.execute("; ".join([*setup, sql]), [_literal(query), k])
            for _ in setup:
                cursor.nextset()
            rows = cursor.fetchall()
        labels = np.array([row[0] for row in rows], dtype=np.int64)
        return labels, -np.array([row[1] for row in rows], dtype=np.float32)

    def _iterative(self):
        """pgvector >= 0.8 can go on scanning the graph past ef_search results."""
        if not hasattr(self, "_iterative_scan"):
            version = _scalar("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
            self._iterative_scan = tuple(int(x) for x in version.split(".")[:2]) >= (0, 8)
        return self._iterative_scan

    def vectors_of(self, paper_ids):
        """(found ids in the order asked, their vectors), read from PaperEmbedding."""
        from .models import PaperEmbedding

        paper_ids = [int(pk) for pk in paper_ids]
        rows = PaperEmbedding.objects.filter(contract=self.contract, paper_id__in=paper_ids)
        blobs = dict(rows.values_list("paper_id", "vector"))
        found = [pk for pk in paper_ids if pk in blobs]
        if not found:
            return [], np.zeros((0, self.dims), dtype=np.float32)
        return found, np.vstack([np.frombuffer(bytes(blobs[pk]), np.float32) for pk in found])

    def explain(self, query, k=10):
        """The query plan (tests, operators): shows whether the HNSW index is used."""
        sql = (
            f"EXPLAIN SELECT paper_id FROM {TABLE} WHERE contract = {_quoted(self.contract)} "
            f"ORDER BY {self.expression} <#> %s::vector({self.dims}) LIMIT %s"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [_literal(query), k])
            return "\n".join(row[0] for row in cursor.fetchall())
