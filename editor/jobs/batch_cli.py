"""The command-line side of chains and batch: ``seedwave batch``, ``seedwave chains``
and ``seedwave apply CHAIN.swchain IN OUT``.

Kept out of :mod:`editor.cli` so that module stays a small dispatcher; it calls
:func:`add_parsers` and the ``cmd_*`` functions here.
"""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from ..core.errors import SeedwaveError

if TYPE_CHECKING:
    from ..effects.chainfile import ChainSpec
    from .batch import BatchProgress

# The parser is built at every start, so this module imports the chain and batch
# machinery only when a command runs.
FORMAT_CHOICES = ("wav", "flac", "ogg", "opus", "mp3", "aiff")


def parse_sets(items: list[str] | None) -> dict[str, str]:
    values: dict[str, str] = {}
    for item in items or []:
        if "=" not in item:
            raise SeedwaveError(f"--set expects name=value, got {item!r}")
        k, _, v = item.partition("=")
        values[k.strip()] = v.strip()
    return values


def is_chain_arg(arg: str) -> bool:
    """Whether ``seedwave apply ARG`` names a chain (a file, or a saved chain that is no effect id)."""
    from ..effects.chainfile import looks_like_chain_file, saved_chain_path

    if looks_like_chain_file(arg):
        return True
    from ..effects.registry import registry

    return arg not in registry().ids() and saved_chain_path(arg).is_file()


def describe(spec: ChainSpec) -> str:
    parts = []
    for s in spec.chain.steps:
        params = ", ".join(f"{k}={v}" for k, v in s.params)
        flags = (" [bypassed]" if s.bypass else "") + (f" [wet {s.wet:g}]" if s.wet != 1.0 else "")
        parts.append(f"{s.effect_id}({params}){flags}")
    text = " → ".join(parts) or "(no steps)"
    out = spec.output.to_dict()
    if out:
        text += "  ⇒ " + ", ".join(f"{k} {v}" for k, v in out.items())
    return text


# --------------------------------------------------------------------------- chains / apply


def cmd_chains(args: argparse.Namespace) -> int:
    from ..effects.chainfile import chains_dir, dumps, find_chain, list_saved_chains, save_user_chain, saved_chain_path

    action = getattr(args, "action", "list") or "list"
    if action != "list":
        if not args.target:
            raise SeedwaveError(f"seedwave chains {action} needs a chain's name" +
                                (" or file" if action == "save" else ""))
        if action == "save":
            spec, _ = find_chain(args.target)
            print(save_user_chain(spec, args.name or spec.name))
        elif action == "show":
            spec, path = find_chain(args.target)
            print(f"# {path}" if path else f"# the effect {args.target!r} as a chain")
            print(dumps(spec), end="")
        else:
            path = saved_chain_path(args.target)
            if not path.is_file():
                raise SeedwaveError(f"no saved chain named {args.target!r}", chains_dir())
            path.unlink()
            print(f"deleted {path}")
        return 0
    folder = chains_dir()
    found = list_saved_chains(folder)
    if not found:
        print(f"no saved chains in {folder}")
        return 0
    print(f"saved chains in {folder}:")
    for path, spec in found:
        if isinstance(spec, SeedwaveError):
            print(f"seedwave: warning: {spec}", file=sys.stderr)
            continue
        print(f"  {path.stem}: {describe(spec)}")
        if spec.description:
            print(f"      {spec.description}")
    return 0


def cmd_apply_chain(args: argparse.Namespace) -> int:
    from ..core.task import TaskContext, Throttle
    from ..effects.chainfile import find_chain
    from ..effects.chainrun import apply_chain_to_file

    ranged = [f"--{o}" for o in ("start", "end", "seconds") if getattr(args, o, None) is not None]
    if ranged:
        raise SeedwaveError(f"{', '.join(ranged)} apply to single effects; a chain processes the whole file")
    spec, _path = find_chain(args.effect, parse_sets(args.set))
    throttle = Throttle(0.5)
    tty = sys.stderr.isatty() and not args.quiet

    def show(fraction: float, message: str) -> None:
        if tty and throttle.ready():
            print(f"\r{message or 'Working'}: {fraction * 100:5.1f}%   ", end="", file=sys.stderr, flush=True)

    result = apply_chain_to_file(spec, Path(args.input), Path(args.output), args.device, TaskContext(show))
    if tty:
        print(file=sys.stderr)
    for w in result.warnings:
        print(f"seedwave: warning: {w}", file=sys.stderr)
    print(result.output)
    return 0


# --------------------------------------------------------------------------- batch


class ProgressBar:
    """One status line on stderr: files done and failed, throughput, ETA. On a
    terminal it is redrawn in place; in a log (``tty=False``) a line is written
    every ``log_interval`` seconds."""

    def __init__(self, stream=sys.stderr, width: int = 24, tty: bool = True,  # noqa: ANN001
                 log_interval: float = 30.0) -> None:
        self.stream = stream
        self.width = width
        self.tty = tty
        self.interval = 0.2 if tty else log_interval
        self._last = 0.0
        self._shown = False

    def line(self, p: BatchProgress) -> str:
        fill = int(round(p.fraction * self.width))
        return f"[{'#' * fill}{'.' * (self.width - fill)}] {p.text()}"

    def __call__(self, p: BatchProgress) -> None:
        import time

        now = time.monotonic()
        if self._last == 0.0 and not self.tty:
            self._last = now  # a log gets its first line after one interval
            return
        if now - self._last < self.interval:
            return
        self._last = now
        if self.tty:
            print(f"\r{self.line(p)}\x1b[K", end="", file=self.stream, flush=True)
            self._shown = True
        else:
            print(self.line(p), file=self.stream, flush=True)

    def close(self) -> None:
        if self._shown:
            print(file=self.stream)
            self._shown = False


def cmd_batch(args: argparse.Namespace) -> int:
    from ..effects.chainfile import find_chain
    from .batch import BatchRunner

    values = parse_sets(args.set)
    spec, _path = find_chain(args.chain, values)
    changes = {}
    if args.format:
        changes["format"] = args.format
    if args.rate:
        changes["sample_rate"] = args.rate
    if args.bits:
        changes["bits"] = args.bits if args.bits == "float" else int(args.bits)
    if changes:
        try:
            spec = spec.with_output(**changes)
        except ValueError as exc:
            raise SeedwaveError(str(exc)) from None
    if args.workers is not None and args.workers < 1:
        raise SeedwaveError("--workers must be at least 1")
    bar = None if args.quiet else ProgressBar(tty=sys.stderr.isatty())
    runner = BatchRunner(spec, args.inputs, args.out, workers=args.workers, ray_address=args.ray,
                         device=args.device, report_format=args.report, resume=not args.no_resume,
                         on_progress=bar, chunk_seconds=args.chunk_minutes * 60.0,
                         gpus_per_task=args.gpus_per_task, max_retries=args.max_retries)
    box: dict = {}

    def work() -> None:
        try:
            box["report"] = runner.run()
        except BaseException as exc:  # noqa: BLE001 - re-raised on the main thread
            box["error"] = exc

    t = threading.Thread(target=work, name="seedwave-batch")
    t.start()
    try:
        while t.is_alive():
            t.join(0.2)
    except KeyboardInterrupt:
        runner.cancel()
        if bar is not None:
            bar.close()
        print("seedwave: cancelling (finishing the report)...", file=sys.stderr)
        t.join()
    if bar is not None:
        bar.close()
    if "error" in box:
        raise box["error"]
    report = box["report"]
    print(report.summary())
    for r in report.failures:
        print(f"seedwave: error: {r.error or r.input}", file=sys.stderr)
    print(f"report: {report.report_path}")
    if report.cancelled:
        print("seedwave: error: cancelled; run the same command again to finish", file=sys.stderr)
        return 1
    return 0 if report.ok else 1


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("batch", help="run an effect or a chain over many files",
                       description="Run an effect or a chain over files and folders (recursively). "
                                   "Outputs keep their relative paths under --out; a report "
                                   "(seedwave-batch.json) lists every input. Running the same command "
                                   "again skips inputs that are already done.")
    p.add_argument("chain", metavar="EFFECT_OR_CHAIN", help="an effect id, a .swchain file or a saved chain's name")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="audio files or folders")
    p.add_argument("--out", "-o", required=True, metavar="DIR", help="output folder")
    p.add_argument("--set", action="append", metavar="NAME=VALUE",
                   help="parameter: NAME, EFFECT.NAME or STEP.NAME (step number from 1)")
    p.add_argument("--workers", "-j", type=int, help="local worker processes (default: the number of cores)")
    p.add_argument("--ray", metavar="ADDRESS", help="run on a Ray cluster (ray.init address, e.g. auto or host:6379)")
    p.add_argument("--format", choices=FORMAT_CHOICES, help="output format (default: the chain's, else the input's)")
    p.add_argument("--rate", type=int, help="output sample rate in Hz")
    p.add_argument("--bits", choices=["16", "24", "32", "float"], help="bit depth (WAV/FLAC/AIFF)")
    p.add_argument("--device", choices=["auto", "cuda", "cpu"], default="auto", help="where GPU effects run")
    p.add_argument("--report", choices=["json", "csv"], default="json", help="report file format")
    p.add_argument("--no-resume", action="store_true", help="process every input even if done before")
    p.add_argument("--chunk-minutes", type=float, default=10.0,
                   help="with --ray: files longer than this are split into chunk tasks")
    p.add_argument("--gpus-per-task", type=float, default=1.0,
                   help="with --ray: GPUs a task with a GPU effect asks for (0.5 lets two share one)")
    p.add_argument("--max-retries", type=int, default=3, help="with --ray: retries of a task whose node died")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")

    p = sub.add_parser("chains", help="list, show, save and delete saved effect chains",
                       description="Saved chains live in one folder (see docs/BATCH.md); each can be used by "
                                   "name wherever an effect id is accepted.")
    p.add_argument("action", nargs="?", choices=["list", "show", "save", "delete"], default="list")
    p.add_argument("target", nargs="?", metavar="NAME_OR_FILE",
                   help="show/delete: a saved chain's name; save: a .swchain file to add")
    p.add_argument("--name", help="save: the name to save it under (default: the file's)")
