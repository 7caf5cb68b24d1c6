"""Shared helpers for benchmarks.

Each benchmark is a module ``bench/<name>.py`` with a ``main(argv=None)`` that
measures, prints a Markdown section and writes it to ``docs/benchmarks/<name>.md``
via :func:`write_section`. ``python -m bench.run [names]`` runs them and rebuilds
``docs/BENCHMARKS.md`` from all sections, with the machine and the date.
Benchmarks are run on demand; they are never part of the test suite.
"""

from __future__ import annotations

import os
import platform
import resource
import shutil
import subprocess
import time
from contextlib import contextmanager
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = ROOT / "docs" / "benchmarks"
WORK = Path(os.environ.get("SEEDWAVE_BENCH_DIR", "/tmp/seedwave-bench"))


def workdir(name: str) -> Path:
    d = WORK / name
    d.mkdir(parents=True, exist_ok=True)
    return d


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, Python {platform.python_version()}"


def stamp() -> str:
    return f"_Measured {date.today().isoformat()} on {machine()}._"


#: Set by ``python -m bench.run`` without ``--write-docs``: print results, leave docs/ alone.
NO_DOCS_ENV = "SEEDWAVE_BENCH_NO_DOCS"


def write_section(name: str, markdown: str) -> Path:
    path = SECTIONS / f"{name}.md"
    print(markdown)
    if os.environ.get(NO_DOCS_ENV):
        return path
    SECTIONS.mkdir(parents=True, exist_ok=True)
    path.write_text(markdown.rstrip() + "\n")
    return path


@contextmanager
def timer(results: dict, key: str):
    t = time.perf_counter()
    yield
    results[key] = time.perf_counter() - t


def best_of(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def time_command(cmd: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def ensure_apt(*packages: str) -> None:
    """Install Debian packages a benchmark needs, if missing."""
    missing = [p for p in packages
               if subprocess.run(["dpkg", "-s", p], capture_output=True).returncode != 0]
    if not missing or not shutil.which("apt-get"):
        return
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run(sudo + ["apt-get", "update", "-qq"], check=False)
    subprocess.run(sudo + ["apt-get", "install", "-y", "-qq", *missing], check=True,
                   env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})


def table(headers: list[str], rows: list[list]) -> str:
    def fmt(v):
        if isinstance(v, float):
            return f"{v:.3g}" if abs(v) < 1000 else f"{v:.0f}"
        return str(v)

    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(fmt(v) for v in r) + " |" for r in rows]
    return "\n".join(out)
