"""``python -m bench.run``: real help, and docs/ written only when asked."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _docs_state() -> dict[str, int]:
    files = [ROOT / "docs" / "BENCHMARKS.md", *sorted((ROOT / "docs" / "benchmarks").glob("*.md"))]
    return {str(p): p.stat().st_mtime_ns for p in files if p.exists()}


def test_help_runs_nothing_and_writes_nothing():
    before = _docs_state()
    r = subprocess.run([sys.executable, "-m", "bench.run", "--help"], cwd=ROOT, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0
    assert "--write-docs" in r.stdout and "render" in r.stdout
    assert "==" not in r.stdout  # no benchmark started
    assert _docs_state() == before


def test_unknown_benchmark_is_one_clear_error():
    r = subprocess.run([sys.executable, "-m", "bench.run", "no-such-bench"], cwd=ROOT, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 2
    assert "no benchmark named no-such-bench" in r.stderr


def test_every_benchmark_module_answers_help_without_running():
    from bench.run import available

    for name in available():
        r = subprocess.run([sys.executable, "-m", f"bench.{name}", "--help"], cwd=ROOT, capture_output=True,
                           text=True, timeout=120)
        assert r.returncode == 0, f"bench.{name} --help: {r.stderr[-500:]}"
        assert "usage:" in r.stdout, f"bench.{name} --help printed no usage"
