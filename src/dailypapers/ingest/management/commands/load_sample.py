"""`dailypapers load_sample`: ingest the bundled sample of real papers (idempotent)."""

from pathlib import Path

from django.core.management.base import BaseCommand

from dailypapers.ingest.sources.hf_daily import read_hf_daily
from dailypapers.ingest.sources.listings import read_listings
from dailypapers.ingest.upsert import upsert_daily_records, upsert_records

SAMPLE = Path(__file__).resolve().parents[3] / "sample"


class Command(BaseCommand):
    help = (
        "Load the bundled sample: 14 days of Hugging Face daily papers (entries with their "
        "upvotes) and the matching arXiv listing records. Running it again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="count, write nothing")

    def handle(self, *args, dry_run=False, **options):
        listings = upsert_records(
            read_listings(SAMPLE / "arxiv-listings.jsonl.gz"), dry_run=dry_run
        )
        daily = upsert_daily_records(read_hf_daily(SAMPLE), dry_run=dry_run)
        self.stdout.write("arXiv listings: " + "\n".join(listings.lines()))
        self.stdout.write("Hugging Face daily papers: " + "\n".join(daily.lines()))
        if dry_run:
            self.stdout.write("Dry run: nothing was written.")
