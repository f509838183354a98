"""`dailypapers demo`: `serve`, after loading the bundled sample of real papers when the
database has no papers yet (what `make run` does)."""

from django.core.management import call_command

from dailypapers.papers.models import Paper

from .serve import Command as ServeCommand


class Command(ServeCommand):
    help = "Serve dailypapers with the bundled sample of real papers (loaded when empty)."

    def before_serving(self, options):
        if Paper.objects.exists():
            self.stdout.write("The database has papers already; not loading the sample.")
            return
        self.stdout.write("Loading the bundled sample of real papers…")
        call_command("load_sample")
