"""Ingest benchmark: the 74,728 real arXiv listing records into a fresh SQLite database.

Measures, in one run and on the same rows:
  upsert      dailypapers.ingest.upsert.upsert_records (papers + authors + links), from
              already-parsed records, and end to end from the .jsonl.gz file
  re-run      the same records again (everything unchanged)
  executemany a raw sqlite3 executemany of the same paper rows (no authors): the floor
  bulk_create Django's Paper.objects.bulk_create of the same rows (no authors)
and prints papers/s, peak memory and ratios. Target (issue 2): upsert >= 8,000 papers/s.

    .venv/bin/python bench/ingest.py [--limit N] [--file PATH]
"""

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_FILE = REPO.parent / "shared" / "data" / "arxiv-listings-2025-03_2026-07.jsonl.gz"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--limit", type=int, default=0, help="only the first N records")
    args = parser.parse_args()
    if not args.file.exists():
        sys.exit(f"missing data file: {args.file}")

    workdir = Path(tempfile.mkdtemp(prefix="dp-bench-ingest-"))
    os.environ["DAILYPAPERS_DATA_DIR"] = str(workdir)
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dailypapers.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    connection.close()
    empty = workdir / "empty.sqlite3"
    shutil.copy(workdir / "dailypapers.sqlite3", empty)

    def fresh_db(name):
        connection.close()
        path = workdir / f"{name}.sqlite3"
        shutil.copy(empty, path)
        connection.settings_dict["NAME"] = str(path)
        return path

    from dailypapers.ingest.sources.listings import read_listings
    from dailypapers.ingest.upsert import upsert_records

    started = time.perf_counter()
    records = [r for r in read_listings(args.file)]
    if args.limit:
        records = records[: args.limit]
    parse_seconds = time.perf_counter() - started
    count = len(records)
    print(f"{count:,} records parsed in {parse_seconds:.2f} s ({args.file.name})")

    results = []

    def measure(label, fn, rows):
        tracemalloc.start()
        began = time.perf_counter()
        out = fn()
        seconds = time.perf_counter() - began
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        results.append((label, rows, seconds, peak))
        return out

    fresh_db("upsert")
    summary = measure("upsert_records (papers+authors)", lambda: upsert_records(records), count)
    rerun = measure("re-run, all unchanged", lambda: upsert_records(records), count)
    assert summary.new == count - len(summary.rejected), summary
    assert rerun.unchanged == summary.new and rerun.new == rerun.updated == 0, rerun

    fresh_db("file")
    measure(
        "end to end from .jsonl.gz",
        lambda: upsert_records(read_listings(args.file) if not args.limit else records),
        count,
    )

    rows = _paper_rows(records)
    path = fresh_db("raw")
    connection.close()
    measure("raw sqlite3 executemany (papers only)", lambda: _raw_insert(path, rows), count)

    fresh_db("orm")
    measure("Django bulk_create (papers only)", lambda: _bulk_create(records), count)

    floor = next(r for r in results if r[0].startswith("Django"))
    print()
    print(f"{'what':40} {'rows':>8} {'seconds':>8} {'rows/s':>9} {'peak MB':>8} {'vs bulk':>8}")
    for label, n, seconds, peak in results:
        rate = n / seconds
        ratio = rate / (floor[1] / floor[2])
        mb = peak / 2**20
        print(f"{label:40} {n:>8,} {seconds:>8.2f} {rate:>9,.0f} {mb:>8.1f} {ratio:>7.2f}x")
    max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nprocess max RSS {max_rss:.0f} MB; papers/s target >= 8,000")
    print(f"summary of the first upsert: {summary.lines()[0]}")
    shutil.rmtree(workdir, ignore_errors=True)


def _paper_rows(records):
    import json
    from datetime import UTC, datetime

    now = datetime.now(UTC).isoformat(" ")
    return [
        (
            r.arxiv_id, r.version, json.dumps(r.versions), r.title, r.abstract,
            json.dumps(r.authors), json.dumps(r.categories), r.primary_category, r.comment,
            "", "", "", None, "", None, "", "[]", "",
            r.published_at.replace(tzinfo=None).isoformat(" "), None, None, 0, 0, 0.0, 0,
            False, now, now,
        )
        for r in records
    ]  # fmt: skip


def _raw_insert(path, rows):
    import sqlite3

    columns = (
        "arxiv_id, version, versions, title, abstract, authors, categories, primary_category, "
        "comment, journal_ref, doi, github_repo, github_stars, project_page, organization_id, "
        "ai_summary, ai_keywords, thumbnail, published_at, updated_at, withdrawn_at, "
        "imported_upvotes, local_upvotes, trending_score, num_comments, hidden, created_at, "
        "modified_at"
    )
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    with db:
        db.executemany(
            f"INSERT INTO papers_paper ({columns}) VALUES ({', '.join(['?'] * 28)})", rows
        )
    db.close()


def _bulk_create(records):
    from django.db import transaction

    from dailypapers.papers.models import Paper

    papers = (
        Paper(
            arxiv_id=r.arxiv_id, version=r.version, versions=r.versions, title=r.title,
            abstract=r.abstract, authors=r.authors, categories=r.categories,
            primary_category=r.primary_category, comment=r.comment,
            published_at=r.published_at,
        )
        for r in records
    )  # fmt: skip
    with transaction.atomic():
        Paper.objects.bulk_create(papers, batch_size=2000)


if __name__ == "__main__":
    main()
