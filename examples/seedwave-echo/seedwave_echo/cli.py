"""``seedwave echo IN OUT [--delay-ms N]``: the echo on a file, from the command line."""

from __future__ import annotations

import argparse
from pathlib import Path

from editor.effects.apply_file import apply_to_file

from .effect import Echo


def add_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", help="audio file to read")
    p.add_argument("output", help="audio file to write")
    p.add_argument("--delay-ms", default="250", help="time between repeats (default 250)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    written, warnings = apply_to_file(Echo.id, Path(args.input), Path(args.output), {"delay_ms": args.delay_ms})
    for w in warnings:
        print(f"seedwave: warning: {w}")
    print(f"wrote {', '.join(str(p) for p in written)}")
    return 0
