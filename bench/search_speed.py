"""Search speed at scale: build time, memory, p50/p95/p99 of keyword, semantic and hybrid
queries with 1 and 8 concurrent clients, and ANN recall@10 against exact search.

The corpus is derived from the real records by ../shared/tools/make_corpus.py (real titles,
recombined real abstract sentences): quote figures as "N papers derived from real records".
Latencies are end to end through search_papers (index + database read of the page).

    .venv/bin/python bench/search_speed.py [--papers 100000] [--queries 200]
"""

import argparse
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
import search_quality as shared  # noqa: E402


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentiles(samples):
    ordered = sorted(samples)

    def at(q):
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return at(0.5), at(0.95), at(0.99)


def make_corpus(n):
    path = Path(f"/tmp/dp-search-corpus-{n}.jsonl.gz")
    if not path.exists():
        tool = shared.SHARED / "tools/make_corpus.py"
        subprocess.run([sys.executable, str(tool), str(n), str(path)], check=True)
    return path


def queries_from(rows, n, seed=11):
    rng = random.Random(seed)
    picked = rng.sample(rows, n)
    out = []
    for i, row in enumerate(picked):
        words = row[1].split()
        if i % 3 == 0:
            out.append(row[1])  # a whole title
        else:
            start = rng.randrange(max(1, len(words) - 3))
            out.append(" ".join(words[start : start + rng.choice((2, 3, 4))]))
    return out + [topic for topic, _, _ in shared.TOPICS]


def timed_run(function, queries, clients):
    latencies = []
    lock = threading.Lock()

    def one(query):
        started = time.perf_counter()
        function(query)
        elapsed = (time.perf_counter() - started) * 1000
        with lock:
            latencies.append(elapsed)

    started = time.perf_counter()
    if clients == 1:
        for query in queries:
            one(query)
    else:
        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(one, queries))
    wall = time.perf_counter() - started
    return (*percentiles(latencies), len(queries) / wall)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()

    corpus = make_corpus(args.papers)
    shared.setup_django(Path(f"/tmp/dp-search-bench-speed-{args.papers}"))
    rows = list(shared.corpus_rows(corpus))
    build = shared.load_corpus(rows)
    print(f"corpus: {len(rows)} papers derived from real records")
    print(f"database + keyword index + embeddings (or catch-up): {build:.0f} s")

    from dailypapers.search import search_papers
    from dailypapers.search.embedders import get_embedder
    from dailypapers.search.models import PaperEmbedding
    from dailypapers.search.vectors import VectorStore, snapshot_paths

    embedder = get_embedder()
    for path in snapshot_paths(embedder.contract):
        path.unlink(missing_ok=True)
    started = time.perf_counter()
    store = VectorStore(embedder.contract, embedder.dims)
    store.catch_up()
    print(f"vector index ({type(store.index).__name__}) built from the database in "
          f"{time.perf_counter() - started:.0f} s; process max RSS {rss_mb():.0f} MB")  # fmt: skip
    store.save()
    started = time.perf_counter()
    VectorStore(embedder.contract, embedder.dims).catch_up()
    print(f"vector index loaded from its snapshot in {time.perf_counter() - started:.1f} s")

    queries = queries_from(rows, args.queries)
    from dailypapers.search import vectors

    vectors._stores[embedder.contract] = store

    # ANN recall@10 against exact search over the same vectors.
    import numpy as np

    ids, matrix = [], []
    for paper_id, blob in (
        PaperEmbedding.objects.filter(contract=embedder.contract)
        .values_list("paper_id", "vector")
        .iterator(chunk_size=10000)
    ):
        ids.append(paper_id)
        matrix.append(np.frombuffer(bytes(blob), dtype=np.float32))
    ids, matrix = np.array(ids), np.vstack(matrix)
    query_vectors = embedder.encode(queries)
    recalls, exact_ms = [], []
    for vector in query_vectors:
        started = time.perf_counter()
        exact = set(ids[np.argsort(-(matrix @ vector))[:10]])
        exact_ms.append((time.perf_counter() - started) * 1000)
        approx = set(store.index.search(vector, 10)[0].tolist())
        recalls.append(len(exact & approx) / 10)
    print(f"ANN recall@10 vs exact: {statistics.mean(recalls):.3f} "
          f"(ef={vectors.HNSW_EF}); exact p50 {statistics.median(exact_ms):.1f} ms")  # fmt: skip
    del matrix

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
    print(f"tantivy anchor build: {time.perf_counter() - started:.0f} s")
    searcher = anchor.searcher()

    def tantivy_query(text):
        parsed, _ = anchor.parse_query_lenient(text, ["title", "abstract"])
        return searcher.search(parsed, 20).hits

    systems = [
        ("tantivy anchor (no DB read)", tantivy_query),
        ("ours: keyword", lambda q: search_papers(q, mode="keyword")),
        ("ours: semantic", lambda q: search_papers(q, mode="semantic")),
        ("ours: hybrid", lambda q: search_papers(q)),
    ]
    print(f"\n{len(queries)} queries, end to end, on a shared 2-core machine")
    print(f"{'system':<30} {'clients':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'q/s':>7}")
    for name, function in systems:
        function(queries[0])  # warm up
        for clients in (1, 8):
            p50, p95, p99, qps = timed_run(function, queries, clients)
            print(f"{name:<30} {clients:>7} {p50:>8.1f} {p95:>8.1f} {p99:>8.1f} {qps:>7.1f}",
                  flush=True)  # fmt: skip
    print(f"process max RSS {rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
