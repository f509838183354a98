"""`dailypapers ...` says what to do, in a sentence, when the database was never migrated,
is out of reach, when the data directory cannot be written, or on Ctrl-C."""

import os
import signal
import socket
import subprocess
import sys

import pytest


def test_a_command_before_migrate_says_to_migrate(tmp_path):
    env = {**os.environ, "DAILYPAPERS_DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)  # the embedded default, in a fresh data directory
    done = subprocess.run(
        [sys.executable, "-m", "dailypapers", "search", "status"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "no such table" in done.stderr
    assert str(tmp_path / "dailypapers.sqlite3") in done.stderr  # which data directory
    assert "Run `dailypapers migrate` first" in done.stderr


# Errors an operator can mend: one or two sentences with the cause and the fix, no traceback.


def dailypapers(*args, data_dir, timeout=120, **env):
    environment = {**os.environ, "DAILYPAPERS_DATA_DIR": str(data_dir), **env}
    for name in ("DATABASE_URL", "DAILYPAPERS_TRACEBACK"):
        if name not in env:
            environment.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "dailypapers", *args],
        env=environment, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nobody listens there once the socket is closed


def says_in_a_sentence(done):
    assert done.returncode == 1, done
    assert "Traceback" not in done.stderr and "Error" not in done.stderr, done.stderr
    assert 1 <= len(done.stderr.strip().splitlines()) <= 2, done.stderr
    return done.stderr


@pytest.mark.parametrize("command", [["check", "--database", "default"], ["search", "status"],
                                     ["createsuperuser", "--noinput", "--username", "x"],
                                     ["crontask"], ["db_worker", "--no-reload"]])  # fmt: skip
def test_a_database_nobody_answers_at_is_named_with_the_fix(tmp_path, command):
    port = closed_port()
    url = f"postgres://dailypapers:secret@127.0.0.1:{port}/dailypapers"
    said = says_in_a_sentence(dailypapers(*command, data_dir=tmp_path, DATABASE_URL=url))
    assert f"cannot reach the database at 127.0.0.1:{port}: connection refused" in said
    assert "Is PostgreSQL running, and is DATABASE_URL right?" in said


def test_traceback_or_the_environment_variable_shows_the_traceback(tmp_path):
    url = f"postgres://dailypapers:secret@127.0.0.1:{closed_port()}/dailypapers"
    flag = dailypapers("search", "--traceback", "status", data_dir=tmp_path, DATABASE_URL=url)
    variable = dailypapers("search", "status", data_dir=tmp_path, DATABASE_URL=url,
                           DAILYPAPERS_TRACEBACK="1")  # fmt: skip
    for done in flag, variable:
        assert done.returncode == 1
        assert "Traceback" in done.stderr and "OperationalError" in done.stderr


def test_a_data_directory_that_cannot_be_created_is_named_with_the_fix():
    said = says_in_a_sentence(dailypapers("check", data_dir="/proc/dailypapers-data"))
    assert "cannot create the data directory /proc/dailypapers-data" in said
    assert "Set DAILYPAPERS_DATA_DIR to a folder this user can create and write to" in said


@pytest.fixture
def read_only_dir(tmp_path):
    """A folder this process cannot write: chmod 555, or, as root (whom chmod does not
    stop), a read-only tmpfs mounted there."""
    folder = tmp_path / "data"
    folder.mkdir()
    if os.geteuid() != 0:
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)
        return
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(folder)],
                          capture_output=True, text=True)  # fmt: skip
    if done.returncode:
        pytest.skip(f"root, and cannot mount a read-only tmpfs here: {done.stderr.strip()}")
    yield folder
    subprocess.run(["umount", "-l", str(folder)], check=False)


@pytest.mark.parametrize("secret_key", ["", "set"])
def test_a_read_only_data_directory_is_named_with_the_fix(read_only_dir, secret_key):
    # Without SECRET_KEY the key file is written first; with it, the static files' folder.
    done = dailypapers("check", data_dir=read_only_dir, SECRET_KEY=secret_key)
    said = says_in_a_sentence(done)
    written = read_only_dir / ("static" if secret_key else "secret_key")
    assert f"cannot write {written} in the data directory" in said
    assert "Set DAILYPAPERS_DATA_DIR to a folder this user can create and write to" in said


def interrupted(args, tmp_path, **env):
    """Runs `dailypapers *args` against an arXiv that takes the request and never answers,
    and presses Ctrl-C (SIGINT) once the request is in."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        silent.settimeout(120)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/oai"
        environment = {**os.environ, "DAILYPAPERS_DATA_DIR": str(tmp_path),
                       "DAILYPAPERS_ARXIV_OAI_URL": url, **env}  # fmt: skip
        environment.pop("DATABASE_URL", None)
        process = subprocess.Popen([sys.executable, "-m", "dailypapers", *args],
                                   env=environment, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)  # fmt: skip
        connection, _ = silent.accept()
        with connection:
            process.send_signal(signal.SIGINT)
            out, err = process.communicate(timeout=60)
    return process.returncode, err


def test_ctrl_c_says_interrupted_and_an_ingest_that_running_it_again_resumes(tmp_path):
    migrated = dailypapers("migrate", "-v0", data_dir=tmp_path)
    assert migrated.returncode == 0, migrated.stderr
    args = ["ingest", "oai", "--set", "cs:cs:CL", "--from", "2026-11-01", "--no-progress"]
    code, err = interrupted(args, tmp_path)
    assert code == 130
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert "Interrupted. What was written so far is kept" in err
    assert "run the same command again to resume" in err


@pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgres"),
                    reason="needs a PostgreSQL server to refuse a user and a database "
                    "(DATABASE_URL=postgres://...)")  # fmt: skip
def test_a_missing_database_or_user_on_a_working_server_is_named_with_the_fix(tmp_path):
    import dj_database_url

    server = dj_database_url.parse(os.environ["DATABASE_URL"])
    where = f"{server['HOST']}:{server['PORT']}"
    base = f"postgres://{server['USER']}:{server['PASSWORD']}@{where}"

    def check(url):
        done = dailypapers("check", "--database", "default", data_dir=tmp_path, DATABASE_URL=url)
        return says_in_a_sentence(done)

    said = check(f"{base}/no_such_database")
    assert f"the database server at {where} has no database no_such_database" in said
    assert "Create it (createdb) or fix its name in DATABASE_URL" in said
    said = check(f"postgres://nobody_here:x@{where}/x")
    assert f"the database server at {where} has no user nobody_here" in said


def test_a_reader_that_goes_away_ends_the_command_quietly(tmp_path):
    # `dailypapers help | head -1`: the pipe closes before the command has written it all.
    environment = {**os.environ, "DAILYPAPERS_DATA_DIR": str(tmp_path)}
    environment.pop("DATABASE_URL", None)
    read, write = os.pipe()
    os.close(read)
    with os.fdopen(write, "w") as closed_pipe:
        command = [sys.executable, "-m", "dailypapers", "help"]
        done = subprocess.run(command, env=environment, stdout=closed_pipe,
                              stderr=subprocess.PIPE, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 141, done.stderr
    assert done.stderr == ""


def test_each_search_action_says_what_it_does_and_a_limit_below_one_is_refused(tmp_path):
    helped = dailypapers("search", "status", "--help", data_dir=tmp_path)
    assert "Papers, indexed documents, vectors." in helped.stdout
    refused = dailypapers("search", "query", "llm", "--limit", "-1", data_dir=tmp_path)
    assert refused.returncode == 2
    assert "argument --limit: '-1' is not a whole number of at least 1" in refused.stderr


# One convention for every command: a bad argument value is argparse's usage error (the
# usage, "dailypapers COMMAND: error: ...", exit 2) before the database is touched; any
# other error reads "dailypapers: <sentence>" (exit 1), never "CommandError: ...".


@pytest.mark.parametrize("args, said", [
    (["feature", "train", "--until", "2026-13-01"],
     "feature train: error: argument --until: '2026-13-01' is not a date like 2026-11-20"),
    (["feature", "suggest", "--date", "yesterday"],
     "feature suggest: error: argument --date: 'yesterday' is not a date like 2026-11-20"),
    (["feature", "suggest", "--date", "2025-12-31", "--limit", "-1"],
     "feature suggest: error: argument --limit: '-1' is not a whole number of at least 1"),
    (["digest", "send", "--date", "30/12/2025"],
     "digest send: error: argument --date: '30/12/2025' is not a date like 2026-11-20"),
    (["thumbnails", "--limit", "0"],
     "thumbnails: error: argument --limit: '0' is not a whole number of at least 1"),
    (["serve", "--port", "99999"],
     "serve: error: argument --port: '99999' is not a port number (1 to 65535)"),
    (["serve", "--workers", "0"],
     "serve: error: argument --workers: '0' is not a whole number of at least 1"),
    (["mail", "serve", "--port", "-1"],
     "mail serve: error: argument --port: '-1' is not a port number (1 to 65535)"),
    (["ingest", "hf-daily", "--api", "http://127.0.0.1:9/", "--week", "2026-W99"],
     "ingest hf-daily: error: 2026 has no ISO week 99"),
    (["ingest", "hf-daily"],
     "ingest hf-daily: error: give a FILE_OR_DIR, or --api URL with --date, --week"),
    (["ingest", "rss", "--types", "new,bogus"],
     "ingest rss: error: argument --types: unknown announcement types: bogus"),
    (["ingest", "arxiv", "--since", "2026-01-03", "--until", "2026-01-01"],
     "ingest arxiv: error: --since 2026-01-03 is after --until 2026-01-01"),
])  # fmt: skip
def test_a_bad_argument_value_is_a_usage_error_in_every_command(tmp_path, args, said):
    done = dailypapers(*args, data_dir=tmp_path)  # never migrated: argparse stops first
    assert done.returncode == 2, done
    assert done.stderr.startswith(f"usage: dailypapers {args[0]}"), done.stderr
    assert f"\ndailypapers {said}" in done.stderr
    assert "Traceback" not in done.stderr and "CommandError" not in done.stderr


def test_a_commands_own_error_reads_as_every_other_error(tmp_path):
    missing = dailypapers("restore", str(tmp_path / "nothing.sqlite3"), data_dir=tmp_path)
    assert missing.returncode == 1
    assert missing.stderr == f"dailypapers: {tmp_path / 'nothing.sqlite3'} is not a file.\n"
    # A capitalised first word follows the colon in lower case, as the CLI's other errors.
    never = says_in_a_sentence(dailypapers("backup", data_dir=tmp_path))
    assert never.startswith(f"dailypapers: the database {tmp_path / 'dailypapers.sqlite3'} is")
    no_model = dailypapers("feature", "suggest", "--date", "2025-12-31", data_dir=tmp_path)
    assert no_model.returncode == 1
    assert no_model.stderr.startswith("dailypapers: no suggestion model yet"), no_model.stderr


def test_an_unknown_command_is_a_usage_error_with_a_guess(tmp_path):
    done = dailypapers("serch", "status", data_dir=tmp_path)
    assert done.returncode == 2
    assert done.stderr == (
        "dailypapers: there is no command 'serch' (did you mean search?). "
        "`dailypapers help` lists them.\n"
    )
