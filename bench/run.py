"""Run benchmarks and rebuild docs/BENCHMARKS.md.

    python -m bench.run --help                # what there is
    python -m bench.run                       # every benchmark, printing its tables
    python -m bench.run io render --write-docs  # some of them, and update docs/
    python -m bench.run --collect             # only rebuild BENCHMARKS.md from docs/benchmarks/
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path

from .common import NO_DOCS_ENV, ROOT, SECTIONS, machine

ORDER = ["io", "render", "gui", "playback", "denoise", "separation", "fill", "classic", "batch", "startup"]


def collect() -> Path:
    parts = [
        "# Seedwave benchmarks",
        "",
        "Run with `python -m bench.run [names]` (see bench/). Each section states when and where it was "
        f"measured. Last collected on: {machine()}.",
        "",
    ]
    names = [n for n in ORDER if (SECTIONS / f"{n}.md").exists()]
    names += sorted(p.stem for p in SECTIONS.glob("*.md") if p.stem not in ORDER)
    for n in names:
        parts.append((SECTIONS / f"{n}.md").read_text().rstrip())
        parts.append("")
    out = ROOT / "docs" / "BENCHMARKS.md"
    out.write_text("\n".join(parts))
    return out


def available() -> list[str]:
    """Benchmark names: every bench/<name>.py except the helpers."""
    return [p.stem for p in sorted(Path(__file__).parent.glob("*.py"))
            if p.stem not in ("__init__", "common", "run") and not p.stem.startswith("_")]


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m bench.run",
        description="Run Seedwave's speed and quality benchmarks. Each prints a Markdown table with the "
        "machine and the date. Results are written to docs/ only with --write-docs.",
        epilog="Benchmarks: " + ", ".join(available()) + ". Each is also a module of its own: "
        "python -m bench.NAME --help shows its options (run that way, it writes its docs section).",
    )
    ap.add_argument("names", nargs="*", metavar="NAME", help="benchmarks to run (default: all of them)")
    ap.add_argument("--write-docs", action="store_true",
                    help="write each section to docs/benchmarks/NAME.md and rebuild docs/BENCHMARKS.md")
    ap.add_argument("--collect", action="store_true",
                    help="run nothing; rebuild docs/BENCHMARKS.md from docs/benchmarks/")
    ap.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = ap.parse_args(argv)
    if args.list:
        print("\n".join(available()))
        return 0
    if args.collect:
        print(f"wrote {collect()}")
        return 0
    unknown = [n for n in args.names if n not in available()]
    if unknown:
        ap.error(f"no benchmark named {', '.join(unknown)} (see --list)")
    if not args.write_docs:
        os.environ[NO_DOCS_ENV] = "1"
    for n in args.names or available():
        mod = importlib.import_module(f"bench.{n}")
        print(f"== {n}", flush=True)
        mod.main([])
    if args.write_docs:
        print(f"wrote {collect()}")
    else:
        print("docs not written (pass --write-docs to update docs/)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
