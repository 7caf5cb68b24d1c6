"""``seedwave models``: list, import and verify model files without the GUI.

For people who pre-stage models on machines that are offline: copy the files
over, ``seedwave models import FILE --model NAME`` each one (it is hashed and
installed only if its full SHA-256 is the catalogue's), then ``seedwave models
verify`` re-hashes everything installed.

The catalogue is whatever the registered effects declare (``Effect.models``), so
this module knows no plugin by name. A model's name is its files' common name
before any " (…)" part: the four files of "htdemucs_ft (drums model, 1 of 4)" …
make the model "htdemucs_ft".
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from ..core.errors import SeedwaveError
from ..core.task import TaskContext
from .base import ModelSpec
from .models import ModelChecksumError, ModelManager


def model_name(spec: ModelSpec) -> str:
    """The model a file belongs to: "htdemucs_ft (drums model, 1 of 4)" -> "htdemucs_ft"."""
    return spec.name.split(" (")[0].strip()


def catalogue() -> list[ModelSpec]:
    """Every model file a registered effect declares, once each, by model then file name."""
    from .registry import registry

    out: dict[str, ModelSpec] = {}
    for cls in registry().classes():
        for spec in cls.models:
            out.setdefault(spec.filename, spec)
    return sorted(out.values(), key=lambda s: model_name(s).casefold())  # stable: a bag keeps its order


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n else "?"


def list_models(manager: ModelManager | None = None, out: TextIO | None = None) -> int:
    """One line per file: model, status, size, path."""
    manager = manager or ModelManager()
    out = out or sys.stdout
    specs = catalogue()
    if not specs:
        print("no effect declares a model file", file=out)
        return 0
    rows = []
    for spec in specs:
        status = manager.status(spec)
        path = manager.locate(spec) if status == "installed" else manager.path_for(spec)
        size = path.stat().st_size if path is not None and path.is_file() else spec.size
        rows.append((spec.name, status, _size(size), str(path)))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    print(f"{'MODEL':<{widths[0]}}  {'STATUS':<{widths[1]}}  {'SIZE':>{widths[2]}}  PATH", file=out)
    for r in rows:
        print(f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:>{widths[2]}}  {r[3]}", file=out)
    print(f"model folder: {manager.folder}", file=out)
    return 0


def import_model(src: Path, name: str = "", manager: ModelManager | None = None,
                 ctx: TaskContext | None = None, out: TextIO | None = None) -> int:
    """Verify ``src`` against the files of model ``name`` (or of any model) and install it.

    A mismatch raises :class:`ModelChecksumError` (one line) and changes nothing.
    """
    manager = manager or ModelManager()
    out = out or sys.stdout
    specs = catalogue()
    if name:
        known = sorted({model_name(s) for s in specs})
        chosen = [s for s in specs if model_name(s) == name or s.filename == name]
        if not chosen:
            raise SeedwaveError(f"no model named {name!r} (known: {', '.join(known) or 'none'})")
        specs = chosen
    spec = manager.import_file(Path(src), specs, ctx, model_name=name)
    print(f"installed {src} as {spec.name}: {manager.path_for(spec)}", file=out)
    return 0


def verify_models(files: list[str] | None = None, manager: ModelManager | None = None,
                  out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Hash every installed model file again (or the given ``files`` against the
    catalogue). Exit status 2 if any is damaged or unknown."""
    from .models import sha256_file

    manager = manager or ModelManager()
    out = out or sys.stdout
    err = err or sys.stderr
    specs = catalogue()
    bad = 0
    if files:
        by_hash = {s.sha256.lower(): s for s in specs}
        for f in files:
            p = Path(f)
            if not p.is_file():
                print(f"seedwave: error: {p}: no such file", file=err)
                bad += 1
                continue
            digest = sha256_file(p)
            spec = by_hash.get(digest)
            if spec is None:
                print(f"seedwave: error: {p}: is not a model file Seedwave knows (SHA-256 {digest[:12]}…)",
                      file=err)
                bad += 1
            else:
                print(f"{p}: ok, {spec.name} ({spec.filename})", file=out)
        return 2 if bad else 0
    checked = 0
    for spec in specs:
        status = manager.status(spec, check=True)
        if status == "not installed":
            continue
        checked += 1
        if status == "installed":
            print(f"{spec.name}: ok ({manager.locate(spec)})", file=out)
        else:
            bad += 1
            what = ("has no full SHA-256 in the catalogue" if status == "no checksum"
                    else "is damaged (its SHA-256 does not match); it will not be loaded: import or download "
                         "it again")
            print(f"seedwave: error: {manager.path_for(spec)}: {what}", file=err)
    if not checked:
        print("no model files are installed", file=out)
    return 2 if bad else 0


__all__ = ["ModelChecksumError", "catalogue", "import_model", "list_models", "model_name", "verify_models"]
