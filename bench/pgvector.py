"""pgvector HNSW against the in-memory hnswlib index, in one run, on the same vectors.

Vectors: real papers' embeddings from a corpus database made by bench/search_speed.py
(search_paperembedding of its SQLite file); 200 of them are held out as queries (a paper's
own vector: the "related papers" query). Reports build time, p50/p95 of a k=100 query
through PgVectorStore.search (the site's code path: a transaction, SET LOCAL
hnsw.ef_search, one SELECT) and recall@10 against exact numpy search, beside hnswlib
(vectors.HnswIndex, the index of SQLite installs) and exact numpy.

Needs DATABASE_URL of a PostgreSQL server with pgvector; it writes only to a scratch
database of its own (`<name>_pgvector_bench`, dropped at the end).

    DATABASE_URL=postgres://u:p@127.0.0.1:5432/dailypapers .venv/bin/python bench/pgvector.py \\
        [--corpus /tmp/dp-search-bench-speed-100000/dailypapers.sqlite3] [--vectors 50000]
"""

import argparse
import os
import sqlite3
import statistics
import sys
import time

import numpy as np

QUERIES = 200
K = 100


def skip(reason):
    print(f"bench/pgvector.py skipped: {reason}")  # `make bench` goes on with the others
    sys.exit(0)


def load_vectors(path, n):
    if not os.path.exists(path):
        skip(f"no corpus database at {path} (bench/search_speed.py --papers 100000 makes one)")
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        sql = "SELECT paper_id, contract, vector FROM search_paperembedding ORDER BY paper_id"
        rows = db.execute(f"{sql} LIMIT ?", [n]).fetchall()
    if len(rows) < n:
        skip(f"{path} holds {len(rows)} vectors; {n} asked for (--vectors)")
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    matrix = np.vstack([np.frombuffer(r[2], np.float32) for r in rows])
    rng = np.random.default_rng(3)
    held = rng.choice(len(rows), QUERIES, replace=False)
    keep = np.setdiff1d(np.arange(len(rows)), held)
    return rows[0][1], ids[keep], matrix[keep], matrix[held]


def timed(fn, queries):
    results, samples = [], []
    for query in queries:
        started = time.perf_counter()
        results.append(fn(query))
        samples.append((time.perf_counter() - started) * 1000)
    ordered = sorted(samples)
    return results, statistics.median(samples), ordered[int(0.95 * len(ordered))]


def recall_at_10(found, truth):
    hits = [len(set(f[:10]) & set(t)) for f, t in zip(found, truth, strict=True)]
    return float(np.mean(hits)) / 10


def scratch_database():
    """Point Django at a fresh database on the same server, migrated."""
    from urllib.parse import urlparse, urlunparse

    import psycopg

    url = urlparse(os.environ.get("DATABASE_URL", ""))
    if not url.scheme.startswith("postgres"):
        skip("DATABASE_URL must name a PostgreSQL server with pgvector")
    name = f"{url.path.lstrip('/') or 'dailypapers'}_pgvector_bench"
    with psycopg.connect(urlunparse(url), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = urlunparse(url._replace(path=f"/{name}"))
    return urlunparse(url), name


def drop_database(admin_url, name):
    import psycopg
    from django.db import connections

    connections.close_all()
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default="/tmp/dp-search-bench-speed-100000/dailypapers.sqlite3")
    parser.add_argument("--vectors", type=int, default=50_000)
    parser.add_argument("--ef", default="100,200,400,800", help="hnsw.ef_search values")
    parser.add_argument("--ef-construction", type=int, default=0, help="pgvector's; 0: ours")
    parser.add_argument("--no-hnswlib", action="store_true", help="pgvector figures only")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        skip("DATABASE_URL must name a PostgreSQL server with pgvector")

    contract, ids, matrix, queries = load_vectors(args.corpus, args.vectors)
    n, dims = matrix.shape
    print(f"{n} vectors x {dims} dims ({contract}), {QUERIES} held-out queries, k={K}")

    admin_url, name = scratch_database()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dailypapers.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from dailypapers.search import pgvector, vectors

    try:
        call_command("migrate", verbosity=0)
        truth = [ids[np.argsort(-(matrix @ q))[:10]].tolist() for q in queries]
        _, exact_p50, exact_p95 = timed(lambda q: np.argpartition(-(matrix @ q), K)[:K], queries)

        started = time.perf_counter()
        with connection.cursor() as cursor:
            for start in range(0, n, 5000):
                chunk = slice(start, start + 5000)
                pgvector.copy_binary(cursor, pgvector.TABLE, {
                    "paper_id": (">i8", ids[chunk]),
                    "embedding_id": (">i8", ids[chunk]),
                    "contract": pgvector.text_column(contract, len(ids[chunk])),
                    "embedding": pgvector.vector_column(matrix[chunk]),
                })  # fmt: skip
        load_s = time.perf_counter() - started
        if args.ef_construction:
            pgvector.HNSW_EF_CONSTRUCTION = args.ef_construction
        store = pgvector.PgVectorStore(contract, dims)
        started = time.perf_counter()
        store.build_index()
        build_s = time.perf_counter() - started
        assert "Index Scan using" in store.explain(queries[0], K), store.explain(queries[0], K)

        started = time.perf_counter()
        hnsw = None if args.no_hnswlib else vectors.HnswIndex(dims, capacity=n)
        if hnsw is not None:
            hnsw.add(ids, matrix)
        hnsw_build_s = time.perf_counter() - started

        print(f"load into search_pgvector: {load_s:.1f} s; pgvector HNSW build "
              f"(m={pgvector.HNSW_M}, ef_construction={pgvector.HNSW_EF_CONSTRUCTION}): "
              f"{build_s:.1f} s; hnswlib build (M={vectors.HNSW_M}, ef_construction="
              f"{vectors.HNSW_EF_CONSTRUCTION}): {hnsw_build_s:.1f} s")  # fmt: skip
        print(f"{'index':<34} {'p50 ms':>8} {'p95 ms':>8} {'recall@10':>10}")
        print(f"{'exact numpy (reference)':<34} {exact_p50:8.2f} {exact_p95:8.2f} {1.0:10.3f}")
        for ef in [int(x) for x in args.ef.split(",")]:
            found, p50, p95 = timed(lambda q, ef=ef: store.search(q, K, ef_search=ef)[0], queries)
            label = f"pgvector HNSW, ef_search={max(ef, K)}"
            if max(ef, K) == pgvector.EF_SEARCH:
                label += " (default)"
            print(f"{label:<34} {p50:8.2f} {p95:8.2f} {recall_at_10(found, truth):10.3f}")
        for ef in (200, vectors.HNSW_EF) if hnsw is not None else ():
            hnsw.index.set_ef(ef)
            found, p50, p95 = timed(lambda q: hnsw.index.knn_query(q, k=K)[0][0], queries)
            label = f"hnswlib in memory, ef={ef}" + (" (default)" if ef == vectors.HNSW_EF else "")
            print(f"{label:<34} {p50:8.2f} {p95:8.2f} {recall_at_10(found, truth):10.3f}")
    finally:
        drop_database(admin_url, name)


if __name__ == "__main__":
    main()
