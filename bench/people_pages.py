"""Benchmark: author, organisation and BibTeX pages on real papers, against a floor view.

    .venv/bin/python bench/people_pages.py [--data DIR] [--repeat 30] [--keep DIR]

Builds a temporary SQLite database from the real arXiv listing records of --data (74,728
papers through the real `ingest listings`, which writes every author and their order),
attributes 40% of them to 50 organisations, then times the server side alone with
Django's test Client (no HTTP, one thread; author and organisation pages are not
page-cached) for:
  - the author pages of the 20 most prolific authors (their papers, co-authors, upvotes);
  - the organisation pages of 10 organisations (~600 papers each);
  - `/papers/<id>.bib` for 20 papers, and the BibTeX of a collection of 200 papers;
  - the floor (anchor, measured in the same run): a minimal view that fetches 50 papers
    in one query and renders a 50-row template.
It prints the median and p90 of each, and each median as a multiple of the floor's.
"""

import argparse
import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import real_data  # bench/real_data.py: the --data DIR option
from daily_page import URLS_MODULE, configure_django, percentile


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=30, help="requests per address")
    parser.add_argument(
        "--keep", metavar="DIR", help="build the database in DIR and keep it; reuse it next time"
    )
    real_data.add_option(parser)
    args = parser.parse_args()
    listings = real_data.require(args.data, real_data.LISTINGS) / real_data.LISTINGS
    workdir = Path(args.keep or tempfile.mkdtemp(prefix="dailypapers-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    reuse = (workdir / "data" / "dailypapers.sqlite3").exists()
    configure_django(workdir, URLS_MODULE)
    try:
        if not reuse:
            started = time.perf_counter()
            build_database(listings)
            print(f"database: built in {time.perf_counter() - started:.1f} s")
        measure(args.repeat)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


def build_database(listings):
    from django.core.management import call_command
    from django.db import connection

    from dailypapers.papers.models import Organization, Paper

    call_command("migrate", verbosity=0)
    call_command("ingest", "listings", str(listings), no_index=True, no_progress=True)
    orgs = Organization.objects.bulk_create(
        [Organization(name=f"lab{i}", fullname=f"Research Lab {i}") for i in range(50)]
    )
    rng = random.Random(42)
    ids = list(Paper.objects.values_list("pk", flat=True))
    chosen = rng.sample(ids, int(len(ids) * 0.4))
    for index, org in enumerate(orgs):
        Paper.objects.filter(pk__in=chosen[index::50]).update(organization=org)
    with connection.cursor() as sql:
        sql.execute("ANALYZE")


def measure(repeat):
    from django.contrib.auth import get_user_model
    from django.db.models import Count
    from django.test import Client

    from dailypapers.papers.models import Author, Organization, Paper
    from dailypapers.people.services import collection_add, collection_create

    papers = Paper.objects.count()
    authors = list(
        Author.objects.annotate(n=Count("paperauthor")).order_by("-n").values_list("pk", "n")[:20]
    )
    orgs = list(Organization.objects.values_list("name", flat=True)[:10])
    sample = list(Paper.objects.order_by("?").values_list("arxiv_id", flat=True)[:200])
    owner, _ = get_user_model().objects.get_or_create(username="bench")
    collection = collection_create(user=owner, title="Bench", is_public=True)
    for paper in Paper.objects.filter(arxiv_id__in=sample):
        collection_add(user=owner, collection=collection, paper=paper)
    print(f"{papers:,} papers; the 20 busiest authors have {authors[-1][1]}-{authors[0][1]} papers")
    cases = [
        ("floor (anchor)", ["/floor"]),
        ("author page", [f"/authors/{pk}" for pk, _ in authors]),
        ("organisation page", [f"/orgs/{name}" for name in orgs]),
        # a query string the view ignores: each request misses the page cache
        ("paper .bib", [f"/papers/{arxiv_id}.bib?bench=1" for arxiv_id in sample[:20]]),
        ("collection .bib (200)", [f"/collections/{collection.pk}.bib"]),
    ]
    client = Client(HTTP_HOST="127.0.0.1")
    results = {}
    for name, urls in cases:
        for url in urls:  # warm up: templates, connection; author ids redirect once
            response = client.get(url, follow=True)
            assert response.status_code == 200, (url, response.status_code)
        urls = [_final(client, url) for url in urls]
        times = []
        for round_ in range(repeat):
            url = urls[round_ % len(urls)].replace("bench=1", f"bench={round_}")
            started = time.perf_counter()
            client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        results[name] = times
    floor = statistics.median(results["floor (anchor)"])
    for name, times in results.items():
        median = statistics.median(times)
        print(
            f"{name:24} median {median:7.2f} ms  p90 {percentile(times, 90):7.2f} ms"
            f"  {median / floor:5.1f}x floor"
        )


def _final(client, url):
    """The address after redirects (an author id leads to its id-name address)."""
    response = client.get(url, follow=True)
    query = response.request.get("QUERY_STRING")
    return response.request["PATH_INFO"] + (f"?{query}" if query else "")


if __name__ == "__main__":
    main()
