"""`dailypapers digest send [--date D] [--dry-run]`: send the digests owed for a day."""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from dailypapers.arguments import a_date
from dailypapers.digests.sending import digest_send
from dailypapers.papers.models import DailyEntry


class Command(BaseCommand):
    help = (
        "Send the email digests owed for a day: the daily digest when that day has papers, "
        "and on the weekly day (DAILYPAPERS_DIGEST_WEEKLY_DAY) last week's. Safe to run again "
        "or in parallel: each digest is claimed before sending, so nothing goes out twice and "
        "an interrupted run is picked up where it stopped."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        send = sub.add_parser("send", help="send the digests due on a day")
        send.add_argument(
            "--date",
            type=a_date,
            help="the day, YYYY-MM-DD (default: today in DAILYPAPERS_DIGEST_TIME_ZONE)",
        )
        send.add_argument(
            "--dry-run",
            action="store_true",
            help="compose and count what would be sent; send and record nothing",
        )
        send.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, **options):
        today = options["date"]

        def progress(total):
            return tqdm(total=total, unit="mail", desc="digests", disable=options["no_progress"])

        report = digest_send(today=today, dry_run=options["dry_run"], progress=progress)
        self.stdout.write(report.summary())
        if not report.periods:
            self.stdout.write(_newest_day_hint())
        if report.aborted:
            raise CommandError(report.aborted)


def _newest_day_hint():
    """Where a digest could go out: a new site, or one that loaded an older sample, has no
    papers for today."""
    newest = DailyEntry.objects.order_by("-day").values_list("day", flat=True).first()
    if newest is None:
        return "No daily page has papers yet: ingest some first (`dailypapers help ingest`)."
    return (
        f"The newest daily page with papers is {newest}: "
        f"`dailypapers digest send --date {newest}` sends its digest."
    )
