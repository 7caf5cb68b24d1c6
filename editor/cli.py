"""The ``seedwave`` command.

``seedwave [FILES...]`` starts the editor. Subcommands work without a display::

    seedwave info FILE...
    seedwave render PROJECT OUT [--format F --rate R --bits B --lufs L ...]
    seedwave convert IN OUT [--format F --rate R --bits B --channels C ...]
    seedwave apply EFFECT_OR_CHAIN IN OUT [--set name=value ...] [--device auto|cuda|cpu]
    seedwave effects
    seedwave batch EFFECT_OR_CHAIN INPUT... --out DIR [--workers N] [--ray ADDRESS] ...
    seedwave chains
    seedwave models [list | import FILE --model NAME | verify [FILES...]]

A user error prints one line, ``seedwave: error: <file>: <problem>``, and exits
with status 2 (1 for an unexpected failure). ``--debug`` shows tracebacks.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

from . import __version__

SUBCOMMANDS = ("info", "render", "convert", "apply", "effects", "demo", "models", "batch", "chains")
EXIT_USER_ERROR = 2


def _fail(message: str) -> int:
    print(f"seedwave: error: {message}", file=sys.stderr)
    return EXIT_USER_ERROR


def _fmt_db(v: float, unit: str) -> str:
    return f"-inf {unit}" if v == -math.inf else f"{v:.2f} {unit}"


# --------------------------------------------------------------------------- info


def cmd_info(args: argparse.Namespace) -> int:
    from .core.audio_io import import_audio
    from .core.errors import SeedwaveError
    from .core.loudness import LoudnessMeter, gain_to_db

    status = 0
    for name in args.files:
        try:
            imp = import_audio(name, allow_alias=True, allow_empty=True)
        except SeedwaveError as exc:
            print(f"seedwave: error: {exc}", file=sys.stderr)
            status = EXIT_USER_ERROR
            continue
        info = imp.info
        peak = max(s.peak() for s in imp.sequences)
        meter = LoudnessMeter(imp.sample_rate, info.channels)
        import numpy as np

        seqs = imp.sequences
        for pos in range(0, seqs[0].frames, 1 << 18):
            stop = min(seqs[0].frames, pos + (1 << 18))
            chunk = np.concatenate([s.read(pos, stop) for s in seqs], axis=0)
            meter.feed(chunk)
        lufs = meter.integrated()
        d = info.duration
        print(f"{info.path}")
        print(f"  duration:    {int(d // 3600):02d}:{int(d % 3600 // 60):02d}:{d % 60:06.3f} ({info.frames} frames)")
        print(f"  sample rate: {info.sample_rate} Hz")
        print(f"  channels:    {info.channels}")
        print(f"  format:      {info.format} / {info.subtype}")
        print(f"  peak:        {_fmt_db(gain_to_db(peak), 'dBFS')}")
        print(f"  loudness:    {_fmt_db(lufs, 'LUFS')} (integrated)")
        for w in imp.warnings:
            print(f"seedwave: warning: {w}", file=sys.stderr)
    return status


# --------------------------------------------------------------------------- render / convert


def _export_settings(args: argparse.Namespace, out: Path):
    from .engine.export import ExportSettings, format_for_path

    fmt = args.format or format_for_path(out)
    kw: dict = {"format": fmt}
    if args.rate:
        kw["sample_rate"] = args.rate
    if args.bits:
        kw["bits"] = args.bits if args.bits == "float" else int(args.bits)
    if getattr(args, "channels", None):
        kw["channels"] = args.channels
    if args.bitrate:
        kw["mp3_bitrate"] = args.bitrate
    if args.lufs is not None:
        kw["normalize"] = "lufs"
        kw["lufs"] = args.lufs
        kw["true_peak_db"] = args.true_peak
    elif args.peak is not None:
        kw["normalize"] = "peak"
        kw["peak_db"] = args.peak
    if args.no_dither:
        kw["dither"] = False
    tags = {}
    for t in args.tag or []:
        k, _, v = t.partition("=")
        tags[k.strip()] = v
    if tags:
        kw["tags"] = tags
    return ExportSettings(**kw)


def _source_bits(subtype: str, fmt: str) -> int | str | None:
    """The bit depth a conversion keeps by default: the source's, where the output format has it."""
    from .engine.export import FORMATS

    depths = FORMATS[fmt].depths
    if not depths:
        return None
    want: int | str | None = {"PCM_16": 16, "PCM_S8": 16, "PCM_U8": 16, "PCM_24": 24, "PCM_32": 32,
                              "FLOAT": "float", "DOUBLE": "float"}.get(subtype)
    if want not in depths:
        want = 24 if 24 in depths else None
    return want


def _progress_printer(quiet: bool):
    from .core.task import TaskContext, Throttle

    throttle = Throttle(0.5)
    tty = sys.stderr.isatty() and not quiet

    def show(fraction: float, message: str) -> None:
        if tty and throttle.ready():
            print(f"\r{message or 'Working'}: {fraction * 100:5.1f}%", end="", file=sys.stderr, flush=True)

    return TaskContext(show), tty


def cmd_render(args: argparse.Namespace) -> int:
    from .core.projectfile import load_project
    from .engine.export import export_mix, export_stems

    warnings: list[str] = []
    project = load_project(args.project, warnings)
    for w in warnings:  # e.g. damaged (NaN) audio replaced by silence
        print(f"seedwave: warning: {w}", file=sys.stderr)
    if project.has_inserts:
        from . import effects  # noqa: F401 - the effect layer runs the tracks' insert effects
    out = Path(args.out)
    settings = _export_settings(args, out if not args.stems else out / "x.wav")
    ctx, tty = _progress_printer(args.quiet)
    start = int(round(args.start * project.sample_rate)) if args.start is not None else 0
    stop = int(round(args.end * project.sample_rate)) if args.end is not None else None
    if args.stems:
        paths = export_stems(project, out, settings, start, stop, ctx)
        if tty:
            print(file=sys.stderr)
        for p in paths:
            print(p)
    else:
        report = export_mix(project, out, settings, start, stop, ctx)
        if tty:
            print(file=sys.stderr)
        print(report.summary())
    return 0


def cmd_convert(args: argparse.Namespace) -> int:
    from .core.audio_io import import_audio
    from .core.edits import add_track
    from .core.model import Clip, Project
    from .engine.export import export_mix

    imp = import_audio(args.input)
    for w in imp.warnings:
        print(f"seedwave: warning: {w}", file=sys.stderr)
    project = Project(sample_rate=imp.sample_rate, name=Path(args.input).stem)
    if len(imp.sequences) > 1:
        # Multichannel source: convert keeps each channel's level; with a stereo
        # output the channels are spread from left to right.
        n = len(imp.sequences)
        for i, (seq, name) in enumerate(zip(imp.sequences, imp.names, strict=True)):
            project = add_track(project, name, (Clip(seq, 0, name=name),))
            tid = project.tracks[-1].id
            from .core.edits import set_track

            project = set_track(project, tid, pan=-1.0 + 2.0 * i / max(1, n - 1))
    else:
        project = add_track(project, imp.names[0], (Clip(imp.sequences[0], 0, name=imp.names[0]),))
    out = Path(args.output)
    settings = _export_settings(args, out)
    from dataclasses import replace

    if "channels" not in vars(args) or not args.channels:
        settings = replace(settings, channels=1 if imp.info.channels == 1 else 2)
    if not args.bits:
        settings = replace(settings, bits=_source_bits(imp.info.subtype, settings.format))
    ctx, tty = _progress_printer(args.quiet)
    report = export_mix(project, out, settings, 0, None, ctx)
    if tty:
        print(file=sys.stderr)
    print(report.summary())
    return 0


# --------------------------------------------------------------------------- effects


def cmd_effects(args: argparse.Namespace) -> int:
    from .effects.registry import registry

    reg = registry()
    for cls in reg.classes():
        flags = []
        if cls.needs_model:
            flags.append("needs a model")
        if cls.uses_gpu:
            flags.append("GPU")
        print(f"{cls.id}: {cls.title} (v{cls.version}){' [' + ', '.join(flags) + ']' if flags else ''}")
        if cls.description:
            print(f"    {cls.description}")
        for p in cls.params:
            rng = ""
            if p.type in ("float", "int") and p.min is not None:
                rng = f" [{p.min:g}..{p.max:g}{' ' + p.unit if p.unit else ''}]"
            elif p.type == "choice":
                rng = f" [{'|'.join(p.choices)}]"
            print(f"    --set {p.name}=<{p.type}> default {p.default!r}{rng}  {p.help}")
    for name, err in reg.errors.items():
        print(f"seedwave: warning: effect plugin {name!r} failed to load: {err}", file=sys.stderr)
    return 0


def cmd_apply(args: argparse.Namespace) -> int:
    from .effects.apply_file import apply_to_file
    from .jobs.batch_cli import cmd_apply_chain, is_chain_arg

    if is_chain_arg(args.effect):
        return cmd_apply_chain(args)

    values: dict[str, str] = {}
    for item in args.set or []:
        if "=" not in item:
            return _fail(f"--set expects name=value, got {item!r}")
        k, _, v = item.partition("=")
        values[k.strip()] = v.strip()
    for opt in ("start", "end", "seconds", "low_hz", "high_hz"):
        v = getattr(args, opt)
        if v is not None:
            values[opt] = str(v)
    ctx, tty = _progress_printer(args.quiet)
    from .effects.apply_file import describe_output

    outputs, warnings = apply_to_file(args.effect, Path(args.input), Path(args.output), values, args.device, ctx,
                                      bits=args.bits)
    if tty:
        print(file=sys.stderr)
    for w in warnings:
        print(f"seedwave: warning: {w}", file=sys.stderr)
    for p in outputs:
        print(describe_output(p))
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    from .effects import model_cli

    if args.action == "import":
        ctx, tty = _progress_printer(args.quiet)
        status = model_cli.import_model(Path(args.file), args.model or "", ctx=ctx)
        if tty:
            print(file=sys.stderr)
        return status
    if args.action == "verify":
        return model_cli.verify_models(args.files)
    return model_cli.list_models()


def cmd_demo(args: argparse.Namespace) -> int:
    from .core.demo import demo_project
    from .core.projectfile import save_project

    out = Path(args.out)
    if out.suffix.lower() != ".seedwave":
        out = out.with_name(out.name + ".seedwave")
    project = demo_project()
    save_project(project, out)
    secs = project.end / project.sample_rate
    print(f"wrote {out}: the demo project, {len(project.tracks)} tracks, {secs:.1f} s")
    return 0


def cmd_batch(args: argparse.Namespace) -> int:
    from .jobs.batch_cli import cmd_batch as run

    return run(args)


def cmd_chains(args: argparse.Namespace) -> int:
    from .jobs.batch_cli import cmd_chains as run

    return run(args)


# --------------------------------------------------------------------------- GUI


def cmd_gui(files: list[str], debug: bool) -> int:
    try:
        from .qt.app import run_app
    except ImportError as exc:
        return _fail(f"the graphical editor cannot start: {exc}")
    return run_app(files, debug=debug)


# --------------------------------------------------------------------------- parser


def _add_export_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=["wav", "flac", "ogg", "opus", "mp3", "aiff"],
                   help="output format (default: from the file extension)")
    p.add_argument("--rate", type=int, help="output sample rate in Hz")
    p.add_argument("--bits", choices=["16", "24", "32", "float"], help="bit depth (WAV/FLAC/AIFF)")
    p.add_argument("--bitrate", type=int, help="MP3 bitrate in kbit/s")
    p.add_argument("--lufs", type=float, help="normalise to this integrated loudness (LUFS)")
    p.add_argument("--true-peak", type=float, default=-1.0, help="true-peak ceiling in dBTP (with --lufs)")
    p.add_argument("--peak", type=float, help="normalise to this sample peak in dBFS")
    p.add_argument("--no-dither", action="store_true", help="no TPDF dither when reducing bit depth")
    p.add_argument("--tag", action="append", metavar="KEY=VALUE", help="metadata tag (title, artist, album, ...)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress display")


def plugin_verbs() -> dict[str, tuple[str, str]]:
    """Sub-commands that plugins contribute ([[contributes.cli]]): verb -> (help, python_name)."""
    from .effects.plugins import plugins

    return {v.verb: (v.help, v.python_name) for m in plugins().manifests for v in m.cli if v.verb not in SUBCOMMANDS}


def _add_plugin_verbs(sub: argparse._SubParsersAction, run: str | None) -> None:
    """List every plugin verb; import only the one being run (it adds its arguments and ``func``)."""
    from .effects.plugins import import_object

    for verb, (text, python_name) in plugin_verbs().items():
        p = sub.add_parser(verb, help=text)
        if verb == run:
            import_object(python_name)(p)


def build_parser(run_plugin_verb: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="seedwave", description="Seedwave audio editor.")
    parser.add_argument("--version", action="version", version=f"seedwave {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command")

    p = sub.add_parser("info", help="print duration, rate, channels, format, peak and loudness")
    p.add_argument("files", nargs="+")

    p = sub.add_parser("render", help="render a project's mix to an audio file")
    p.add_argument("project")
    p.add_argument("out", help="output file (or folder with --stems)")
    p.add_argument("--start", type=float, help="start time in seconds")
    p.add_argument("--end", type=float, help="end time in seconds")
    p.add_argument("--stems", action="store_true", help="write each track to its own file in the OUT folder")
    _add_export_options(p)

    p = sub.add_parser("convert", help="convert an audio file to another format, rate or depth")
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("--channels", type=int, choices=[1, 2], help="output channels")
    _add_export_options(p)

    p = sub.add_parser("apply", help="apply an effect to an audio file")
    p.add_argument("effect")
    p.add_argument("input")
    p.add_argument("output", help="output file, or a folder for effects with several outputs (stems)")
    p.add_argument("--set", action="append", metavar="NAME=VALUE", help="effect parameter")
    p.add_argument("--device", choices=["auto", "cuda", "cpu"], default="auto")
    p.add_argument("--start", type=float, help="range start in seconds (effects that take one)")
    p.add_argument("--end", type=float, help="range end in seconds (effects that take one)")
    p.add_argument("--seconds", type=float, help="length in seconds (extend)")
    p.add_argument("--low-hz", type=float, help="lowest frequency of a spectral selection (spectral effects)")
    p.add_argument("--high-hz", type=float, help="highest frequency of a spectral selection (spectral effects)")
    p.add_argument("--bits", choices=["16", "24", "32", "float"],
                   help="output sample format (default: the input's, where the output format has it)")
    p.add_argument("--quiet", "-q", action="store_true")

    sub.add_parser("effects", help="list effects and their parameters")
    from .jobs.batch_cli import add_parsers as add_batch_parsers

    add_batch_parsers(sub)

    p = sub.add_parser("models", help="list, import (verified) and verify model files, e.g. on offline machines")
    msub = p.add_subparsers(dest="action")
    msub.add_parser("list", help="each model file: name, status, size, path")
    m = msub.add_parser("import", help="verify a model file by its full SHA-256, then install it")
    m.add_argument("file")
    m.add_argument("--model", help="the model it belongs to (e.g. htdemucs); a mismatch installs nothing")
    m.add_argument("--quiet", "-q", action="store_true")
    m = msub.add_parser("verify", help="re-hash installed model files (or check FILES against the catalogue)")
    m.add_argument("files", nargs="*")

    p = sub.add_parser("demo", help="write the demo project (four music tracks and noisy speech) to a file")
    p.add_argument("out", help="project file to write (.seedwave)")
    _add_plugin_verbs(sub, run_plugin_verb)
    return parser


def _subcommand_typo(files: list[str]) -> str | None:
    """An error for ``seedwave infoo x.wav``: a first word that is no file but
    looks like a misspelt subcommand (rather than opening the editor on it)."""
    import difflib

    if not files or os.path.exists(files[0]) or Path(files[0]).suffix:
        return None
    close = difflib.get_close_matches(files[0], SUBCOMMANDS, n=1, cutoff=0.6)
    if not close:
        return None
    return f"{files[0]}: no such command or file; did you mean 'seedwave {close[0]}'?"


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv or bool(os.environ.get("SEEDWAVE_DEBUG"))
    first = next((a for a in argv if not a.startswith("-")), None)
    verb = first if first not in SUBCOMMANDS and first in plugin_verbs() else None
    if first not in SUBCOMMANDS and verb is None and not any(a in ("-h", "--help", "--version") for a in argv):
        files = [a for a in argv if a != "--debug"]
        bad = [a for a in files if a.startswith("-")]
        if bad:
            return _fail(f"unknown option {bad[0]}")
        typo = _subcommand_typo(files)
        if typo:
            return _fail(typo)
        return cmd_gui(files, debug)
    args = build_parser(verb).parse_args(argv)
    handlers = {
        "info": cmd_info,
        "render": cmd_render,
        "convert": cmd_convert,
        "apply": cmd_apply,
        "effects": cmd_effects,
        "demo": cmd_demo,
        "models": cmd_models,
        "batch": cmd_batch,
        "chains": cmd_chains,
    }
    from .core.errors import Cancelled, SeedwaveError

    try:
        if verb is not None:
            return int(args.func(args) or 0)
        return handlers[args.command](args)
    except SeedwaveError as exc:
        if debug:
            raise
        return _fail(str(exc))
    except Cancelled:
        return _fail("cancelled")
    except KeyboardInterrupt:
        return _fail("interrupted")
    except Exception as exc:  # noqa: BLE001 - last resort: one line, not a traceback
        if debug:
            raise
        print(f"seedwave: error: unexpected {type(exc).__name__}: {exc} (run with --debug for details)",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
