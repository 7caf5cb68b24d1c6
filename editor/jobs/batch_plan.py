"""What a batch run will do: its inputs, their outputs, and what an earlier run already did.

Inputs are files or folders (read recursively). Each folder's audio files keep
their path relative to that folder under the output folder; a file named on its
own goes straight into it. Folder walks take only audio files (by extension),
skip hidden files and the output folder itself; a file named explicitly is
always tried, so a wrong one fails with the usual one-line reason.

Resume: every finished input is appended, as one JSON line, to a journal in the
output folder (:data:`JOURNAL_NAME`) as soon as it is done, so even a killed run
leaves a record. A later run skips an input whose journal entry says done, whose
size and modification time are unchanged, whose chain hash is the same and
whose output is still there with the size recorded. Outputs are written to a
temporary name and renamed, so an output that exists is complete.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..core.audio_io import AUDIO_EXTENSIONS
from ..effects.chainfile import OutputFormat
from ..effects.chainrun import output_extension

JOURNAL_NAME = ".seedwave-batch.jsonl"
REPORT_NAME = "seedwave-batch"  # + .json or .csv


@dataclass(frozen=True)
class BatchItem:
    """One input and where its output goes."""

    src: Path
    out: Path
    size: int = 0
    mtime_ns: int = 0
    duration: float = 0.0  # seconds (0 when the header cannot be read; the run then reports why)

    @property
    def key(self) -> str:
        return str(self.src)


@dataclass
class ItemResult:
    """What happened to one input (one entry of the report)."""

    input: str
    output: str
    status: str  # "done" | "failed" | "skipped" | "cancelled"
    error: str = ""
    seconds: float = 0.0
    audio_seconds: float = 0.0
    input_size: int = 0
    input_mtime_ns: int = 0
    output_size: int = 0
    chain_sha256: str = ""
    provenance: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    node: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ItemResult:
        names = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in d.items() if k in names})


def _stat(p: Path) -> tuple[int, int]:
    st = p.stat()
    return st.st_size, st.st_mtime_ns


def _duration(p: Path) -> float:
    import soundfile as sf

    try:
        info = sf.info(str(p))
        return info.frames / info.samplerate if info.samplerate else 0.0
    except Exception:  # noqa: BLE001 - unreadable headers fail later, with the reader's message
        return 0.0


def _inside(p: Path, folder: Path) -> bool:
    try:
        p.relative_to(folder)
        return True
    except ValueError:
        return False


def _walk(folder: Path, skip: Path) -> list[Path]:
    found: list[Path] = []
    for root, dirs, files in os.walk(folder):
        r = Path(root)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not _inside((r / d).resolve(), skip))
        for f in sorted(files):
            if not f.startswith(".") and Path(f).suffix.lower() in AUDIO_EXTENSIONS:
                found.append(r / f)
    return found


def plan_items(inputs: list[str | Path], out_dir: str | Path,
               output: OutputFormat) -> tuple[list[BatchItem], list[ItemResult]]:
    """The inputs to process, and those that fail before any work (missing,
    colliding outputs, output over the input)."""
    out_root = Path(out_dir).resolve()
    items: list[BatchItem] = []
    failed: list[ItemResult] = []
    taken: dict[Path, Path] = {}

    def add(src: Path, rel: Path) -> None:
        src = src.resolve()
        out = out_root / rel.with_suffix(output_extension(src, output))
        if out in taken:
            if taken[out] != src:
                failed.append(ItemResult(str(src), str(out), "failed",
                                         error=f"{src}: its output name {out.name!r} is taken by {taken[out]}"))
            return
        if out == src:
            failed.append(ItemResult(str(src), str(out), "failed",
                                     error=f"{src}: the output would overwrite the input; choose another --out"))
            return
        taken[out] = src
        try:
            size, mtime = _stat(src)
        except OSError as exc:
            failed.append(ItemResult(str(src), str(out), "failed", error=f"{src}: {exc.strerror or exc}"))
            return
        items.append(BatchItem(src, out, size, mtime, _duration(src)))

    for raw in inputs:
        p = Path(raw)
        if p.is_dir():
            for f in _walk(p, out_root):
                add(f, f.relative_to(p))
        elif p.exists():
            add(p, Path(p.name))
        else:
            failed.append(ItemResult(str(p), "", "failed", error=f"{p}: no such file or folder"))
    return items, failed


# --------------------------------------------------------------------------- journal (resume)


def journal_path(out_dir: Path) -> Path:
    return Path(out_dir) / JOURNAL_NAME


def read_journal(out_dir: Path) -> dict[str, ItemResult]:
    """The last recorded outcome of each input (a torn last line is ignored)."""
    path = journal_path(out_dir)
    entries: dict[str, ItemResult] = {}
    if not path.is_file():
        return entries
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            with contextlib.suppress(ValueError, TypeError):
                r = ItemResult.from_dict(json.loads(line))
                entries[r.input] = r
    return entries


class Journal:
    """Appends each finished input to the journal, flushed to disk at once."""

    def __init__(self, out_dir: Path) -> None:
        self.path = journal_path(out_dir)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()

    def add(self, r: ItemResult) -> None:
        self._fh.write(json.dumps(r.to_dict(), ensure_ascii=False) + "\n")
        self._fh.flush()
        with contextlib.suppress(OSError):
            os.fsync(self._fh.fileno())

    def close(self) -> None:
        self._fh.close()


def is_done(item: BatchItem, previous: ItemResult | None, chain_sha256: str) -> bool:
    """Whether an earlier run already made this input's output with this chain."""
    if previous is None or previous.status not in ("done", "skipped") or previous.chain_sha256 != chain_sha256:
        return False
    if previous.input_size != item.size or previous.input_mtime_ns != item.mtime_ns:
        return False
    if previous.output != str(item.out):
        return False
    try:
        return item.out.stat().st_size == previous.output_size
    except OSError:
        return False
