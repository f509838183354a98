"""The WSGI application loads every view, and opens search, as the server process starts."""

import subprocess
import sys

ENV = {"PATH": "/usr/bin:/bin"}


def _python(code, data_dir):
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**ENV, "DAILYPAPERS_DATA_DIR": str(data_dir)},
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip


def test_the_views_are_imported_with_the_application(tmp_path):
    code = (
        "import sys, dailypapers.wsgi; "
        "print('dailypapers.web.views' in sys.modules, 'sklearn' in sys.modules)"
    )
    done = _python(code, tmp_path)
    assert done.stdout.split() == ["True", "True"]
    # No tables yet: the server still starts, and says why search is not open.
    assert "search not opened at start" in done.stderr


def test_the_search_engines_are_open_before_the_first_request(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "dailypapers", "migrate", "-v0"],
        env={**ENV, "DAILYPAPERS_DATA_DIR": str(tmp_path)}, check=True, timeout=120,
    )  # fmt: skip
    code = (
        "import gc, dailypapers.wsgi; from dailypapers.search import embedders, related, "
        "vectors; print(len(embedders._cache), len(vectors._stores), "
        "related._df['counts'] is not None or related._df['at'] > 0, "
        "gc.get_freeze_count() > 100_000)"
    )
    done = _python(code, tmp_path)
    # Search and related papers' sample are ready, and what the start loaded is kept out
    # of the collector's full passes.
    assert done.stdout.split() == ["1", "1", "True", "True"] and "not opened" not in done.stderr
