"""`dailypapers ...`: every Django management command, with our settings.

dailypapers demo            # serve with the bundled sample, on a fresh data directory
dailypapers serve           # web + task worker + scheduler in one process tree
dailypapers ingest ...      # see `dailypapers ingest --help`
dailypapers migrate / createsuperuser / ...

An error an operator can mend (the database out of reach, a data directory that cannot
be written, Ctrl-C) is one or two sentences naming the cause and the fix, and a non-zero
exit; `--traceback` (Django's flag) or DAILYPAPERS_TRACEBACK=1 shows the traceback instead.
Every such error reads "dailypapers: <sentence>" and exits with 1, a command's own
(CommandError, which Django would print as "CommandError: ...") included. A wrong argument
is argparse's usage error: the usage, "dailypapers COMMAND: error: ...", and exit 2.
"""

import errno
import functools
import os
import re
import sys

NOT_SET_UP = (
    "dailypapers: the database {where} is not set up for this version yet ({error}).\n"
    "Run `dailypapers migrate` first (`dailypapers serve` and `dailypapers demo` do it "
    "themselves), or point DAILYPAPERS_DATA_DIR (or DATABASE_URL) at the site's data."
)
CHECK_URL = "Is PostgreSQL running, and is DATABASE_URL right?"
INTERRUPTED = "Interrupted."
INGEST_INTERRUPTED = (
    "Interrupted. What was written so far is kept; run the same command again to resume."
)


class Failed(Exception):
    """A command's CommandError, on its way past Django's printing of it to main()."""

    def __init__(self, error):
        super().__init__(str(error))
        self.returncode = error.returncode


def main(argv=None):
    args = sys.argv[1:] if argv is None else argv
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dailypapers.settings")
    wants_traceback = os.environ.get("DAILYPAPERS_TRACEBACK", "") not in ("", "0")
    show_traceback = wants_traceback or "--traceback" in args
    try:
        run(args)
        sys.stdout.flush()  # here, where a closed pipe is caught, not at exit
    except BrokenPipeError:
        # The reader went away (`dailypapers ... | head`): stop quietly, as `yes | head` does.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(128 + 13)  # 128 + SIGPIPE, what a shell reports for such a tool
    except KeyboardInterrupt:
        if show_traceback:
            raise
        command = next((arg for arg in args if not arg.startswith("-")), "")
        print(file=sys.stderr)  # after the ^C the terminal echoed
        print(INGEST_INTERRUPTED if command == "ingest" else INTERRUPTED, file=sys.stderr)
        sys.exit(130)
    except Failed as failed:
        if show_traceback:  # DAILYPAPERS_TRACEBACK=1: the CommandError's, chained
            raise
        print(f"dailypapers: {_after_colon(str(failed))}", file=sys.stderr)
        sys.exit(failed.returncode)
    except Exception as error:
        message = None if show_traceback else explain(error)
        if message is None:
            raise
        sys.exit(message)


def run(args):
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management.base import BaseCommand

    try:
        settings.INSTALLED_APPS  # noqa: B018 (reads the environment: a bad value says so here)
    except ImproperlyConfigured as error:  # Django would hide it behind "unknown command"
        sys.exit(f"dailypapers: {error}")
    BaseCommand.run_from_argv = _errors_to_main(BaseCommand.run_from_argv)
    _utility()(["dailypapers", *args]).execute()


def _errors_to_main(run_from_argv):
    """Django's run_from_argv, whose command lets its CommandError through to main()."""
    if getattr(run_from_argv, "lets_errors_through", False):
        return run_from_argv

    @functools.wraps(run_from_argv)
    def run(command, argv):
        execute = command.execute  # this command's only: one it calls keeps CommandError

        def execute_and_let_errors_through(*args, **options):
            from django.core.management.base import CommandError, SystemCheckError

            try:
                return execute(*args, **options)
            except SystemCheckError:
                raise  # Django prints the checks' own report
            except CommandError as error:
                if options.get("traceback"):
                    raise
                raise Failed(error) from error

        command.execute = execute_and_let_errors_through
        return run_from_argv(command, argv)

    run.lets_errors_through = True
    return run


def _after_colon(text):
    """ "Nothing was changed." as "dailypapers: nothing was changed.", as the CLI's other
    errors read; a name ("PostgreSQL", "SQLite") keeps its capitals."""
    word = text.split(" ", 1)[0]
    if word[:1].isupper() and word[1:].islower():
        return text[0].lower() + text[1:]
    return text


def _utility():
    from django.core.management import ManagementUtility, get_commands

    class Utility(ManagementUtility):
        def fetch_command(self, subcommand):
            """An unknown command is a usage error, said as every other error."""
            commands = get_commands()
            if subcommand not in commands:
                from difflib import get_close_matches

                close = get_close_matches(subcommand, commands)
                guess = f" (did you mean {close[0]}?)" if close else ""
                print(f"dailypapers: there is no command {subcommand!r}{guess}. "
                      "`dailypapers help` lists them.", file=sys.stderr)  # fmt: skip
                sys.exit(2)
            return super().fetch_command(subcommand)

    return Utility


def explain(error):
    """One or two sentences for an error the operator can mend; None for the others (a
    bug: its traceback is what a report needs)."""
    from django.db.utils import InterfaceError, OperationalError, ProgrammingError

    if isinstance(error, (OperationalError, ProgrammingError)) and _missing_table(error):
        return NOT_SET_UP.format(where=_database(), error=str(error).splitlines()[0])
    if isinstance(error, (OperationalError, InterfaceError)):
        return _database_error(error)
    if isinstance(error, OSError) and error.filename and error.errno in PATH_ERRORS:
        return _path_error(error)
    return None


def _database():
    """The database a command used, as its operator names it: the SQLite file (a data
    directory other than the one meant is the usual cause), or PostgreSQL's host and name."""
    from django.db import connection

    name = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":
        return str(name)
    return f"{name} on {connection.settings_dict.get('HOST') or 'localhost'}"


def _missing_table(error):
    """SQLite's "no such table", PostgreSQL's "relation ... does not exist"."""
    text = str(error)
    return "no such table" in text or ("relation" in text and "does not exist" in text)


def _database_error(error):
    from django.db import connection

    said = _database_says(" ".join(str(error).split()), connection)
    return None if said is None else "dailypapers: {}. {}".format(*said)


RESOLVE = re.compile(r"failed to resolve host '([^']*)'|could not translate host name \"([^\"]*)\"")


def _database_says(text, connection):
    """(the cause, the fix) of a database error, or None."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        where = settings["NAME"]
        folder = "the data directory (DAILYPAPERS_DATA_DIR)"
        if "readonly" in text or "read-only" in text:
            return f"cannot write the database {where}: it is read-only", (
                f"Make {folder} writable by this user."
            )
        if "disk is full" in text or "disk I/O" in text:
            return f"cannot write the database {where} ({text})", "Free some space on its disk."
        if "unable to open" in text:
            return f"cannot open the database {where}", f"Check {folder} and its permissions."
        return None
    where = f"{settings.get('HOST') or 'localhost'}:{settings.get('PORT') or 5432}"
    if match := RESOLVE.search(text):
        return f"cannot find the database host {match[1] or match[2]}", (
            "Check the host in DATABASE_URL."
        )
    if "password authentication failed" in text or "no password supplied" in text:
        return f"the database at {where} refused the password of user {settings.get('USER')}", (
            "Check the user and password in DATABASE_URL."
        )
    if match := re.search(r'role "([^"]*)" does not exist', text):
        return f"the database server at {where} has no user {match[1]}", (
            "Create it (createuser) or fix the user in DATABASE_URL."
        )
    if re.search(r'database "[^"]*" does not exist', text):
        return f"the database server at {where} has no database {settings.get('NAME')}", (
            "Create it (createdb) or fix its name in DATABASE_URL."
        )
    for state in ("shutting down", "starting up", "in recovery mode"):
        if f"the database system is {state}" in text:
            return f"the database at {where} is {state}", "Try again in a moment."
    if "Connection refused" in text:
        return f"cannot reach the database at {where}: connection refused", CHECK_URL
    if "timeout expired" in text or "timed out" in text:
        return f"cannot reach the database at {where}: it does not answer", CHECK_URL
    if connection.connection is None or not _usable(connection):
        reason = text.split(" failed: ")[-1].removeprefix("FATAL: ").strip()
        return f"the database at {where} is unavailable ({reason})", CHECK_URL
    return None  # an error on a working connection: a bug


def _usable(connection):
    try:
        return connection.is_usable()
    except Exception:  # noqa: BLE001
        return False


PATH_ERRORS = {
    errno.ENOENT: "no such file or directory",
    errno.ENOTDIR: "a part of the path is not a directory",
    errno.EACCES: "permission denied",
    errno.EPERM: "not permitted",
    errno.EROFS: "the file system is read-only",
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
}


def _path_error(error):
    from pathlib import Path

    path = Path(os.fsdecode(error.filename))
    data_dir = Path(os.environ.get("DAILYPAPERS_DATA_DIR", "dailypapers-data")).expanduser()
    data_dir = data_dir.absolute()
    reason = PATH_ERRORS[error.errno]
    if path == data_dir:
        cause = f"cannot create the data directory {data_dir}: {reason}"
    elif data_dir in path.parents:
        cause = f"cannot write {path} in the data directory: {reason}"
    else:
        return f"dailypapers: cannot use {path}: {reason}. Check the path and its permissions."
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"dailypapers: {cause}. Free some space on its disk."
    return (
        f"dailypapers: {cause}. Set DAILYPAPERS_DATA_DIR to a folder this user can create "
        "and write to."
    )


if __name__ == "__main__":
    main()
