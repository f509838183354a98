"""`dailypapers thumbnails [--limit N] [--dry-run]`: render the first pages of featured
papers that have none yet (what the worker does every 20 minutes), for cron or a backfill."""

from django.conf import settings
from django.core.management.base import BaseCommand
from tqdm import tqdm

from dailypapers.arguments import a_count
from dailypapers.plural import counted
from dailypapers.thumbnails.selectors import papers_needing_thumbnails
from dailypapers.thumbnails.services import thumbnails_make


class Command(BaseCommand):
    help = "Render the thumbnails (first PDF page) of featured papers that have none yet."

    def add_arguments(self, parser):
        parser.add_argument(
            "--limit", type=a_count, default=100, metavar="N", help="at most N papers (100)"
        )
        parser.add_argument("--dry-run", action="store_true", help="list them, fetch nothing")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, limit, dry_run, no_progress, **options):
        if dry_run:
            papers = papers_needing_thumbnails(limit=limit)
            for paper in papers:
                self.stdout.write(f"{paper.arxiv_id} v{paper.version}")
            needs = "needs" if len(papers) == 1 else "need"
            self.stdout.write(
                f"{counted(len(papers), 'paper')} {needs} a thumbnail (dry run: none fetched)"
            )
            return
        if not settings.THUMBNAILS:
            self.stderr.write("note: DAILYPAPERS_THUMBNAILS is off; the worker makes none")
        bar = tqdm(total=len(papers_needing_thumbnails(limit=limit)), unit=" papers",
                   desc="thumbnails", disable=no_progress, file=self.stderr._out)  # fmt: skip
        try:
            summary = thumbnails_make(limit=limit, progress=bar)
        finally:
            bar.close()
        for arxiv_id, why in summary.failed:
            self.stdout.write(f"{arxiv_id}: {why}")
        self.stdout.write(summary.line())
