"""Run benchmarks and rebuild docs/BENCHMARKS.md.

    python -m bench.run            # every benchmark
    python -m bench.run io render  # some of them
    python -m bench.run --collect  # only rebuild BENCHMARKS.md from docs/benchmarks/
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from .common import ROOT, SECTIONS, machine

ORDER = ["io", "render", "gui", "playback", "denoise", "separation", "fill", "startup"]


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


def main(argv: list[str]) -> int:
    if "--collect" not in argv:
        names = [a for a in argv if not a.startswith("-")] or [
            p.stem for p in sorted(Path(__file__).parent.glob("*.py"))
            if p.stem not in ("__init__", "common", "run") and not p.stem.startswith("_")]
        for n in names:
            mod = importlib.import_module(f"bench.{n}")
            print(f"== {n}", flush=True)
            mod.main([])
    print(f"wrote {collect()}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
