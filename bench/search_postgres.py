"""Search on PostgreSQL at scale: PostgreSQL full-text against tantivy-follow, in one run.

On the database of DATABASE_URL (already loaded and indexed: see docs/search.md, "Search
at 1M papers on PostgreSQL", for how dp_1m was built), with the same queries:
  - keyword: PostgreSQL full-text (DAILYPAPERS_SEARCH_ENGINE=auto) and tantivy-follow (this
    machine's tantivy index, brought up to date from the database first: timed);
  - semantic: pgvector HNSW; hybrid: each keyword engine + pgvector;
  - p50/p95/p99 and q/s with 1 client and with --clients, end to end through search_papers
    (index + database read of a page of 20), each system warmed by a pass first;
  - known-item MRR@10: real Hugging Face papers found from their ai_keywords (the method of
    bench/search_quality.py), among every paper of the database, and among the real papers
    only (make_corpus's derived papers left out of a top 40: what they cost).
tantivy-follow is the anchor: the ratio column is each row's p95 over its p95 (same mode).

    DATABASE_URL=postgres://u:p@127.0.0.1:5432/dp_1m .venv/bin/python bench/search_postgres.py \\
        [--queries 200] [--known 300] [--clients 4] [--search-dir DIR] [--data DIR]
"""

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import real_data  # noqa: E402  (the --data DIR option)
import search_quality as shared  # noqa: E402
from search_speed import percentiles, timed_run  # noqa: E402

TOPIC_SENTENCES = [topic for topic, _, _ in shared.TOPICS]


def setup(search_dir):
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("search_postgres.py: set DATABASE_URL to the PostgreSQL database to measure.")
    os.environ["DAILYPAPERS_SEARCH_DIR"] = str(search_dir)
    os.environ.setdefault("DAILYPAPERS_DATA_DIR", str(search_dir))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dailypapers.settings")
    sys.path.insert(0, str(shared.REPO / "src"))
    import django

    django.setup()


def ready(*, vectors):
    """Print what the database holds, or exit saying what is missing."""
    from django.db import connection

    from dailypapers.papers.models import Paper
    from dailypapers.search import pgvector
    from dailypapers.search.embedders import get_embedder
    from dailypapers.search.pg import PostgresKeywordIndex

    embedder = get_embedder()
    store = pgvector.PgVectorStore(embedder.contract, embedder.dims)
    papers = Paper.objects.visible().count()
    documents = PostgresKeywordIndex().count()
    if documents and documents < papers:
        sys.exit(f"{documents} of {papers} papers in search_pgdocument: index them first.")
    if vectors and not (pgvector.table_ready() and store.has_index()):
        sys.exit("no pgvector HNSW index for the current embedder: build it first.")
    with connection.cursor() as cursor:
        cursor.execute("SHOW shared_buffers")
        buffers = cursor.fetchone()[0]
    print(f"database: {papers:,} visible papers, {documents:,} full-text documents, "
          f"{len(store) if pgvector.table_ready() else 0:,} vectors in pgvector; "
          f"shared_buffers {buffers}")  # fmt: skip
    if not documents:
        print("no PostgreSQL full-text documents (the database was indexed for tantivy-follow): "
              "its rows are left out")  # fmt: skip
    return bool(documents)


def follow_index(catch_up=True):
    """This machine's tantivy-follow index, caught up with the database (timed)."""
    from tqdm import tqdm

    from dailypapers.papers.models import Paper
    from dailypapers.search import follow, keyword

    index = follow.FollowingIndex(keyword.index_dir())
    if not catch_up:
        print(f"tantivy-follow index as it is (another process follows): {index.count():,} "
              "documents")  # fmt: skip
        return
    started = time.perf_counter()
    with tqdm(total=Paper.objects.visible().count(), desc="tantivy-follow", unit="paper") as bar:
        written = follow.catch_up(index, progress=bar.update)
    print(f"build: tantivy-follow index caught up, {written:,} papers written in "
          f"{time.perf_counter() - started:.0f} s; {index.count():,} documents")  # fmt: skip


def speed_queries(n, seed=11):
    """Whole titles, title fragments of 2-4 words (from papers of the database) and topic
    sentences, as bench/search_speed.py makes them."""
    from dailypapers.papers.models import Paper

    rng = random.Random(seed)
    titles = list(Paper.objects.visible().order_by("?").values_list("title", flat=True)[:n])
    queries = []
    for i, title in enumerate(titles):
        words = title.split()
        if i % 3 == 0:
            queries.append(title)
        else:
            start = rng.randrange(max(1, len(words) - 3))
            queries.append(" ".join(words[start : start + rng.choice((2, 3, 4))]))
    return list(dict.fromkeys(queries + TOPIC_SENTENCES))


def engine(name):
    from django.conf import settings

    settings.SEARCH_ENGINE = name


def system(engine_name, mode):
    from dailypapers.search import search_papers

    def run(query):
        engine(engine_name)
        return search_papers(query, mode=mode)

    return run


def backend_cpu_ns():
    """CPU time of this connection's PostgreSQL backend (the server runs on this machine):
    the keyword search of the full-text engine runs there, not in this process."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    with open(f"/proc/{pid}/schedstat") as stat:
        return int(stat.read().split()[0])


def one_client(run, queries):
    """Wall-clock and CPU percentiles (this thread + the database backend) of each query.
    The CPU time is what a query costs; on a loaded machine the wall clock also counts the
    wait for a core."""
    walls, cpus = [], []
    for query in queries:
        backend, own = backend_cpu_ns(), time.thread_time_ns()
        started = time.perf_counter()
        run(query)
        walls.append((time.perf_counter() - started) * 1000)
        cpus.append((time.thread_time_ns() - own + backend_cpu_ns() - backend) / 1e6)
    return percentiles(walls), percentiles(cpus)


def derived(arxiv_id):
    """make_corpus.py gives its papers ids in 30xx-39xx, a range no real arXiv id reaches yet."""
    return arxiv_id[:1] == "3" and arxiv_id[4:5] == "."


def reciprocal_rank(found, target):
    return 1 / (found.index(target) + 1) if target in found else 0.0


def known_item_mrr(engine_name, mode, queries):
    """MRR@10 among every paper, and among the real ones only (derived papers left out of
    the ranking: what make_corpus's papers cost, since their abstracts are real sentences)."""
    from dailypapers.search import search_papers

    engine(engine_name)
    everyone, real_only, latencies = [], [], []
    for query, target in queries:
        started = time.perf_counter()
        found = [p.arxiv_id for p in search_papers(query, limit=10, mode=mode).papers]
        latencies.append((time.perf_counter() - started) * 1000)
        everyone.append(reciprocal_rank(found, target))
        deeper = [p.arxiv_id for p in search_papers(query, limit=40, mode=mode).papers]
        real_only.append(reciprocal_rank([i for i in deeper if not derived(i)][:10], target))
    return statistics.mean(everyone), statistics.mean(real_only), statistics.median(latencies)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=200, help="speed queries")
    parser.add_argument("--known", type=int, default=300, help="known-item queries")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--modes", default="keyword,semantic,hybrid",
                        help="semantic and hybrid need the pgvector index")  # fmt: skip
    parser.add_argument("--no-catch-up", action="store_true",
                        help="search the tantivy-follow index as it is")  # fmt: skip
    parser.add_argument("--search-dir", type=Path, default=None,
                        help="where the tantivy-follow index lives "
                        "(default /tmp/dp-search-bench-pg-<database>)")  # fmt: skip
    real_data.add_option(parser)
    args = parser.parse_args()
    shared.DATA = real_data.require(args.data, real_data.HF_DAYS)
    database = os.environ.get("DATABASE_URL", "").rsplit("/", 1)[-1]
    setup(args.search_dir or Path(f"/tmp/dp-search-bench-pg-{database}"))
    modes = set(args.modes.split(","))
    full_text = ready(vectors=bool(modes & {"semantic", "hybrid"}))
    follow_index(catch_up=not args.no_catch_up)

    from dailypapers.search.keyword import FOLLOW

    queries = speed_queries(args.queries)
    systems = [
        ("tantivy-follow: keyword (anchor)", FOLLOW, "keyword"),
        ("PostgreSQL full-text: keyword", "auto", "keyword"),
        ("pgvector HNSW: semantic", FOLLOW, "semantic"),
        ("tantivy-follow + pgvector: hybrid", FOLLOW, "auto"),
        ("PostgreSQL full-text + pgvector: hybrid", "auto", "auto"),
    ]
    kinds = {"keyword": "keyword", "semantic": "semantic", "auto": "hybrid"}
    systems = [row for row in systems if kinds[row[2]] in modes]
    if not full_text:
        systems = [row for row in systems if row[1] != "auto"]
    print(f"\n{len(queries)} queries (titles, title fragments, topic sentences), end to end "
          f"through search_papers, each system warmed by a pass; load average "
          f"{os.getloadavg()[0]:.1f} at the start")  # fmt: skip
    print(f"{'system':<42} {'clients':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
          f"{'q/s':>6} {'p95/anchor':>10}  CPU ms p50 / p95 (incl. database)")  # fmt: skip
    anchors = {}
    for name, engine_name, mode in systems:
        run = system(engine_name, mode)
        timed_run(run, queries, 1)  # warm-up pass
        started = time.perf_counter()
        (p50, p95, p99), (cpu50, cpu95, _) = one_client(run, queries)
        qps = len(queries) / (time.perf_counter() - started)
        rows = [(1, p50, p95, p99, qps, f"{cpu50:>6.1f} / {cpu95:>6.1f}")]
        (p50, p95, p99, qps), _, _ = timed_run(run, queries, args.clients)
        rows.append((args.clients, p50, p95, p99, qps, ""))
        for clients, p50, p95, p99, qps, cpu in rows:
            anchors.setdefault((mode, clients), p95)
            ratio = f"{p95 / anchors[mode, clients]:.2f}x" if mode != "semantic" else "-"
            print(f"{name:<42} {clients:>7} {p50:>7.1f} {p95:>7.1f} {p99:>7.1f} {qps:>6.1f} "
                  f"{ratio:>10}  {cpu}", flush=True)  # fmt: skip

    if not args.known:
        return
    keyword_queries, _ = shared.make_queries(args.known, 0)
    print(
        f"\nknown items: {len(keyword_queries)} real papers found from their ai_keywords, "
        f"among all the papers of the database; load average {os.getloadavg()[0]:.1f}"
    )
    print(f"{'system':<42} {'MRR@10':>8} {'real only':>9} {'p50 ms':>8}  (top 40 asked)")
    for name, engine_name, mode in systems:
        mrr, real_mrr, p50 = known_item_mrr(engine_name, mode, keyword_queries)
        print(f"{name:<42} {mrr:>8.4f} {real_mrr:>9.4f} {p50:>8.1f}", flush=True)
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
