"""`dailypapers ...` on a database that was never migrated says what to do."""

import os
import subprocess
import sys


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
