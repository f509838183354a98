"""The WSGI application loads every view as the server process starts."""

import subprocess
import sys


def test_the_views_are_imported_with_the_application(tmp_path):
    code = (
        "import sys, dailypapers.wsgi; "
        "print('dailypapers.web.views' in sys.modules, 'sklearn' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={"DAILYPAPERS_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert out.split() == ["True", "True"]
