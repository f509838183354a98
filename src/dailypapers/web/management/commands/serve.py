"""`dailypapers serve`: the whole service on one machine.

Runs the web server and, as child processes, the task worker and the scheduler, so that
one command (or one systemd unit) is all an operator needs. The web server is granian
(a Rust HTTP server) with one process per core, each with a few threads: on 2 cores it
serves 2-3x the pages of waitress's threads in one process (docs/operations.md, bench/
pages.py); `--server waitress` keeps the pure-Python one. At scale, run the web server,
`dailypapers db_worker` (or an RQ/Celery worker) and `dailypapers crontask` separately.
"""

import os
import signal
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from dailypapers.arguments import a_count, a_port
from dailypapers.plural import counted
from dailypapers.search import keyword
from dailypapers.search.tasks import (
    fill_empty_keyword_index,
    queue_catch_up,
    refresh_stale_statistics,
    rewrite_outdated_keyword_documents,
)


class Command(BaseCommand):
    help = "Serve dailypapers: web, task worker and scheduler in one process tree."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="address (default: 127.0.0.1)")
        parser.add_argument("--port", type=a_port, default=8000, help="port (default: 8000)")
        parser.add_argument(
            "--server", choices=["granian", "waitress"], default="granian",
            help="granian: one process per --workers, threads each (default); "
            "waitress: one process of threads",
        )  # fmt: skip
        parser.add_argument(
            "--workers", type=a_count, metavar="N", default=min(os.cpu_count() or 1, 4),
            help="web server processes (granian; default: one per core, at most 4)",
        )  # fmt: skip
        parser.add_argument(
            "--threads", type=a_count, metavar="N", default=None,
            help="threads per web server process (default: 4 with granian, 8 with waitress)",
        )  # fmt: skip
        parser.add_argument("--no-worker", action="store_true", help="do not start the task worker")
        parser.add_argument(
            "--no-scheduler", action="store_true", help="do not start the periodic scheduler"
        )

    def handle(self, *args, **options):
        call_command("migrate", interactive=False, verbosity=0)
        if queued := fill_empty_keyword_index():
            meanwhile = ("searches read the previous index until it is complete"
                         if keyword.serving_index() is not keyword.get_index()
                         else "keyword search finds them as each chunk is written")  # fmt: skip
            self.stdout.write(f"The keyword index is new or short of papers (an upgrade, or "
                              f"a refill that stopped): the worker indexes "
                              f"{counted(queued, 'paper')} in the background; "
                              f"{meanwhile}.")  # fmt: skip
        elif queued := rewrite_outdated_keyword_documents():
            self.stdout.write(f"The keyword index's documents are of an older format (an "
                              f"upgrade): the worker rewrites those of "
                              f"{counted(queued, 'paper')} in the background; search uses "
                              f"them meanwhile.")  # fmt: skip
        elif refresh_stale_statistics():
            self.stdout.write("The keyword engine's word counts are missing or old: the worker "
                              "recounts them in the background.")  # fmt: skip
        if waiting := queue_catch_up():
            were = "was" if waiting == 1 else "were"
            self.stdout.write(
                f"{counted(waiting, 'paper')} {were} written but not indexed for search "
                "(an interrupted ingest?): the worker indexes them now."
            )
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
        url = f"http://{options['host']}:{options['port']}/"
        self.stdout.write(self.style.SUCCESS(f"dailypapers is serving on {url}"))
        self.stdout.write(f"data directory: {settings.DATA_DIR}   (Ctrl-C stops it)")
        if options["server"] == "waitress":
            return self.serve_waitress(options)
        return self.serve_granian(options)

    def serve_granian(self, options):
        from granian import Granian
        from granian.constants import Interfaces

        Granian(
            "dailypapers.wsgi:application",
            address=options["host"],
            port=options["port"],
            interface=Interfaces.WSGI,
            workers=options["workers"],
            blocking_threads=options["threads"] or 4,
            backpressure=64,  # requests queue in the kernel, not in a worker's memory
            log_enabled=False,
            respawn_failed_workers=True,
            # A stop that reaches a worker while it still loads the app (wsgi.py opens
            # search, seconds) is lost, and granian would wait for that worker forever.
            workers_kill_timeout=10,
        ).serve()

    def serve_waitress(self, options):
        from waitress import serve

        from dailypapers.wsgi import application

        serve(
            application,
            host=options["host"],
            port=options["port"],
            threads=options["threads"] or 8,
            ident="dailypapers",
            _quiet=True,
        )
