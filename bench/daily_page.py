"""Benchmark: the daily page under load, against the floor of a minimal Django view.

    .venv/bin/python bench/daily_page.py [--papers 100000] [--requests 400] [--concurrency 4]

Builds a temporary SQLite database with 100,000 papers (the 74,728 real arXiv listing
records of ../shared/data, plus copies of them under fresh 30xx ids to make up the rest),
with a daily entry history (20 papers a day for a year) and a latest day of 50 papers.
Then serves it with waitress (the server of `dailypapers serve`) in a child process and
loads, in alternating rounds from client threads:
  - `/`      the daily page (50 papers: title, authors, organisation, abstract preview,
             upvote button, links), the real view, templates and middleware;
  - `/floor` the floor: a minimal view in the same process and middleware that fetches
             50 papers in one query and renders a 50-row template (title and link).
It prints requests per second, median and p99 latency for each, and the ratios
(target: the daily page within 2x of the floor). It also times the server-side render
alone with Django's test Client (no HTTP), to compare with the 50 ms budget.
"""

import argparse
import datetime as dt
import gzip
import http.client
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import real_data  # bench/real_data.py: the --data DIR option

REPO = Path(__file__).resolve().parent.parent
LISTINGS = real_data.DEFAULT / real_data.LISTINGS  # --data DIR changes it

URLS_MODULE = """
from django.http import HttpResponse
from django.template import engines
from django.urls import path

from dailypapers.papers.models import Paper
from dailypapers.urls import urlpatterns as site

FLOOR = engines["django"].from_string(
    "<!doctype html><title>floor</title><ol>{% for p in papers %}"
    "<li><a href='/papers/{{ p.arxiv_id }}'>{{ p.title }}</a></li>{% endfor %}</ol>"
)


def floor(request):
    papers = list(Paper.objects.only("arxiv_id", "title")[:50])
    return HttpResponse(FLOOR.render({"papers": papers}, request))


urlpatterns = [path("floor", floor), *site]
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--papers", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=400, help="per URL and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument(
        "--keep", metavar="DIR", help="build the database in DIR and keep it; reuse it next time"
    )
    real_data.add_option(parser)
    args = parser.parse_args()
    global LISTINGS
    LISTINGS = real_data.require(args.data, real_data.LISTINGS) / real_data.LISTINGS

    workdir = Path(args.keep or tempfile.mkdtemp(prefix="dailypapers-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    reuse = (workdir / "data" / "dailypapers.sqlite3").exists()
    configure_django(workdir, URLS_MODULE)
    if reuse:
        print(f"database: reusing {workdir}")
    else:
        started = time.perf_counter()
        build_database(args.papers)
        elapsed = time.perf_counter() - started
        print(f"database: {args.papers:,} papers, built in {elapsed:.1f} s")

    in_process_render()

    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(workdir), *sys.path])}
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER.format(port=port, threads=args.concurrency)], env=env
    )
    try:
        wait_for(port)
        results = {"/": [], "/floor": []}
        for url in results:  # warm up both (templates, connections, caches)
            load(port, lambda url=url: url, 50, args.concurrency)
        for _ in range(args.rounds):
            for url in results:
                one_round = load(port, lambda url=url: url, args.requests, args.concurrency)
                results[url].append(one_round)
        report(results, args)
    finally:
        server.terminate()
        server.wait(timeout=10)
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


SERVER = textwrap.dedent(
    """
    import logging
    import django
    django.setup()
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "queue depth" noise
    from django.core.wsgi import get_wsgi_application
    from waitress import serve
    serve(get_wsgi_application(), host="127.0.0.1", port={port}, threads={threads},
          _quiet=True)
    """
)


def configure_django(workdir, urls_module, **environ):
    """Our settings with the benchmark's URLs (the site plus its baseline view), the data
    directory in `workdir`, SQLite, quiet logs; then django.setup()."""
    (workdir / "bench_urls.py").write_text(urls_module)
    (workdir / "bench_settings.py").write_text(
        "from dailypapers.settings import *  # noqa\nROOT_URLCONF = 'bench_urls'\n"
    )
    os.environ.update(
        DAILYPAPERS_DATA_DIR=str(workdir / "data"),
        DJANGO_SETTINGS_MODULE="bench_settings",
        DEBUG="false",
        DAILYPAPERS_LOG_LEVEL="WARNING",
        **environ,
    )
    os.environ.pop("DATABASE_URL", None)
    sys.path.insert(0, str(workdir))
    import django

    django.setup()


def build_database(count):
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from dailypapers.papers.models import DailyEntry, Organization, Paper
    from dailypapers.papers.ranking import trending_score

    call_command("migrate", verbosity=0)
    records = list(listing_records())
    rng = random.Random(42)
    orgs = Organization.objects.bulk_create(
        [Organization(name=f"org{i}", fullname=f"Research Lab {i}") for i in range(50)]
    )
    papers = []
    for number in range(count):
        record = records[number % len(records)]
        copy = number // len(records)
        arxiv_id = record["id"] if copy == 0 else f"30{copy:02d}.{number % 100000:05d}"
        listed = dt.datetime.fromisoformat(record["listed"]).replace(tzinfo=dt.UTC)
        upvotes = int(rng.paretovariate(1.2)) - 1
        papers.append(
            Paper(
                arxiv_id=arxiv_id,
                title=" ".join(record["title"].split()),
                abstract=" ".join(record["summary"].split()),
                authors=[{"name": name} for name in record["authors"]],
                categories=record["categories"],
                primary_category=record["categories"][0] if record["categories"] else "",
                comment=record.get("comment") or "",
                published_at=listed,
                versions=[{"version": 1, "created": listed.isoformat()}],
                imported_upvotes=upvotes,
                trending_score=trending_score(upvotes=upvotes, featured_at=listed),
                organization=rng.choice(orgs) if rng.random() < 0.4 else None,
                github_repo=f"https://github.com/lab/repo{number}" if rng.random() < 0.3 else "",
                github_stars=rng.randint(0, 3000),
                num_comments=rng.randint(0, 5),
            )
        )
    with transaction.atomic():
        fast_insert(Paper, papers)
    ids = list(Paper.objects.values_list("pk", flat=True))
    rng.shuffle(ids)
    # A year of history, 20 papers a day, and a latest day with 50 papers.
    latest = timezone.localdate()
    entries, cursor = [], 0
    for back in range(365, -1, -1):
        day = latest - dt.timedelta(days=back)
        per_day = 50 if back == 0 else 20
        for paper_id in ids[cursor : cursor + per_day]:
            when = timezone.make_aware(dt.datetime.combine(day, dt.time(8)))
            entries.append(DailyEntry(paper_id=paper_id, day=day, submitted_at=when))
        cursor += per_day
    with transaction.atomic():
        fast_insert(DailyEntry, entries)
    with connection.cursor() as sql:
        sql.execute("ANALYZE")


def fast_insert(model, objects):
    """executemany with Django's own value preparation (bulk_create costs ~5x more per row)."""
    from django.db import connection

    fields = [
        field
        for field in model._meta.concrete_fields
        if not field.primary_key and not getattr(field, "generated", False)
    ]
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} "
        f"({', '.join(quote(field.column) for field in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    rows = [
        [field.get_db_prep_save(field.pre_save(obj, True), connection) for field in fields]
        for obj in objects
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def listing_records():
    with gzip.open(LISTINGS, "rt") as lines:
        for line in lines:
            yield json.loads(line)


def in_process_render(repeat=200):
    """Server time alone: Django's test Client, no HTTP, one thread.

    "cold cache" empties the cache before each request: all 50 rows are rendered from
    scratch (after a vote only that paper's row is); "member" is a signed-in member."""
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.test import Client

    anonymous, member = Client(HTTP_HOST="127.0.0.1"), Client(HTTP_HOST="127.0.0.1")
    user, _ = get_user_model().objects.get_or_create(username="bench")
    member.force_login(user)
    cases = [
        ("/", anonymous, False, "daily page, rows cached"),
        ("/", anonymous, True, "daily page, cold cache"),
        ("/", member, False, "daily page, member"),
        ("/floor", anonymous, False, "floor"),
    ]
    for url, client, cold, name in cases:
        for _ in range(10):
            assert client.get(url).status_code == 200
        times = []
        for _ in range(repeat):
            if cold:
                cache.clear()
            started = time.perf_counter()
            client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        print(
            f"in-process {name:26} median {statistics.median(times):6.2f} ms"
            f"  p99 {percentile(times, 99):6.2f} ms"
        )


def load(port, make_url, requests, concurrency, timeout=60):
    """`requests` GETs from `concurrency` keep-alive connections (bounded: loopback only)."""
    latencies, errors = [], []
    lock = threading.Lock()
    per_thread = max(1, requests // concurrency)

    def worker():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        for _ in range(per_thread):
            with lock:
                url = make_url()
            started = time.perf_counter()
            connection.request("GET", url)
            response = connection.getresponse()
            response.read()
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                latencies.append(elapsed)
                if response.status != 200:
                    errors.append((response.status, url))
        connection.close()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise SystemExit(f"errors: {errors[:5]}")
    return {"rps": len(latencies) / elapsed, "latencies": latencies}


def report(results, args):
    summary = {}
    for url, rounds in results.items():
        latencies = [ms for one in rounds for ms in one["latencies"]]
        rps = statistics.median(one["rps"] for one in rounds)
        summary[url] = (rps, statistics.median(latencies), percentile(latencies, 99))
    print(
        f"load: waitress, {args.concurrency} threads, {args.concurrency} client connections, "
        f"{args.rounds} alternating rounds of {args.requests} requests per URL"
    )
    for url, (rps, median, p99) in summary.items():
        name = "daily page" if url == "/" else "floor"
        print(f"  {name:10} {url:7} {rps:7.1f} req/s  median {median:6.2f} ms  p99 {p99:6.2f} ms")
    page, floor = summary["/"], summary["/floor"]
    print(
        f"ratio daily/floor: throughput {floor[0] / page[0]:.2f}x slower, "
        f"median latency {page[1] / floor[1]:.2f}x, p99 {page[2] / floor[2]:.2f}x "
        "(target: within 2x)"
    )


def percentile(values, pct):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(port, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the benchmark server did not start")


if __name__ == "__main__":
    main()
