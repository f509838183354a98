"""`dailypapers ingest SOURCE ...`: bring papers in from arXiv and other feeds.

    dailypapers ingest arxiv --category cs.CL --since 2026-11-20   (query API)
    dailypapers ingest arxiv --id 2401.01234 hep-th/9901001
    dailypapers ingest oai --set cs:cs:CL --from 2026-11-01 [--format arXivRaw]
    dailypapers ingest rss --category cs.CL
    dailypapers ingest hf-daily FILE_OR_DIR
    dailypapers ingest snapshot FILE
    dailypapers ingest listings FILE

Every source goes through the same idempotent upsert; the summary at the end counts new,
updated, unchanged and rejected records (with reasons). --dry-run writes nothing.
The new and changed papers are indexed for search before the command returns (a second
progress bar), so they are searchable at once; --no-index leaves that to the task worker.
"""

import argparse
import datetime as dt
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from django.utils import timezone
from tqdm import tqdm

from dailypapers.arguments import a_date, a_month, a_week
from dailypapers.ingest import services
from dailypapers.ingest.http import ArxivError
from dailypapers.ingest.sources.rss import ANNOUNCE_TYPES
from dailypapers.papers.arxiv_ids import InvalidArxivId
from dailypapers.plural import counted

# Every record rejected: a scheduler must not take that for success.
WRONG_KIND = (
    "No record of {path} could be read: is it the right kind of file? `ingest listings` "
    "reads arXiv listing JSON lines, `ingest snapshot` the Kaggle snapshot, `ingest hf-daily` "
    "Hugging Face YYYY-MM-DD.json files."
)


def announce_types(text):
    types = tuple(t.strip() for t in text.split(",") if t.strip())
    if unknown := set(types) - set(ANNOUNCE_TYPES):
        raise argparse.ArgumentTypeError(
            f"unknown announcement types: {', '.join(sorted(unknown))} "
            f"(choose from {','.join(ANNOUNCE_TYPES)})"
        )
    return types


def an_http_url(text):
    if not text.startswith(("http://", "https://")):
        raise argparse.ArgumentTypeError(f"{text!r} is not an http(s) URL")
    return text


class Command(BaseCommand):
    help = (
        "Ingest papers: from the arXiv query API (arxiv), OAI-PMH (oai), the announcement "
        "feeds (rss), Hugging Face daily papers JSON (hf-daily), the Kaggle bulk snapshot "
        "(snapshot) or listing JSON lines (listings). `dailypapers ingest SOURCE --help`."
    )

    def add_arguments(self, parser):
        sources = parser.add_subparsers(dest="source", required=True, metavar="SOURCE")
        self.parsers = {}  # SOURCE: its parser, which says what is wrong with its arguments

        def add(name, help_text):
            sub = self.parsers[name] = sources.add_parser(
                name, help=help_text, description=help_text
            )
            sub.add_argument("--dry-run", action="store_true", help="count, write nothing")
            sub.add_argument("--no-progress", action="store_true", help="no progress bar")
            sub.add_argument(
                "--no-index", action="store_true",
                help="leave the search indexing of the new papers to the task worker "
                "(default: index them before returning, so they are searchable at once)",
            )  # fmt: skip
            return sub

        arxiv = add("arxiv", "The arXiv query API: categories since a date, or ids.")
        arxiv.add_argument(
            "--category", action="append", default=[], metavar="CAT",
            help="an arXiv category such as cs.CL (repeat for several; default: "
            "DAILYPAPERS_ARXIV_CATEGORIES when no --id is given)",
        )  # fmt: skip
        arxiv.add_argument("--since", type=a_date, help="first submission day (default: -3 days)")
        arxiv.add_argument("--until", type=a_date, help="last submission day (default: today)")
        arxiv.add_argument("--id", nargs="+", default=[], metavar="ID", help="arXiv ids or URLs")
        arxiv.add_argument(
            "--auto-feature", action="store_true",
            help="apply DAILYPAPERS_AUTO_FEATURE to the new papers (what the scheduler does)",
        )  # fmt: skip

        harvest = add("oai", "arXiv OAI-PMH ListRecords; an interrupted harvest resumes.")
        harvest.add_argument("--set", dest="set_spec", default="", help="e.g. cs or cs:cs:CL")
        harvest.add_argument(
            "--from",
            dest="from_date",
            type=a_date,
            help="first datestamp, YYYY-MM-DD",
        )
        harvest.add_argument("--until", type=a_date, help="last datestamp, YYYY-MM-DD")
        harvest.add_argument(
            "--format", choices=["arXivRaw", "arXiv"], default="arXivRaw",
            help="metadata format (arXivRaw has every version's date)",
        )  # fmt: skip

        feed = add("rss", "Today's announcement feed: new, cross and replaced papers.")
        feed.add_argument(
            "--category", action="append", default=[], metavar="CAT",
            help="category (repeat; default: DAILYPAPERS_ARXIV_CATEGORIES)",
        )  # fmt: skip
        feed.add_argument(
            "--types", type=announce_types, default=ANNOUNCE_TYPES,
            help=f"announcement types to keep (default: {','.join(ANNOUNCE_TYPES)})",
        )  # fmt: skip

        daily = add("hf-daily", "Hugging Face daily papers JSON: papers, entries, upvotes.")
        daily.add_argument("path", nargs="?", type=Path, metavar="FILE_OR_DIR",
                           help="a YYYY-MM-DD.json file or a directory of them")  # fmt: skip
        # Mirroring (sources/hf_api.py): the same entries from a server's /api/daily_papers.
        daily.add_argument("--api", metavar="URL", type=an_http_url,
                           help="mirror from a server speaking the Hugging Face papers API "
                           "(huggingface.co or another dailypapers) instead of files")  # fmt: skip
        period = daily.add_mutually_exclusive_group()
        period.add_argument("--date", type=a_date, help="with --api: one day (YYYY-MM-DD)")
        period.add_argument("--week", type=a_week, help="with --api: an ISO week (YYYY-Www)")
        period.add_argument("--month", type=a_month, help="with --api: a month (YYYY-MM)")
        period.add_argument("--since", type=a_date, help="with --api: from this day to today")

        snapshot = add("snapshot", "arXiv's bulk metadata snapshot (Kaggle JSON lines).")
        snapshot.add_argument("path", type=Path, metavar="FILE", help=".json or .json.gz")
        listings = add("listings", "arXiv listing JSON lines (arxiv-listings-*.jsonl.gz).")
        listings.add_argument("path", type=Path, metavar="FILE", help=".jsonl or .jsonl.gz")

    def handle(self, *args, source, dry_run=False, no_progress=False, no_index=False, **options):
        from dailypapers.search.services import mark_never_embedded, unindexed_ids
        from dailypapers.search.tasks import collect_indexing, queue_indexing

        self.check_arguments(source, options)
        if not dry_run:
            # Papers an earlier run wrote but did not index (it was stopped, the database
            # went away): indexed with this run's.
            mark_never_embedded()
            if waiting := len(unindexed_ids()):
                one = waiting == 1
                self.stdout.write(
                    f"{counted(waiting, 'paper')} written earlier {'is' if one else 'are'} not "
                    f"indexed for search yet (an interrupted run?): "
                    f"{'it is' if one else 'they are'} indexed with this run's."
                )
        with collect_indexing() as to_index:
            self.ingest(source, options, dry_run=dry_run, no_progress=no_progress)
        if not dry_run:
            to_index |= set(unindexed_ids())
        if no_index:
            queue_indexing(to_index)
        elif to_index:
            self.index(to_index, no_progress=no_progress)

    def check_arguments(self, source, options):
        """What argparse cannot check alone (options that go together), before anything is
        written: a usage error (exit 2), as a bad value is."""
        from dailypapers.ingest.sources.hf_api import period_days

        def wrong(message):
            self.parsers[source].error(message)  # prints the usage and exits with 2

        if source == "arxiv" and options["since"]:
            until = options["until"] or timezone.localdate()
            if options["since"] > until:
                named = f"--until {until}" if options["until"] else f"today ({until})"
                wrong(f"--since {options['since']} is after {named}")
        if source != "hf-daily":
            return
        periods = ("date", "week", "month", "since")
        if options["api"] is None:
            if any(options[name] for name in periods):
                wrong("--date, --week, --month and --since go with --api URL")
            if options["path"] is None:
                wrong("give a FILE_OR_DIR, or --api URL with --date, --week, --month or --since")
            return
        if options["path"] is not None:
            wrong("give either FILE_OR_DIR or --api, not both")
        try:
            period_days(**{name: options[name] for name in periods})
        except ValueError as exc:
            wrong(str(exc))

    def index(self, paper_ids, *, no_progress):
        """Index what was ingested before returning: searchable when the command ends."""
        import time

        from dailypapers.search.services import index_papers

        bar = tqdm(total=len(paper_ids), desc="index for search", unit=" papers",
                   disable=no_progress, mininterval=0.5, file=self.stderr._out)  # fmt: skip
        started = []

        def done():
            if started:
                bar.write(f"index for search: done in {time.monotonic() - started.pop():.0f} s",
                          file=self.stderr._out)  # fmt: skip

        def step(text):  # a long step between or after batches: say what the bar waits for
            done()
            started.append(time.monotonic())
            bar.refresh()
            bar.write(f"index for search: {text}...", file=self.stderr._out)

        so_far = [0]

        def progress(count):
            done()
            so_far[0] += count
            bar.update(count)

        try:
            indexed = index_papers(paper_ids, progress=progress, step=step)
        except (KeyboardInterrupt, DatabaseError) as exc:
            bar.close()
            stopped = isinstance(exc, KeyboardInterrupt)
            raise CommandError(
                f"{'Stopped' if stopped else 'The database failed'} while indexing for search: "
                f"the papers written are saved, and {len(paper_ids) - so_far[0]} of them are "
                "not searchable yet. The next `dailypapers ingest`, `dailypapers serve` at "
                "start-up and the nightly task index them; `dailypapers search catch-up` does "
                "it now.",
                returncode=130 if stopped else 1,  # Ctrl-C: what a shell reports for SIGINT
            ) from None
        else:
            done()
        finally:
            bar.close()
        self.stdout.write(f"indexed for search: {counted(indexed, 'paper')}")

    def ingest(self, source, options, *, dry_run, no_progress):
        path = options.get("path")
        if source == "hf-daily" and options.get("api"):
            return self.mirror(options, dry_run=dry_run, no_progress=no_progress)
        if path is not None and not path.exists():
            raise CommandError(f"{path}: no such file or directory")
        if path is not None and path.is_dir() and source != "hf-daily":
            raise CommandError(f"{path} is a folder: `ingest {source}` reads one file.")
        bar = tqdm(desc=f"ingest {source}", unit=" records", disable=no_progress, smoothing=0.1,
                   mininterval=0.5, file=self.stderr._out)  # fmt: skip
        try:
            summary, notes = self.run(source, options, dry_run=dry_run, progress=bar.update)
        except (ArxivError, InvalidArxivId, OSError) as exc:
            raise CommandError(str(exc)) from None
        finally:
            bar.close()
        for line in summary.lines() + notes:
            self.stdout.write(line)
        if path is not None and summary.rejected and summary.seen == len(summary.rejected):
            raise CommandError(WRONG_KIND.format(path=path, source=source))
        if dry_run:
            self.stdout.write(self.style.WARNING("Dry run: nothing was written."))

    def run(self, source, options, *, dry_run, progress):
        notes = []
        if source == "arxiv":
            ids = options["id"]
            categories = options["category"] or ([] if ids else settings.ARXIV_CATEGORIES)
            today = timezone.localdate()
            since = options["since"] or today - dt.timedelta(days=services.SCHEDULED_WINDOW_DAYS)
            summary = services.ingest_arxiv(
                categories=categories, ids=ids, since=since, until=options["until"] or today,
                dry_run=dry_run, progress=progress,
            )  # fmt: skip
            if options["auto_feature"] and not dry_run:  # the scheduled job, by hand
                featured = services.papers_auto_feature(paper_ids=summary.new_paper_ids)
                notes.append(f"auto-featured on today's page: {featured}")
                fill_since = today - dt.timedelta(days=services.FILL_DAYS)
                summary.add(services.arxiv_metadata_fill(since=fill_since))
            return summary, notes
        if source == "oai":
            summary = services.ingest_oai(
                set_spec=options["set_spec"], from_date=options["from_date"],
                until=options["until"], metadata_prefix=options["format"], dry_run=dry_run,
                progress=progress,
            )  # fmt: skip
            return summary, notes
        if source == "rss":
            summary, kinds = services.ingest_rss(
                categories=options["category"] or settings.ARXIV_CATEGORIES,
                types=options["types"],
                dry_run=dry_run, progress=progress,
            )  # fmt: skip
            counts = ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()))
            notes.append(f"announcements: {counts or 'none'}")
            return summary, notes
        summary = services.ingest_file(source, options["path"], dry_run=dry_run, progress=progress)
        return summary, notes

    def mirror(self, options, *, dry_run, no_progress):
        """ingest hf-daily --api URL --date/--week/--month/--since (sources/hf_api.py)."""
        from dailypapers.ingest.sources.hf_api import HfApiClient, MirrorError, period_days
        from dailypapers.ingest.upsert import upsert_daily_records

        try:
            days = period_days(
                date=options["date"], week=options["week"], month=options["month"],
                since=options["since"], today=timezone.localdate(),
            )  # fmt: skip
            client = HfApiClient(options["api"])
        except (ValueError, MirrorError) as exc:
            raise CommandError(str(exc)) from None
        bar = tqdm(days, desc="mirror days", unit=" days", disable=no_progress,
                   file=self.stderr._out)  # fmt: skip
        try:
            summary = upsert_daily_records(client.daily_records(bar), dry_run=dry_run)
        except MirrorError as exc:
            raise CommandError(str(exc)) from None
        finally:
            bar.close()
            client.close()
        for line in summary.lines():
            self.stdout.write(line)
        self.stdout.write(
            f"{options['api']}: {counted(len(days), 'day')}, {counted(client.requests, 'request')} "
            f"({client.not_modified} unchanged since last time)"
        )
        if dry_run:
            self.stdout.write(self.style.WARNING("Dry run: nothing was written."))
