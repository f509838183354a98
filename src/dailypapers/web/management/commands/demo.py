"""`dailypapers demo`: `serve`, after loading the bundled sample of real papers when the
database has no papers yet (what `make run` does).

New accounts may comment at once: the sample's papers are too old to submit, so the usual
way out of the new-member wait (someone upvotes a paper you submitted) is closed, and a
visitor trying the demo would wait a day. DAILYPAPERS_NEW_MEMBER_WAIT_HOURS, when set, wins.
"""

import os

from django.conf import settings
from django.core.management import call_command

from dailypapers.papers.models import Paper

from .serve import Command as ServeCommand

WAIT = "DAILYPAPERS_NEW_MEMBER_WAIT_HOURS"


class Command(ServeCommand):
    help = "Serve dailypapers with the bundled sample of real papers (loaded when empty)."

    def before_serving(self, options):
        if not os.environ.get(WAIT):
            # The web server's processes and the worker read the environment; this one has
            # read its settings already.
            os.environ[WAIT] = "0"
            settings.NEW_MEMBER_WAIT_HOURS = 0
            self.stdout.write(
                f"Demo: new accounts may comment at once ({WAIT}=0; set it to make them wait)."
            )
        if Paper.objects.exists():
            self.stdout.write("The database has papers already; not loading the sample.")
            return
        self.stdout.write("Loading the bundled sample of real papers…")
        call_command("load_sample")
