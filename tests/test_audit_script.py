"""scripts/audit reads pip-audit's report: a known vulnerability fails the run; a report
where nothing could be audited passes with a loud warning (tested with a stand-in pip-audit
that prints a recorded report: no network in tests)."""

import json
import subprocess
import sys

from tests.conftest import REPO


def audit(tmp_path, dependencies):
    fake = tmp_path / "bin" / "pip-audit"
    fake.parent.mkdir()
    report = json.dumps({"dependencies": dependencies, "fixes": []})
    fake.write_text(f"#!{sys.executable}\nprint({report!r})\n")
    fake.chmod(0o755)
    return subprocess.run(
        [sys.executable, str(REPO / "scripts" / "audit"), "--venv", str(tmp_path)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_a_known_vulnerability_fails(tmp_path):
    done = audit(tmp_path, [
        {"name": "django", "version": "6.1.0", "vulns": [
            {"id": "PYSEC-2026-1", "fix_versions": ["6.1.1"], "aliases": []}]},
        {"name": "lxml", "version": "6.0.0", "vulns": []},
    ])  # fmt: skip
    assert done.returncode == 1
    assert "django 6.1.0: PYSEC-2026-1 (fixed in 6.1.1)" in done.stdout
    assert "2 of 2 dependencies audited, 1 with known vulnerabilities" in done.stdout


def test_a_clean_report_passes(tmp_path):
    done = audit(tmp_path, [{"name": "lxml", "version": "6.0.0", "vulns": []}])
    assert done.returncode == 0 and "1 of 1 dependencies audited, 0 with" in done.stdout
    assert "WARNING" not in done.stderr


def test_nothing_audited_is_said_loudly(tmp_path):
    skipped = {"name": "lxml", "version": "6.0.0", "skip_reason": "Dependency not found"}
    done = audit(tmp_path, [skipped])
    assert done.returncode == 0
    assert "nothing was audited" in done.stderr
