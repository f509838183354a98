"""Search speed at scale: build time, memory, p50/p95/p99 of keyword, semantic and hybrid
queries with 1 and 8 concurrent clients, and ANN recall@10 against exact search.

The corpus is derived from the real records by ../shared/tools/make_corpus.py (real titles,
recombined real abstract sentences): quote figures as "N papers derived from real records".
Latencies are end to end through search_papers (index + database read of the page).

    .venv/bin/python bench/search_speed.py [--papers 100000] [--queries 200]
"""

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import real_data  # noqa: E402  (the --data DIR option)
import search_quality as shared  # noqa: E402


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentiles(samples):
    ordered = sorted(samples)

    def at(q):
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return at(0.5), at(0.95), at(0.99)


def make_corpus(n, data=real_data.DEFAULT):
    path = Path(f"/tmp/dp-search-corpus-{n}.jsonl.gz")
    if not path.exists():
        # the tool reads the listings in its sibling data folder
        real_data.require(data, real_data.LISTINGS)
        tool = real_data.require(data.parent, "tools/make_corpus.py") / "tools/make_corpus.py"
        subprocess.run([sys.executable, str(tool), str(n), str(path)], check=True)
    return path


def load_papers(rows, *, batch=2000):
    """Papers into the database through ingest's own upsert (executemany, ~5x faster than
    bulk_create); the search indexes are built afterwards, step by step, to time each."""
    from tqdm import tqdm

    from dailypapers.ingest.records import PaperRecord
    from dailypapers.ingest.upsert import upsert_records
    from dailypapers.papers.signals import papers_changed

    records = (
        PaperRecord(
            arxiv_id=arxiv_id, title=title, abstract=abstract, published_at=published,
            authors=[{"name": name} for name in authors], categories=categories,
            primary_category=categories[0], github_repo=repo,
        )
        for arxiv_id, title, abstract, authors, categories, published, repo in rows
    )  # fmt: skip
    # The bench indexes itself below (timed per step), not through the task queue.
    papers_changed.disconnect(dispatch_uid="search_papers_changed")
    with tqdm(total=len(rows), desc="papers", unit="paper") as bar:
        upsert_records(records, batch_size=batch, progress=bar.update)


def build_indexes(rows, *, chunk=10_000):
    """Database, keyword index and embeddings, each step timed; a step already done (the
    data directory is reused between runs) is skipped and reported as cached."""
    from tqdm import tqdm

    from dailypapers.papers.models import Paper
    from dailypapers.search import keyword
    from dailypapers.search.embedders import get_embedder
    from dailypapers.search.services import _embed, index_papers, missing_embeddings

    timings = {}
    started = time.perf_counter()
    if Paper.objects.count() < len(rows):  # upsert is idempotent: an interrupted load resumes
        load_papers(rows)
        timings["database (ingest upsert)"] = time.perf_counter() - started
    ids = list(Paper.objects.visible().order_by("pk").values_list("pk", flat=True))
    if keyword.get_index().count() != len(ids):
        started = time.perf_counter()
        with keyword.get_index().bulk():
            for start in tqdm(range(0, len(ids), chunk), desc="keyword index", unit="chunk"):
                index_papers(ids[start : start + chunk], embed=False)
        timings["keyword index (tantivy, index_papers in bulk())"] = time.perf_counter() - started
    missing = missing_embeddings()
    contract = get_embedder().contract if missing else None
    if missing:
        started = time.perf_counter()
        for start in tqdm(range(0, len(missing), chunk), desc="embeddings", unit="chunk"):
            papers = Paper.objects.filter(pk__in=missing[start : start + chunk])
            _embed(list(papers.exclude(search_embedding__contract=contract)))
        timings[f"embeddings ({len(missing)} papers)"] = time.perf_counter() - started
    return timings


QUERY_KINDS = ("whole title", "title fragment", "topic sentence")


def queries_from(rows, n, seed=11):
    """(queries, {query: kind})."""
    rng = random.Random(seed)
    picked = rng.sample(rows, n)
    kinds = {}
    for i, row in enumerate(picked):
        words = row[1].split()
        if i % 3 == 0:
            kinds.setdefault(row[1], "whole title")
        else:
            start = rng.randrange(max(1, len(words) - 3))
            kinds.setdefault(
                " ".join(words[start : start + rng.choice((2, 3, 4))]), "title fragment"
            )
    for topic, _, _ in shared.TOPICS:
        kinds[topic] = "topic sentence"
    return list(kinds), kinds


def timed_run(function, queries, clients):
    """Wall-clock percentiles and q/s; with one client also the CPU time of each query
    (all threads of this process), which the load of a shared machine does not inflate."""
    latencies, by_query, cpu = [], {}, []
    lock = threading.Lock()

    def one(query):
        started, cpu_started = time.perf_counter(), time.process_time()
        function(query)
        elapsed = (time.perf_counter() - started) * 1000
        with lock:
            latencies.append(elapsed)
            by_query[query] = elapsed
            cpu.append((time.process_time() - cpu_started) * 1000)

    started = time.perf_counter()
    if clients == 1:
        for query in queries:
            one(query)
    else:
        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(one, queries))
    wall = time.perf_counter() - started
    return (*percentiles(latencies), len(queries) / wall), by_query, percentiles(cpu)


def vector_index(embedder, *, rebuild):
    """The HNSW graph: built from the database (timed) unless a snapshot is there."""
    from dailypapers.search import vectors

    graph, _ = vectors.snapshot_paths(embedder.contract)
    if rebuild or not graph.exists():
        for path in vectors.snapshot_paths(embedder.contract):
            path.unlink(missing_ok=True)
        started = time.perf_counter()
        store = vectors.VectorStore(embedder.contract, embedder.dims)
        store.catch_up()
        print(f"build: vector index ({type(store.index).__name__}, M={vectors.HNSW_M}, "
              f"ef_construction={vectors.HNSW_EF_CONSTRUCTION}) from the database: "
              f"{time.perf_counter() - started:.0f} s")  # fmt: skip
        if hasattr(store.index, "save"):
            store.save()
    started = time.perf_counter()
    store = vectors.VectorStore(embedder.contract, embedder.dims)
    store.catch_up()
    print(f"vector index ({type(store.index).__name__}, {len(store.index)} vectors) loaded "
          f"from its snapshot in {time.perf_counter() - started:.1f} s")  # fmt: skip
    vectors._stores[embedder.contract] = store
    return store


def ann_recall(embedder, store, queries, efs):
    """Recall@10 of the vector index against exact search over the same vectors."""
    import numpy as np

    from dailypapers.search import vectors
    from dailypapers.search.models import PaperEmbedding

    rows = PaperEmbedding.objects.filter(contract=embedder.contract)
    matrix = np.empty((rows.count(), embedder.dims), dtype=np.float32)  # one copy only
    ids = np.empty(len(matrix), dtype=np.int64)
    for i, (paper_id, blob) in enumerate(
        rows.values_list("paper_id", "vector").iterator(chunk_size=10000)
    ):
        ids[i], matrix[i] = paper_id, np.frombuffer(bytes(blob), dtype=np.float32)
    query_vectors = embedder.encode(queries)
    exact, exact_ms = [], []
    for vector in query_vectors:
        started = time.perf_counter()
        scores = matrix @ vector
        exact.append(set(ids[np.argpartition(-scores, 10)[:10]].tolist()))
        exact_ms.append((time.perf_counter() - started) * 1000)
    del matrix
    p50, p95, _ = percentiles(exact_ms)
    print(f"exact numpy search ({len(ids)} x {embedder.dims} float32): "
          f"p50 {p50:.1f} ms, p95 {p95:.1f} ms")  # fmt: skip
    large = len(store.index) >= vectors.HNSW_LARGE
    default, default_large = vectors.HNSW_EF, vectors.HNSW_EF_LARGE
    if not hasattr(store.index, "index"):
        return
    for ef in efs:
        vectors.HNSW_EF = vectors.HNSW_EF_LARGE = ef
        recalls, ann_ms = [], []
        for vector, truth in zip(query_vectors, exact, strict=True):
            started = time.perf_counter()
            labels, _ = store.index.search(vector, 10)
            ann_ms.append((time.perf_counter() - started) * 1000)
            recalls.append(len(truth & set(labels.tolist())) / 10)
        p50, p95, _ = percentiles(ann_ms)
        mark = " (default)" if ef == (default_large if large else default) else ""
        print(f"ANN recall@10 vs exact at ef={ef}{mark}: {statistics.mean(recalls):.3f}; "
              f"k=10 search p50 {p50:.2f} ms, p95 {p95:.2f} ms")  # fmt: skip
    vectors.HNSW_EF, vectors.HNSW_EF_LARGE = default, default_large


def tantivy_anchor(rows):
    """Plain tantivy over title + abstract (English stemming, in memory), queried with its
    own lenient parser: the keyword engine without our query plan or database read."""
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_text_field("title", tokenizer_name="en_stem")
    builder.add_text_field("abstract", tokenizer_name="en_stem")
    builder.add_integer_field("pk", stored=True)
    anchor = tantivy.Index(builder.build())
    started = time.perf_counter()
    writer = anchor.writer(heap_size=200_000_000)
    for i, row in enumerate(rows):
        writer.add_document(tantivy.Document(pk=i, title=row[1], abstract=row[2]))
    writer.commit()
    writer.wait_merging_threads()
    anchor.reload()
    print(f"build: tantivy anchor (title + abstract, in memory): "
          f"{time.perf_counter() - started:.0f} s")  # fmt: skip
    searcher = anchor.searcher()

    def query(text):
        parsed, _ = anchor.parse_query_lenient(text, ["title", "abstract"])
        return searcher.search(parsed, 20).hits

    return query


def serving_rss(papers):
    """RSS of a fresh process that loads the indexes and answers queries: what a server
    needs (this process also holds the corpus and the benchmark's own copies)."""
    result = subprocess.run(
        [sys.executable, __file__, "--papers", str(papers), "--serving-rss"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    print(result.stdout.strip() or f"serving RSS: failed: {result.stderr[-500:]}")


def serving_rss_child(papers):
    shared.setup_django(Path(f"/tmp/dp-search-bench-speed-{papers}"))
    from dailypapers.papers.models import Paper
    from dailypapers.search import search_papers

    before = current_rss_mb()
    titles = list(Paper.objects.order_by("?").values_list("title", flat=True)[:100])
    for query in titles + [topic for topic, _, _ in shared.TOPICS]:
        search_papers(query)
    print(f"serving process RSS: {before:.0f} MB after Django set-up, {current_rss_mb():.0f} MB "
          f"after {len(titles) + len(shared.TOPICS)} hybrid queries "
          f"(keyword index + vector index loaded), of which {private_mb():.0f} MB private; the "
          "rest is mapped files (database, tantivy), the OS page cache")  # fmt: skip
    # No ru_maxrss here: Linux carries it over from the parent through fork and exec.


def current_rss_mb():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


def private_mb():
    """Anonymous memory only: SQLite and tantivy map their files, and those pages count in
    RSS although the OS shares and reclaims them."""
    with open("/proc/self/status") as status:
        fields = dict(line.split(":", 1) for line in status)
    return int(fields["RssAnon"].split()[0]) / 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--efs", default="256,512,1024,2560", help="ef values for ANN recall")
    parser.add_argument("--rebuild-graph", action="store_true", help="rebuild the HNSW graph")
    parser.add_argument("--serving-rss", action="store_true", help=argparse.SUPPRESS)
    real_data.add_option(parser)
    args = parser.parse_args()
    if args.serving_rss:
        return serving_rss_child(args.papers)

    corpus = make_corpus(args.papers, args.data)
    shared.setup_django(Path(f"/tmp/dp-search-bench-speed-{args.papers}"))
    rows = list(shared.corpus_rows(corpus))
    print(f"corpus: {len(rows)} papers derived from real records")
    timings = build_indexes(rows)
    for step, seconds in timings.items():
        print(f"build: {step}: {seconds:.0f} s ({len(rows) / seconds:,.0f} papers/s)")
    if not timings:
        print("build: database, keyword index and embeddings cached from an earlier run")

    from dailypapers.search import search_papers
    from dailypapers.search.embedders import get_embedder

    embedder = get_embedder()
    store = vector_index(embedder, rebuild=args.rebuild_graph)
    queries, kinds = queries_from(rows, args.queries)
    ann_recall(embedder, store, queries, [int(ef) for ef in args.efs.split(",")])
    anchor = tantivy_anchor(rows)
    print(f"benchmark process RSS {current_rss_mb():.0f} MB (holds the corpus and the anchor)")
    serving_rss(args.papers)

    systems = [
        ("tantivy anchor (no DB read)", anchor),
        ("ours: keyword", lambda q: search_papers(q, mode="keyword")),
        ("ours: semantic", lambda q: search_papers(q, mode="semantic")),
        ("ours: hybrid", lambda q: search_papers(q)),
    ]
    print(f"\n{len(queries)} queries (titles, title fragments, topic sentences), end to end "
          f"through search_papers (index + database read of a page of 20), each system warmed "
          f"up by a pass over the queries, shared 2-core machine, load average "
          f"{os.getloadavg()[0]:.1f} at the start")  # fmt: skip
    print(f"{'system':<30} {'clients':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'q/s':>7}"
          f"   CPU ms p50 / p95")  # fmt: skip
    per_kind = {}
    for name, function in systems:
        # A whole pass first: the first one after the anchor's build (which takes GBs)
        # reads part of the indexes and database from disk again (keyword p95 47 ms on
        # the first pass at 1M papers, 29-36 on the next ones). A server is warm.
        timed_run(function, queries, 1)
        for clients in (1, 8):
            (p50, p95, p99, qps), by_query, cpu = timed_run(function, queries, clients)
            cpu = f"{cpu[0]:>6.1f} / {cpu[1]:>5.1f}" if clients == 1 else ""
            print(f"{name:<30} {clients:>7} {p50:>8.1f} {p95:>8.1f} {p99:>8.1f} {qps:>7.1f}"
                  f"   {cpu}", flush=True)  # fmt: skip
            if clients == 1:
                per_kind[name] = by_query
    print("\n1 client, p50 / p95 ms by kind of query")
    print(f"{'system':<30} " + " ".join(f"{kind:>22}" for kind in QUERY_KINDS))
    for name, by_query in per_kind.items():
        cells = []
        for kind in QUERY_KINDS:
            p50, p95, _ = percentiles([ms for q, ms in by_query.items() if kinds[q] == kind])
            cells.append(f"{p50:>10.1f} / {p95:>9.1f}")
        print(f"{name:<30} " + " ".join(cells))
    print(f"load average at the end {os.getloadavg()[0]:.1f}; benchmark process max RSS "
          f"{rss_mb():.0f} MB")  # fmt: skip


if __name__ == "__main__":
    main()
