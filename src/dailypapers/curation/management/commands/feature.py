"""`dailypapers feature train [--until D]` and `dailypapers feature suggest --date D [--limit N]`:
the suggestion model (dailypapers/curation/services.py, docs/curation.md)."""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from dailypapers.arguments import a_count, a_date
from dailypapers.curation import services
from dailypapers.plural import counted


class Command(BaseCommand):
    help = "Train the suggestion model, or list a day's suggested papers with their reasons."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        train = actions.add_parser(
            "train", help="learn from the daily pages (all, or before --until)"
        )
        train.add_argument(
            "--until", type=a_date, help="YYYY-MM-DD: learn only from days before it"
        )
        train.add_argument("--no-progress", action="store_true", help="no progress bar")
        suggest = actions.add_parser("suggest", help="the ranked candidates of a day")
        suggest.add_argument("--date", type=a_date, required=True, help="YYYY-MM-DD")
        suggest.add_argument(
            "--limit", type=a_count, default=20, metavar="N", help="how many (default 20)"
        )

    def handle(self, *args, action, **options):
        try:
            if action == "train":
                self.train(options)
            else:
                self.suggest(options)
        except services.CurationError as exc:
            raise CommandError(str(exc)) from None

    def train(self, options):
        until = options["until"]
        bar = tqdm(desc="read daily pages", unit=" days", disable=options["no_progress"],
                   file=self.stderr._out)  # fmt: skip
        try:
            summary = services.train(until, progress=bar.update)
        finally:
            bar.close()
        self.stdout.write(
            f"trained on {counted(summary['days'], 'day')} "
            f"({counted(summary['rows'], 'candidate')}, {summary['featured']} featured) "
            f"before {until or 'today'}: {summary['path']}"
        )

    def suggest(self, options):
        day = options["date"]
        suggestions = services.suggest(day, options["limit"])
        if not suggestions:
            self.stdout.write(f"no candidates for {day}")
        for rank, s in enumerate(suggestions, 1):
            title = s.paper.plain_title
            self.stdout.write(f"{rank:3d}. {s.paper.arxiv_id}  {s.score:.3f}  {title}")
            self.stdout.write(f"     {s.reason}")
