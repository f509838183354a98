"""`dailypapers serve`: the whole service on one machine.

Runs the web server (waitress, threaded) in this process and the task worker and the
scheduler as child processes, so that one command (or one systemd unit) is all an operator
needs. At scale, run `gunicorn dailypapers.wsgi`, `dailypapers db_worker` (or an RQ/Celery
worker) and `dailypapers crontask` separately instead.
"""

import signal
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from dailypapers.search.tasks import fill_empty_keyword_index, refresh_stale_statistics


class Command(BaseCommand):
    help = "Serve dailypapers: web, task worker and scheduler in one process tree."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
        parser.add_argument("--port", type=int, default=8000, help="port to listen on")
        parser.add_argument("--threads", type=int, default=8, help="web server threads")
        parser.add_argument("--no-worker", action="store_true", help="do not start the task worker")
        parser.add_argument(
            "--no-scheduler", action="store_true", help="do not start the periodic scheduler"
        )

    def handle(self, *args, **options):
        call_command("migrate", interactive=False, verbosity=0)
        if queued := fill_empty_keyword_index():
            self.stdout.write(f"The keyword index is new (an upgrade?): the worker indexes "
                              f"{queued} papers in the background.")  # fmt: skip
        elif refresh_stale_statistics():
            self.stdout.write("The keyword engine's word counts are missing or old: the worker "
                              "recounts them in the background.")  # fmt: skip
        self.before_serving(options)
        # SIGTERM (systemd, docker, kill) stops like Ctrl-C, so that the children stop too.
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
        children = self.start_children(options)
        try:
            self.serve(options)
        finally:
            for child in children:
                child.send_signal(signal.SIGTERM)
            for child in children:
                try:
                    child.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    child.kill()

    def before_serving(self, options):
        """Hook for `demo` (load the sample)."""

    def start_children(self, options):
        commands = []
        if not options["no_worker"]:
            commands.append(["db_worker", "--queue-name", "*", "--no-reload", "--verbosity", "1"])
        if not options["no_scheduler"]:
            commands.append(["crontask", "--no-heartbeat"])
        return [
            subprocess.Popen([sys.executable, "-m", "dailypapers", *command])
            for command in commands
        ]

    def serve(self, options):
        from waitress import serve

        from dailypapers.wsgi import application

        url = f"http://{options['host']}:{options['port']}/"
        self.stdout.write(self.style.SUCCESS(f"dailypapers is serving on {url}"))
        self.stdout.write(f"data directory: {settings.DATA_DIR}   (Ctrl-C stops it)")
        serve(
            application,
            host=options["host"],
            port=options["port"],
            threads=options["threads"],
            ident="dailypapers",
            _quiet=True,
        )
