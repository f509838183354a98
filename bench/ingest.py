"""Ingest benchmark: the 74,728 real arXiv listing records into a fresh database.

Measured in one run, each step in its own forked process on its own fresh database (so the
peak memory is the step's own), on the same rows:
  end to end    `dailypapers ingest listings FILE` minus the CLI: stream the .jsonl.gz,
                parse (in a forked read-ahead child), upsert (papers + authors + links)
  upsert        upsert_records on already-parsed records (the upsert alone)
  re-run        the same records again into that database (everything unchanged)
  executemany   a raw executemany of the same paper rows, no authors: the anchor. It runs
                once before our steps and once after (the machine's load moves), and the
                ratios use the mean of the two.
  bulk_create   Django's Paper.objects.bulk_create of the same rows, no authors
The table gives records/s, the step's peak RSS above its starting point, and ratios. CPU
seconds count the step's children too (the read-ahead parser), so they say what a step
costs the machine; wall time says what a user waits, on a shared machine with noise.

SQLite by default (a temporary data directory). With DATABASE_URL=postgres://.../NAME, each
step gets a fresh database NAME_bench_* made from a migrated template, the anchor is
psycopg's executemany (server-side binding: one prepared statement, pipelined), and the
databases are dropped at the end.

    .venv/bin/python bench/ingest.py [--limit N] [--file PATH]
    DATABASE_URL=postgres://dailypapers:dailypapers@127.0.0.1:55432/dp_bench \
        .venv/bin/python bench/ingest.py
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
            cpu_before = sum(os.times()[:4])  # with children's (read-ahead), once joined
            began = time.perf_counter()
            result = fn()
            seconds = time.perf_counter() - began
            cpu = sum(os.times()[:4]) - cpu_before
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
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        os.environ.pop("DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "dailypapers.settings"
    import django

    django.setup()
    from django.db import connection

    from dailypapers.ingest.sources.common import read_ahead
    from dailypapers.ingest.sources.listings import read_listings
    from dailypapers.ingest.upsert import upsert_records

    databases = Databases(connection, workdir)

    def limited(items):
        for n, item in enumerate(items):
            if args.limit and n >= args.limit:
                return
            yield item

    def counts(summary):
        return [summary.new, summary.updated, summary.unchanged, len(summary.rejected)]

    results = []
    print(f"{connection.vendor}; load average before: {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} CPUs")  # fmt: skip
    records = list(limited(read_listings(args.file)))
    rows = _paper_rows(records)

    def anchor(label):
        databases.use("raw")
        _, seconds, peak, cpu = in_child(lambda: databases.raw_insert(rows))
        results.append((f"raw executemany (papers only), {label}", len(rows), seconds, peak, cpu))

    anchor("before")
    databases.use("stream")
    # As `dailypapers ingest` does: the file is parsed in a child process (read_ahead).
    stream = lambda: counts(upsert_records(read_ahead(limited(read_listings(args.file)))))  # noqa: E731
    summary, seconds, peak, cpu = in_child(stream)
    results.append(("end to end: stream .jsonl.gz + upsert", summary[0], seconds, peak, cpu))

    began, cpu_before = time.perf_counter(), sum(os.times()[:2])
    parsed = list(limited(read_listings(args.file)))
    parse_seconds = time.perf_counter() - began
    parse_cpu = sum(os.times()[:2]) - cpu_before
    results.append(("parse only (read_listings)", len(parsed), parse_seconds, None, parse_cpu))

    databases.use("upsert")
    first, seconds, peak, cpu = in_child(lambda: counts(upsert_records(records)))
    results.append(("upsert_records (papers+authors+links)", len(records), seconds, peak, cpu))
    databases.use("upsert", fresh=False)
    again, seconds, peak, cpu = in_child(lambda: counts(upsert_records(records)))
    results.append(("re-run into the same db (unchanged)", len(records), seconds, peak, cpu))
    assert first[0] == len(records) and again[2] == len(records), (first, again)

    databases.use("orm")
    _, seconds, peak, cpu = in_child(lambda: _bulk_create(records))
    results.append(("Django bulk_create (papers only)", len(rows), seconds, peak, cpu))
    anchor("after")
    databases.drop_all()
    shutil.rmtree(workdir, ignore_errors=True)
    report(results, records, args.file)


def report(results, records, path):
    authors = sum(len(r.authors) for r in records)
    print(f"{len(records):,} records, {authors:,} author positions ({path.name})\n")
    anchors = [row for row in results if row[0].startswith("raw executemany")]
    raw_seconds = sum(row[2] for row in anchors) / len(anchors)  # the mean of before/after
    raw_cpu = sum(row[4] for row in anchors) / len(anchors)
    raw_rate, raw_cpu_rate = anchors[0][1] / raw_seconds, anchors[0][1] / raw_cpu
    orm = next(row for row in results if row[0].startswith("Django"))
    orm_rate = orm[1] / orm[2]
    print(f"{'what':44} {'records':>8} {'wall s':>7} {'per s':>7} {'vs raw':>6} {'vs ORM':>6}"
          f" {'CPU s':>6} {'per CPU s':>9} {'vs raw':>6} {'peak MB':>7}")  # fmt: skip
    for label, n, seconds, peak, cpu in results:
        rate, cpu_rate = n / seconds, n / cpu
        peak_text = "" if peak is None else f"{peak:.0f}"
        print(f"{label:44} {n:>8,} {seconds:>7.2f} {rate:>7,.0f} {rate / raw_rate:>5.2f}x "
              f"{rate / orm_rate:>5.2f}x {cpu:>6.2f} {cpu_rate:>9,.0f} "
              f"{cpu_rate / raw_cpu_rate:>5.2f}x {peak_text:>7}")  # fmt: skip
    for step in ("end to end", "upsert_records"):
        _, n, seconds, _, cpu = next(row for row in results if row[0].startswith(step))
        print(
            f"{step}: {n / seconds:,.0f} papers/s wall = {n / seconds / raw_rate:.3f} of raw "
            f"executemany (mean of before/after); {n / cpu:,.0f} papers per CPU second = "
            f"{n / cpu / raw_cpu_rate:.3f} of executemany's. Target: >= 0.2 (or 8,000/s)."
        )
    print(f"load average after: {os.getloadavg()[0]:.1f}; this process max RSS "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")  # fmt: skip


class Databases:
    """A fresh, migrated database per step: a copied SQLite file, or a PostgreSQL database
    made from a migrated template."""

    def __init__(self, connection, workdir):
        from django.core.management import call_command

        self.connection, self.workdir = connection, workdir
        self.postgres = connection.vendor == "postgresql"
        self.base = connection.settings_dict["NAME"]
        self.made = []
        if self.postgres:
            self.template = self._create(f"{self.base}_bench_empty")
            connection.settings_dict["NAME"] = self.template
        call_command("migrate", verbosity=0)
        connection.close()
        if not self.postgres:
            self.template = workdir / "empty.sqlite3"
            shutil.copy(workdir / "dailypapers.sqlite3", self.template)

    def use(self, name, *, fresh=True):
        self.connection.close()
        if self.postgres:
            name = f"{self.base}_bench_{name}"
            if fresh:
                self._create(name, template=self.template)
        else:
            name = str(self.workdir / f"{name}.sqlite3")
            if fresh:
                shutil.copy(self.template, name)
        self.connection.settings_dict["NAME"] = name

    def raw_insert(self, rows):
        """The anchor: one plain executemany of the paper rows in one transaction."""
        columns = ", ".join(RAW_COLUMNS)
        name = self.connection.settings_dict["NAME"]
        if self.postgres:
            import psycopg

            with psycopg.connect(**self._params(name)) as db, db.cursor() as cursor:
                placeholders = ", ".join(["%s"] * len(RAW_COLUMNS))
                cursor.executemany(
                    f"INSERT INTO papers_paper ({columns}) VALUES ({placeholders})", rows
                )
            return
        import sqlite3

        db = sqlite3.connect(name)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        with db:
            placeholders = ", ".join(["?"] * len(RAW_COLUMNS))
            db.executemany(f"INSERT INTO papers_paper ({columns}) VALUES ({placeholders})", rows)
        db.close()

    def drop_all(self):
        self.connection.close()
        for name in self.made:
            self._admin(f'DROP DATABASE IF EXISTS "{name}"')

    def _create(self, name, template=None):
        self._admin(f'DROP DATABASE IF EXISTS "{name}"')
        self._admin(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        if name not in self.made:
            self.made.append(name)
        return name

    def _params(self, name):
        settings = self.connection.settings_dict
        return {"dbname": name, "user": settings["USER"], "password": settings["PASSWORD"],
                "host": settings["HOST"], "port": settings["PORT"] or 5432}  # fmt: skip

    def _admin(self, sql):
        import psycopg

        with psycopg.connect(**self._params("postgres"), autocommit=True) as db:
            db.execute(sql)


RAW_COLUMNS = [
    "arxiv_id", "version", "versions", "title", "abstract", "authors", "categories",
    "primary_category", "comment", "journal_ref", "doi", "github_repo", "github_stars",
    "project_page", "organization_id", "ai_summary", "ai_keywords", "thumbnail",
    "published_at", "updated_at", "withdrawn_at", "imported_upvotes", "local_upvotes",
    "trending_score", "num_comments", "hidden", "created_at", "modified_at",
]  # fmt: skip


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
