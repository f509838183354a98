"""Ingest benchmark: the 74,728 real arXiv listing records into a fresh SQLite database.

Measured in one run, each step in its own forked process on its own fresh database (so the
peak memory is the step's own), on the same rows:
  end to end    `dailypapers ingest listings FILE` minus the CLI: stream the .jsonl.gz,
                parse, upsert (papers + authors + author links)
  upsert        upsert_records on already-parsed records (the upsert alone)
  re-run        the same records again into that database (everything unchanged)
  executemany   a raw sqlite3 executemany of the same paper rows, no authors: the floor
  bulk_create   Django's Paper.objects.bulk_create of the same rows, no authors
The table gives records/s, the step's peak RSS above its starting point, and ratios.
Issue 2's target: >= 8,000 papers/s on SQLite (where executemany reached ~76,000 rows/s and
bulk_create ~13,600 on a quiet machine). Share of CPU matters: the load average is printed.

    .venv/bin/python bench/ingest.py [--limit N] [--file PATH]
"""

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import real_data  # bench/real_data.py: the --data DIR option

REPO = Path(__file__).resolve().parent.parent


def rss_mb():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def in_child(fn):
    """Run fn() in a forked process; return (its result, seconds, peak RSS MB above start,
    CPU seconds). CPU time says more than wall time on a machine shared with other work."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: measure, report through the pipe, leave at once
        os.close(read_end)
        try:
            start_rss = rss_mb()
            cpu_before = sum(os.times()[:2])
            began = time.perf_counter()
            result = fn()
            seconds = time.perf_counter() - began
            cpu = sum(os.times()[:2]) - cpu_before
            payload = json.dumps(
                {"result": result, "seconds": seconds, "start": start_rss, "cpu": cpu}
            )
        except BaseException as exc:  # report, never fall back into the parent's code
            payload = json.dumps({"error": repr(exc)})
        with os.fdopen(write_end, "w") as out:
            out.write(payload)
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        report = json.loads(pipe.read() or '{"error": "no report"}')
    _, _, usage = os.wait4(pid, 0)
    if "error" in report:
        sys.exit(f"benchmark step failed: {report['error']}")
    peak = usage.ru_maxrss / 1024 - report["start"]
    return report["result"], report["seconds"], max(peak, 0.0), report["cpu"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, help="a listings file (default: the one in --data)")
    real_data.add_option(parser)
    parser.add_argument("--limit", type=int, default=0, help="only the first N records")
    args = parser.parse_args()
    if args.file is None:
        args.file = real_data.require(args.data, real_data.LISTINGS) / real_data.LISTINGS
    if not args.file.exists():
        sys.exit(f"missing data file: {args.file}")

    workdir = Path(tempfile.mkdtemp(prefix="dp-bench-ingest-"))
    os.environ["DAILYPAPERS_DATA_DIR"] = str(workdir)
    os.environ.pop("DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "dailypapers.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from dailypapers.ingest.sources.common import read_ahead
    from dailypapers.ingest.sources.listings import read_listings
    from dailypapers.ingest.upsert import upsert_records

    call_command("migrate", verbosity=0)
    connection.close()
    empty = workdir / "empty.sqlite3"
    shutil.copy(workdir / "dailypapers.sqlite3", empty)

    def use_db(name, *, fresh=True):
        connection.close()
        path = workdir / f"{name}.sqlite3"
        if fresh:
            shutil.copy(empty, path)
        connection.settings_dict["NAME"] = str(path)
        return path

    def limited(items):
        for n, item in enumerate(items):
            if args.limit and n >= args.limit:
                return
            yield item

    def counts(summary):
        return [summary.new, summary.updated, summary.unchanged, len(summary.rejected)]

    results = []
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")

    use_db("stream")
    # As `dailypapers ingest` does: the file is parsed in a child process (read_ahead).
    stream = lambda: counts(upsert_records(read_ahead(limited(read_listings(args.file)))))  # noqa: E731
    summary, seconds, peak, cpu = in_child(stream)
    count = summary[0]
    results.append(("end to end: stream .jsonl.gz + upsert", count, seconds, peak, cpu))

    began, cpu_before = time.perf_counter(), sum(os.times()[:2])
    records = list(limited(read_listings(args.file)))
    parse_seconds = time.perf_counter() - began
    parse_cpu = sum(os.times()[:2]) - cpu_before
    results.append(("parse only (read_listings)", len(records), parse_seconds, None, parse_cpu))

    use_db("upsert")
    first, seconds, peak, cpu = in_child(lambda: counts(upsert_records(records)))
    results.append(("upsert_records (papers+authors+links)", len(records), seconds, peak, cpu))
    use_db("upsert", fresh=False)
    again, seconds, peak, cpu = in_child(lambda: counts(upsert_records(records)))
    results.append(("re-run into the same db (unchanged)", len(records), seconds, peak, cpu))
    assert first[0] == len(records) and again[2] == len(records), (first, again)

    rows = _paper_rows(records)
    raw_path = use_db("raw")
    connection.close()
    _, seconds, peak, cpu = in_child(lambda: _raw_insert(raw_path, rows))
    results.append(("raw sqlite3 executemany (papers only)", len(rows), seconds, peak, cpu))

    use_db("orm")
    _, seconds, peak, cpu = in_child(lambda: _bulk_create(records))
    results.append(("Django bulk_create (papers only)", len(rows), seconds, peak, cpu))

    authors = sum(len(r.authors) for r in records)
    print(f"{len(records):,} records, {authors:,} author positions ({args.file.name})\n")
    raw_rate = results[-2][1] / results[-2][2]
    orm_rate = results[-1][1] / results[-1][2]
    raw_cpu_rate = results[-2][1] / results[-2][4]
    print(f"{'what':40} {'records':>8} {'wall s':>7} {'per s':>7} {'vs raw':>6} {'vs ORM':>6}"
          f" {'CPU s':>6} {'per CPU s':>9} {'vs raw':>6} {'peak MB':>7}")  # fmt: skip
    for label, n, seconds, peak, cpu in results:
        rate, cpu_rate = n / seconds, n / cpu
        peak_text = "" if peak is None else f"{peak:.0f}"
        print(f"{label:40} {n:>8,} {seconds:>7.2f} {rate:>7,.0f} {rate / raw_rate:>5.2f}x "
              f"{rate / orm_rate:>5.2f}x {cpu:>6.2f} {cpu_rate:>9,.0f} "
              f"{cpu_rate / raw_cpu_rate:>5.2f}x {peak_text:>7}")  # fmt: skip
    upsert = results[2]
    print(
        f"\nupsert: {upsert[1] / upsert[2]:,.0f} papers/s wall = "
        f"{upsert[1] / upsert[2] / raw_rate:.3f} of raw executemany; "
        f"{upsert[1] / upsert[4]:,.0f} papers per CPU second = "
        f"{upsert[1] / upsert[4] / raw_cpu_rate:.3f} of raw executemany's. Target: 8,000/s, "
        f"i.e. 0.105 of the 76,000 rows/s that executemany reaches on a quiet machine."
    )
    print(f"load average after: {os.getloadavg()[0]:.1f}; this process max RSS "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")  # fmt: skip
    shutil.rmtree(workdir, ignore_errors=True)


def _paper_rows(records):
    from datetime import UTC, datetime

    now = datetime.now(UTC).replace(tzinfo=None).isoformat(" ")
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

    papers = [
        Paper(
            arxiv_id=r.arxiv_id, version=r.version, versions=r.versions, title=r.title,
            abstract=r.abstract, authors=r.authors, categories=r.categories,
            primary_category=r.primary_category, comment=r.comment,
            published_at=r.published_at,
        )
        for r in records
    ]  # fmt: skip
    with transaction.atomic():
        Paper.objects.bulk_create(papers, batch_size=2000)


if __name__ == "__main__":
    main()
