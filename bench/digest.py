"""Benchmark: one day of personalised digests to N subscribers over SMTP.

    .venv/bin/python bench/digest.py [--subscribers 10000] [--day 2025-12-30]
        [--processes 1,2] [--workers 0,1] [--database sqlite|postgres|both] [--data DIR]

Builds a database with one real day of papers: the Hugging Face daily papers of that day
(featured, with their upvotes) and the arXiv listing records first listed that day (new
papers for the topic alerts). Adds N confirmed daily subscribers, each following 0-4
things drawn from real topics, the day's authors and arXiv categories. A local aiosmtpd
server in a child process counts what it receives. SQLite is a file (WAL) in a temporary
folder; PostgreSQL is a throwaway database created on the server of DATABASE_URL (both
run when DATABASE_URL is set, unless --database says otherwise).

Then, on each database, in the same run:
  1. ours: `digest_send()` (plan, claim → compose → send → mark) in one child process per
     --processes (as `db_worker`s running the digest task), each with --workers SMTP
     connections (threads; default as DAILYPAPERS_DIGEST_WORKERS: 3). "1,2" runs once
     with one process, then forgets what was sent and runs again with two; --workers 0,1
     likewise runs with the default connections, then with one;
  2. the anchor: plain smtplib over one connection sending the same number of already
     built digests (the transport alone: no database, no composing), half before ours
     and half after, so that a change of the machine's load weighs on both.
Prints mails/s, the split between composing, sending and the rest (database: claims,
marks, sent-paper records), the CPU time per mail of the sending processes, of the
anchor and of the sink, the ratio to smtplib, and each sending process's peak memory
(max RSS) beside its size before the send: the difference is what the send added.
Targets (issue 21): at 100,000 subscribers, ours >= 0.9x of smtplib; the memory the send
adds under 200 MB and within 1.2x of that at 10,000.
"""

import argparse
import asyncio
import datetime as dt
import gzip
import json
import multiprocessing
import os
import random
import resource
import shutil
import smtplib
import socket
import sys
import tempfile
import time
from pathlib import Path

import real_data  # bench/real_data.py: the --data DIR option

REPO = Path(__file__).resolve().parent.parent
DATA = real_data.DEFAULT  # --data DIR changes it
TOPICS = [
    "diffusion models",
    "large language model reasoning",
    "reinforcement learning from human feedback",
    "mixture of experts",
    "vision language models",
    "retrieval augmented generation",
    "text to video",
    "speech recognition",
    "code generation",
    "agents tool use",
    "image editing",
    "3d reconstruction",
    "gaussian splatting",
    "quantization",
    "long context",
    "multimodal benchmark",
    "robot manipulation",
    "world models",
    "video understanding",
    "chain of thought",
    "knowledge distillation",
    "hallucination",
    "medical imaging",
    "graph neural networks",
    "time series forecasting",
    "federated learning",
    "autonomous driving",
    "protein design",
    "math reasoning",
    "preference optimization",
]
CATEGORIES = ["cs.CL", "cs.CV", "cs.LG", "cs.AI", "cs.RO", "cs.IR", "stat.ML", "eess.AS"]


# --- SMTP sink in a child process (no GIL contention with the sender) ------------------


def sink_main(port, count, size, ready):
    from aiosmtpd.controller import Controller

    class Sink:
        async def handle_DATA(self, server, session, envelope):
            with count.get_lock():
                count.value += 1
                size.value += len(envelope.content)
            return "250 OK"

    controller = Controller(Sink(), hostname="127.0.0.1", port=port, data_size_limit=0)
    controller.start()
    ready.set()
    try:
        asyncio.run(asyncio.sleep(3600))
    finally:
        controller.stop()


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- Data -------------------------------------------------------------------------------


def load_day(day):
    from django.utils import timezone

    from dailypapers.papers.models import Author, DailyEntry, Paper, PaperAuthor
    from dailypapers.papers.services import paper_refresh_trending

    hf = json.loads((DATA / "hf-daily-papers" / f"{day}.json").read_text())
    noon = dt.datetime.fromisoformat(f"{day}T12:00:00+00:00")
    records = {}
    with gzip.open(DATA / "arxiv-listings-2025-03_2026-07.jsonl.gz", "rt") as lines:
        for line in lines:
            record = json.loads(line)
            if record["listed"] == day:
                records[record["id"]] = {
                    "arxiv_id": record["id"],
                    "title": " ".join(record["title"].split()),
                    "abstract": " ".join(record["summary"].split()),
                    "authors": [{"name": name} for name in record["authors"]],
                    "categories": record["categories"],
                    "primary_category": record["categories"][0],
                    "published_at": noon - dt.timedelta(days=1),
                }
    for item in hf:
        paper = item["paper"]
        records[paper["id"]] = {
            **records.get(paper["id"], {"categories": [], "primary_category": ""}),
            "arxiv_id": paper["id"],
            "title": " ".join(paper["title"].split()),
            "abstract": " ".join(paper.get("summary", "").split()),
            "authors": [{"name": a["name"]} for a in paper["authors"]],
            "published_at": dt.datetime.fromisoformat(paper["publishedAt"]),
            "imported_upvotes": paper.get("upvotes", 0),
            "github_repo": paper.get("githubRepo") or "",
        }
    papers = Paper.objects.bulk_create([Paper(**fields) for fields in records.values()])
    names = {a["name"] for p in papers for a in p.authors}
    Author.objects.bulk_create([Author(name=n) for n in names], ignore_conflicts=True)
    author_ids = dict(Author.objects.values_list("name", "pk"))
    links = {}
    for paper in papers:
        for position, author in enumerate(paper.authors):
            links[(paper.pk, position)] = PaperAuthor(
                paper=paper, author_id=author_ids[author["name"]], position=position
            )
    PaperAuthor.objects.bulk_create(links.values(), batch_size=1000)
    by_id = {paper.arxiv_id: paper for paper in papers}
    featured = [by_id[item["paper"]["id"]] for item in hf]
    DailyEntry.objects.bulk_create(
        [
            DailyEntry(
                paper=p,
                day=dt.date.fromisoformat(day),
                submitted_at=timezone.now(),
                source=DailyEntry.Source.IMPORT,
            )
            for p in featured
        ]
    )
    for paper in featured:
        paper_refresh_trending(paper=paper)
    return papers, featured


def make_subscribers(count, papers, seed=7):
    from dailypapers.digests.models import Follow, Subscription

    rng = random.Random(seed)
    authors = sorted({a["name"] for p in papers for a in p.authors[:3]})
    subscriptions = Subscription.objects.bulk_create(
        [
            Subscription(email=f"reader{n:05d}@example.org", status="active", frequency="daily")
            for n in range(count)
        ],
        batch_size=1000,
    )
    follows = []
    for subscription in subscriptions:
        chosen = set()
        for _ in range(rng.choice([0, 1, 1, 2, 2, 3, 4])):
            kind = rng.choice(["topic", "topic", "author", "category"])
            pool = {"topic": TOPICS, "author": authors, "category": CATEGORIES}[kind]
            chosen.add((kind, rng.choice(pool)))
        follows += [Follow(subscription=subscription, kind=k, value=v) for k, v in chosen]
    Follow.objects.bulk_create(follows, batch_size=1000)
    return len(follows)


# --- Runs (each in a child process: its peak memory is the send's own) ---------------


def django_setup():
    sys.path.insert(0, str(REPO / "src"))
    import django

    django.setup()


def max_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_kinds():
    """{"RssAnon": MB, "RssFile": MB} now (file pages: the database read through mmap)."""
    kinds = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("RssAnon", "RssFile"):
            kinds[name] = int(value.split()[0]) / 1024
    return kinds


def cpu_seconds():
    """User + system CPU time of this process, all its threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def process_cpu(pid):
    import psutil

    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def setup_main(day, subscribers, data, out):
    global DATA
    DATA = data
    django_setup()
    from django.core.management import call_command

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    papers, featured = load_day(day)
    follows = make_subscribers(subscribers, papers)
    from dailypapers.search import index_papers

    index_papers([paper.pk for paper in papers])
    out.put((len(papers), len(featured), follows, time.perf_counter() - t0))


def ours_main(day, workers, profile, ready, go, out):
    """One sending process (as one `db_worker` running the digest task)."""
    django_setup()
    from dailypapers.digests import sending  # noqa: F401 (imports before the baseline)
    from dailypapers.search import search_papers

    search_papers("warm up", limit=1)  # load the search index before measuring memory
    rss_before = max_rss_mb()
    ready.set()
    go.wait()
    cpu_before = cpu_seconds()
    if profile:
        import cProfile

        # CPU time, not wall time: on a shared machine waits would swamp the figures
        # (profile with --workers 1: cProfile follows the thread that starts it).
        profiler = cProfile.Profile(time.thread_time)
        report, elapsed = profiler.runcall(run_ours, day, workers)
        profiler.dump_stats(profile)
    else:
        report, elapsed = run_ours(day, workers)
    out.put(
        {
            "elapsed": elapsed,
            "sent": report.sent,
            "empty": report.empty,
            "compose": report.compose_seconds,
            "send": report.send_seconds,
            "busy": report.worker_seconds,
            "rss_before": rss_before,
            "rss_after": max_rss_mb(),
            "cpu": cpu_seconds() - cpu_before,
            "rss_now": rss_kinds(),
        }
    )


def run_ours(day, workers):
    from dailypapers.digests.sending import digest_send

    started = time.perf_counter()
    report = digest_send(today=dt.date.fromisoformat(day), workers=workers or None)
    elapsed = time.perf_counter() - started
    return report, elapsed


def reset_main(out):
    """Forget every digest sent, for the next run on the same data, and leave the database
    settled as a day's send finds it: a reset that deletes a million rows leaves dead rows
    for autovacuum and dirty pages for the checkpointer, and that work, done during the
    timed send, would be charged to ours alone (the anchor touches no database)."""
    django_setup()
    from django.db import connection

    from dailypapers.digests.models import Delivery, SentPaper, Subscription

    Subscription.objects.exclude(bounce_count=0).update(bounce_count=0)
    if connection.vendor == "postgresql":
        tables = ", ".join(
            connection.ops.quote_name(model._meta.db_table) for model in (SentPaper, Delivery)
        )
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {tables}")
            cursor.execute("VACUUM ANALYZE")
            cursor.execute("CHECKPOINT")
    else:
        SentPaper.objects.all().delete()
        Delivery.objects.all().delete()
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    out.put(True)


def in_child(ctx, target, *args):
    out = ctx.Queue()
    process = ctx.Process(target=target, args=(*args, out))
    process.start()
    result = out.get()
    process.join()
    if process.exitcode != 0:
        sys.exit(f"{target.__name__} failed (exit code {process.exitcode})")
    return result


def run_processes(ctx, args, count, workers):
    """`count` sending processes at once, each with `workers` connections; (wall time,
    [their results])."""
    out = ctx.Queue()
    go = ctx.Event()
    children = []
    for n in range(count):
        ready = ctx.Event()
        profile = f"{args.profile}.{n}" if args.profile else None
        child = ctx.Process(target=ours_main, args=(args.day, workers, profile, ready, go, out))
        child.start()
        children.append((child, ready))
    for _, ready in children:
        ready.wait(300)
    started = time.perf_counter()
    go.set()
    results = [out.get() for _ in children]
    wall = time.perf_counter() - started
    for child, _ in children:
        child.join()
    return wall, results


def run_smtplib(port, messages, count, sink_pid):
    """(wall seconds, our CPU seconds, the sink's CPU seconds) for `count` prebuilt mails."""
    started, cpu, sink = time.perf_counter(), cpu_seconds(), process_cpu(sink_pid)
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for n in range(count):
            raw, options = messages[n % len(messages)]
            to = [f"reader{n:05d}@example.org"]
            smtp.sendmail("digest@example.org", to, raw, mail_options=options)
    return (
        time.perf_counter() - started,
        cpu_seconds() - cpu,
        process_cpu(sink_pid) - sink,
    )


def sample_messages(day, count=200):
    """Real composed digests of the first subscribers, for the baseline: (bytes, MAIL
    options) in the form ours sends to this sink (8bit parts, as it offers 8BITMIME)."""
    from dailypapers.digests import services
    from dailypapers.digests.content import PeriodContent, daily_period
    from dailypapers.digests.emails import DigestComposer
    from dailypapers.digests.models import Subscription

    period = daily_period(dt.date.fromisoformat(day))
    content = PeriodContent(period)
    composer = DigestComposer(period_label=period.label, kind="daily")
    out = []
    for subscription in Subscription.objects.prefetch_related("follows")[:count]:
        sections = content.sections_for(subscription, subscription.follows.all(), set())
        composed = composer.compose(
            to=subscription.email,
            sections=sections,
            message_id=f"<b{subscription.pk}@x>",
            unsubscribe_url=services.unsubscribe_url(subscription),
            manage_url=services.manage_url(subscription),
            mailto="u@example.org",
        )
        if composed.raw_8bit is None:
            out.append((composed.raw, []))
        else:
            out.append((composed.raw_8bit, ["BODY=8BITMIME"]))
    return out


def samples_main(day, out):
    django_setup()
    out.put(sample_messages(day))


# --- Databases --------------------------------------------------------------------------


class Postgres:
    """A throwaway database on the server of DATABASE_URL, dropped afterwards; or, with
    `name` (--workdir), one kept for the next run."""

    def __init__(self, url, name=None):
        from urllib.parse import urlsplit

        self.url = url
        self.keep = name is not None
        self.name = name or f"dp_bench_digest_{os.getpid()}"
        self.bench_url = urlsplit(url)._replace(path=f"/{self.name}").geturl()

    def admin(self, sql):
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(sql)

    def __enter__(self):
        import psycopg

        try:
            self.admin(f"CREATE DATABASE {self.name}")
        except psycopg.errors.DuplicateDatabase:
            if not self.keep:
                raise
        return self.bench_url

    def __exit__(self, *exc):
        if not self.keep:
            self.admin(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")


def bench_database(ctx, args, label, port, count, sink_pid, marker):
    print(f"--- {label}")
    wanted = {"day": args.day, "subscribers": args.subscribers}
    if marker.exists() and json.loads(marker.read_text())["wanted"] == wanted:
        papers, featured, follows, setup = json.loads(marker.read_text())["setup"]
        in_child(ctx, reset_main)
        print(f"setup: reused from {marker.parent} (built in {setup:.1f} s)")
    else:
        papers, featured, follows, setup = in_child(
            ctx, setup_main, args.day, args.subscribers, DATA
        )
        marker.write_text(
            json.dumps({"wanted": wanted, "setup": [papers, featured, follows, setup]})
        )
    print(
        f"setup: {papers} papers of {args.day} ({featured} featured), "
        f"{args.subscribers} subscribers with {follows} follows"
    )
    if args.setup_only:
        return
    messages = in_child(ctx, samples_main, args.day)
    # The anchor sends half its mails before ours and half after: on a shared machine the
    # load drifts, and one side timed in a quieter spell would skew the ratio.
    first_half = run_smtplib(port, messages, args.subscribers // 2, sink_pid)
    rates = []  # (processes, connections, mails/s) per timed send, in order
    for processes, workers in [(p, w) for w in args.workers for p in args.processes]:
        if rates:
            in_child(ctx, reset_main)
        received_before = count.value
        sink_before = process_cpu(sink_pid)
        wall, results = run_processes(ctx, args, processes, workers)
        sink_cpu = process_cpu(sink_pid) - sink_before
        mails = sum(result["sent"] for result in results)
        received = count.value - received_before
        rates.append((processes, workers, mails / wall))
        compose = sum(r["compose"] for r in results)
        send = sum(r["send"] for r in results)
        busy = sum(r["busy"] for r in results)
        other = busy - send  # composing runs ahead in each connection's preparing thread
        cpu = sum(r["cpu"] for r in results)
        print(
            f"ours:     {processes} process(es) x {workers or 'default'} connections: "
            f"{mails} digests sent ({sum(r['empty'] for r in results)} empty) in {wall:.1f} s "
            f"= {mails / wall:.0f} mails/s; sink received {received}; "
            f"load average {os.getloadavg()[0]:.1f}"
        )
        print(
            "          of the connections' time: "
            f"sending {send:.1f} s ({send / busy:.0%}), "
            f"marks and the rest {other:.1f} s ({other / busy:.0%}); "
            f"composing ahead (preparing threads) {compose:.1f} s"
        )
        print(
            f"          CPU per mail: the sending process(es) {cpu / mails * 1000:.2f} ms, "
            f"the sink {sink_cpu / mails * 1000:.2f} ms"
        )
        for n, result in enumerate(results):
            added = result["rss_after"] - result["rss_before"]
            now = result["rss_now"]
            print(
                f"          memory of process {n + 1}: peak {result['rss_after']:.0f} MB, "
                f"{result['rss_before']:.0f} MB before the send: the send added {added:.0f} MB "
                f"(at the end: {', '.join(f'{k} {v:.0f} MB' for k, v in now.items())})"
            )
    second_half = run_smtplib(port, messages, args.subscribers - args.subscribers // 2, sink_pid)
    mails = args.subscribers
    baseline, cpu, sink_cpu = (a + b for a, b in zip(first_half, second_half, strict=True))
    average = sum(len(raw) for raw, _ in messages) / len(messages) / 1024
    print(
        f"smtplib:  {mails} prebuilt messages over one connection (half before ours, half "
        f"after) in {baseline:.1f} s = "
        f"{mails / baseline:.0f} mails/s (messages of {average:.1f} KB on average); "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"          CPU per mail: smtplib {cpu / mails * 1000:.2f} ms, "
        f"the sink {sink_cpu / mails * 1000:.2f} ms"
    )
    for processes, workers, rate in rates:
        ratio = rate / (mails / baseline)
        print(
            f"ratio:    ours with {processes} process(es) x {workers or 'default'} connections "
            f"at {ratio:.2f}x of smtplib"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--day", default="2025-12-30")
    parser.add_argument(
        "--workers",
        default="0",
        help="SMTP connections per process (0: the default), several runs comma-separated",
    )
    parser.add_argument(
        "--processes",
        default="1",
        help="sending processes at once, several runs comma-separated (e.g. 1,2)",
    )
    parser.add_argument(
        "--database",
        choices=["sqlite", "postgres", "both"],
        help="default: both when DATABASE_URL is set, else sqlite",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument(
        "--workdir",
        help="keep the databases in DIR (PostgreSQL: a database named after it) and reuse "
        "them when a later run asks for the same --subscribers and --day",
    )
    parser.add_argument(
        "--setup-only",
        action="store_true",
        help="build the databases and stop (with --workdir: a later timed run skips the setup)",
    )
    parser.add_argument("--profile", help="write a cProfile of each sending process to FILE.N")
    real_data.add_option(parser)
    args = parser.parse_args()
    for option in ("processes", "workers"):
        value = getattr(args, option)
        try:
            setattr(args, option, [int(n) for n in value.split(",")])
        except ValueError:
            parser.error(f"--{option} takes numbers like 1,2, not {value!r}")
    database_url = os.environ.pop("DATABASE_URL", "")
    args.database = args.database or ("both" if database_url else "sqlite")
    if args.database != "sqlite" and not database_url:
        parser.error(
            "--database postgres needs DATABASE_URL (a server where it may create a database)"
        )
    global DATA
    DATA = real_data.require(args.data, f"{real_data.HF_DAYS}/{args.day}.json", real_data.LISTINGS)

    if args.workdir:
        workdir = Path(args.workdir).resolve()
        workdir.mkdir(parents=True, exist_ok=True)
        args.keep = True
    else:
        workdir = Path(tempfile.mkdtemp(prefix="dp-bench-digest-"))
    port = free_port()
    os.environ.update(
        DJANGO_SETTINGS_MODULE="dailypapers.settings",
        DAILYPAPERS_SEARCH_DIR=str(workdir / "search"),
        DAILYPAPERS_SMTP_URL=f"smtp://127.0.0.1:{port}",
        DAILYPAPERS_SITE_URL="https://papers.example.org",
        DAILYPAPERS_LOG_LEVEL="WARNING",
        DAILYPAPERS_DIGEST_TIME_ZONE="UTC",
    )
    ctx = multiprocessing.get_context("spawn")
    count, size, ready = ctx.Value("q", 0), ctx.Value("q", 0), ctx.Event()
    sink = ctx.Process(target=sink_main, args=(port, count, size, ready), daemon=True)
    sink.start()
    ready.wait(30)
    print(f"load average {os.getloadavg()[0]:.1f} at the start")
    try:
        if args.database in ("sqlite", "both"):
            os.environ["DAILYPAPERS_DATA_DIR"] = str(workdir / "sqlite")
            bench_database(
                ctx, args, "SQLite (file, WAL)", port, count, sink.pid, workdir / "sqlite.json"
            )
        if args.database in ("postgres", "both"):
            os.environ["DAILYPAPERS_DATA_DIR"] = str(workdir / "postgres")
            os.environ["DAILYPAPERS_SEARCH_DIR"] = str(workdir / "search-postgres")
            kept = f"dp_bench_digest_{workdir.name}".replace("-", "_") if args.workdir else None
            with Postgres(database_url, kept) as url:
                os.environ["DATABASE_URL"] = url
                try:
                    marker = workdir / "postgres.json"
                    bench_database(ctx, args, "PostgreSQL", port, count, sink.pid, marker)
                finally:
                    os.environ.pop("DATABASE_URL")
        print(f"load average {os.getloadavg()[0]:.1f} at the end")
    finally:
        sink.terminate()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
