"""Benchmark: the JSON API under 1, 8 and 32 concurrent clients, against a trivial endpoint.

    .venv/bin/python bench/api.py [--papers 100000] [--requests 240] [--keep DIR]

Builds (once, kept in --keep DIR, default /tmp/dp-api-bench-<papers>) a SQLite database of
100,000 papers the way bench/daily_page.py does (the 74,728 real arXiv listing records of
../shared/data plus copies under fresh 30xx ids; a year of daily entries, 20 a day, and a
latest day of 50) and indexes them for search (keyword index + embeddings). Then serves
it with waitress (as `dailypapers serve` does) in a child process on 127.0.0.1 and loads,
from client threads on keep-alive connections, in alternating rounds:
  - /bench/trivial                  the baseline: a JSON view through the same middleware;
  - /api/daily_papers               the latest day, 50 entries in the upstream dialect
                                    (after the first, from the answer cache: a vote or a
                                    new entry renders it again);
  - /api/daily_papers?_=N           the same, always rendered (a never-seen URL: a miss);
  - /api/daily_papers?date=D        a random day of the year (20 entries; misses at first);
  - /api/papers/search?q=...&_=N    hybrid search, 20 hits, words of real titles, always a
                                    miss (search_papers itself and the rendering).
Rate limiting stays on (with a limit too high to trigger) so its cost is measured; no
client sends If-None-Match, so every answer is rendered in full.
It prints requests per second, p50 and p99 latency per URL and concurrency, and each
endpoint's throughput ratio to the baseline measured in the same run.
"""

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))
import daily_page  # noqa: E402  (database builder, server start, load, percentiles)
import real_data  # noqa: E402  (the --data DIR option)

URLS_MODULE = """
from django.http import JsonResponse
from django.urls import path

from dailypapers.urls import urlpatterns as site


def trivial(request):
    return JsonResponse({"ok": True})


urlpatterns = [path("bench/trivial", trivial), *site]
"""

SERVER = textwrap.dedent(
    """
    import logging
    import django
    django.setup()
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    from django.core.wsgi import get_wsgi_application
    from waitress import serve
    serve(get_wsgi_application(), host="127.0.0.1", port={port}, threads={threads},
          connection_limit=200, _quiet=True)
    """
)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--papers", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=240, help="per URL, level and round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--levels", default="1,8,32", help="concurrent clients")
    parser.add_argument("--threads", type=int, default=8, help="waitress worker threads")
    parser.add_argument("--keep", metavar="DIR", help="database directory (default /tmp/...)")
    parser.add_argument("--fresh", action="store_true", help="rebuild the database")
    real_data.add_option(parser)
    args = parser.parse_args()
    daily_page.LISTINGS = real_data.require(args.data, real_data.LISTINGS) / real_data.LISTINGS
    levels = [int(level) for level in args.levels.split(",")]

    workdir = Path(args.keep or Path(tempfile.gettempdir()) / f"dp-api-bench-{args.papers}")
    if args.fresh:
        shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True, exist_ok=True)
    # the rate limit stays on, but is never reached
    daily_page.configure_django(workdir, URLS_MODULE, DAILYPAPERS_API_RATE_ANON=str(10**9))
    ready = workdir / "data" / "ready"
    if ready.exists():
        print(f"database: reusing {workdir}")
    else:
        started = time.perf_counter()
        daily_page.build_database(args.papers)
        built = time.perf_counter() - started
        index_all()
        indexed = time.perf_counter() - started - built
        ready.write_text("ok")
        print(f"database: {args.papers:,} papers in {built:.0f} s, search index in {indexed:.0f} s")

    urls = workload()
    port = daily_page.free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(workdir), *sys.path])}
    code = SERVER.format(port=port, threads=args.threads)
    server = subprocess.Popen([sys.executable, "-c", code], env=env)
    try:
        daily_page.wait_for(port, timeout=120)
        for make in urls.values():  # warm up: imports, index, embedder (slow at first)
            daily_page.load(port, make, 30, 2, timeout=600)
        results = {(name, level): [] for level in levels for name in urls}
        for _ in range(args.rounds):
            for level in levels:
                for name, make in urls.items():
                    count = max(args.requests, 8 * level)
                    results[name, level].append(daily_page.load(port, make, count, level))
        report(results, urls, levels, args)
    finally:
        server.terminate()
        server.wait(timeout=10)


def index_all(batch=5000):
    from tqdm import tqdm

    from dailypapers.papers.models import Paper
    from dailypapers.search import index_papers

    ids = list(Paper.objects.order_by("pk").values_list("pk", flat=True))
    for start in tqdm(range(0, len(ids), batch), desc="search index", unit="batch"):
        index_papers(ids[start : start + batch])


def workload(seed=5):
    """name -> a function giving the next URL (random but the same sequence every run)."""
    from dailypapers.papers.models import DailyEntry, Paper

    rng = random.Random(seed)
    days = sorted(set(DailyEntry.objects.values_list("day", flat=True)))
    titles = list(Paper.objects.order_by("?").values_list("title", flat=True)[:300])
    queries = []
    for title in titles:
        words = [word for word in title.split() if len(word) > 3]
        if len(words) >= 2:
            start = rng.randrange(len(words) - 1)
            queries.append(" ".join(words[start : start + rng.choice((2, 3))]))
    counter = iter(range(10**9))  # `_=N` is ignored by the API but makes the URL new: a miss
    return {
        "trivial": lambda: "/bench/trivial",
        "daily (latest)": lambda: "/api/daily_papers",
        "daily (cold)": lambda: f"/api/daily_papers?_={next(counter)}",
        "daily (a date)": lambda: f"/api/daily_papers?date={rng.choice(days)}",
        "search (cold)": lambda: (
            f"/api/papers/search?q={quote(rng.choice(queries))}&limit=20&_={next(counter)}"
        ),
    }


def report(results, urls, levels, args):
    print(
        f"load: waitress with {args.threads} threads on 127.0.0.1, {args.rounds} alternating "
        f"rounds; each cell max({args.requests}, 8 x clients) requests per round"
    )
    header = ("endpoint", "clients", "req/s", "p50 ms", "p99 ms", "vs trivial")
    print("{:16} {:>7} {:>8} {:>8} {:>8} {:>11}".format(*header))
    for level in levels:
        baseline = statistics.median(one["rps"] for one in results["trivial", level])
        for name in urls:
            rounds = results[name, level]
            latencies = [ms for one in rounds for ms in one["latencies"]]
            rps = statistics.median(one["rps"] for one in rounds)
            p50, p99 = statistics.median(latencies), daily_page.percentile(latencies, 99)
            ratio = f"{baseline / rps:.1f}x slower" if name != "trivial" else "baseline"
            print(f"{name:16} {level:7} {rps:8.1f} {p50:8.2f} {p99:8.2f} {ratio:>11}")


if __name__ == "__main__":
    main()
