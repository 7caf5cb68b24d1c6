"""Crash recovery: a small journal of the open project, written after changes.

The journal (``recovery.json`` in this process's cache session folder) holds the
project model with each block described by where its samples already live: a
cache file, a source file alias, or a saved project file. Writing it costs a few
milliseconds whatever the length of the audio, so it can run every few seconds.
Cache files are deleted only by a live process when their blocks die, so after
a crash or ``kill -9`` they are still there. At the next start,
:func:`find_recoverable` lists sessions whose process is gone, and
:func:`recover` rebuilds the project from one.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .blocks import Block, F32Backing, MappedFile, PcmAliasBacking, SourceFile, compute_summaries
from .errors import ProjectFileError
from .model import Project
from .serialize import project_from_dict, project_to_dict
from .store import BlockStore, cache_root

JOURNAL = "recovery.json"


def write_journal(store: BlockStore, project: Project, path: Path | None, modified: bool) -> Path:
    """Atomically write the journal for ``project`` into the store's folder."""
    blocks: dict[str, dict[str, Any]] = {}

    def on_block(b: Block) -> None:
        if b.uid not in blocks:
            d = b.backing.describe()
            d.update(channels=b.channels, frames=b.frames)
            blocks[b.uid] = d

    doc = {
        "saved_at": time.time(),
        "pid": os.getpid(),
        "path": str(path) if path else None,
        "modified": modified,
        "project": project_to_dict(project, on_block),
        "blocks": blocks,
    }
    target = store.folder / JOURNAL
    tmp = target.with_name(JOURNAL + ".tmp")
    try:
        with open(tmp, "w") as fh:
            json.dump(doc, fh, separators=(",", ":"))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        what = "the disk is full" if exc.errno == 28 else (exc.strerror or str(exc))
        raise ProjectFileError(f"cannot write the recovery file ({what}); the previous one is kept",
                               target) from None
    return target


def clear_journal(store: BlockStore) -> None:
    (store.folder / JOURNAL).unlink(missing_ok=True)


@dataclass
class Recoverable:
    folder: Path
    saved_at: float
    path: str | None
    name: str
    tracks: int


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def find_recoverable(root: Path | None = None) -> list[Recoverable]:
    """Sessions of processes that ended without closing cleanly, newest first."""
    base = Path(root) if root is not None else cache_root() / "sessions"
    out = []
    if not base.is_dir():
        return out
    for folder in base.iterdir():
        journal = folder / JOURNAL
        owner = folder / "owner"
        try:
            pid = int(owner.read_text().strip())
        except (OSError, ValueError):
            continue
        if pid == os.getpid() or _alive(pid) or not journal.is_file():
            continue
        try:
            doc = json.loads(journal.read_text())
        except (OSError, ValueError):
            continue
        if not doc.get("modified", True):
            continue
        proj = doc.get("project", {})
        out.append(Recoverable(folder, float(doc.get("saved_at", 0)), doc.get("path"),
                               proj.get("name", "Untitled"), len(proj.get("tracks", []))))
    out.sort(key=lambda r: r.saved_at, reverse=True)
    return out


def recover(item: Recoverable, store: BlockStore) -> tuple[Project, str | None]:
    """Rebuild the project of a crashed session. Its cache files move into
    ``store``'s folder (they are then deleted once no longer used) and the old
    session folder is removed."""
    doc = json.loads((item.folder / JOURNAL).read_text())
    described = doc["blocks"]
    moved: dict[str, str] = {}
    for d in described.values():
        if d["kind"] == "f32" and Path(d["path"]).parent == item.folder and d["path"] not in moved:
            src = Path(d["path"])
            dest = store.folder / src.name
            if src.is_file():
                os.replace(src, dest)
            moved[d["path"]] = str(dest)
    for d in described.values():
        if d["kind"] == "f32" and d["path"] in moved:
            d["path"] = moved[d["path"]]
    files: dict[str, MappedFile] = {}
    made: dict[str, Block] = {}

    def resolve(uid: str) -> Block:
        if uid in made:
            return made[uid]
        d = described[uid]
        ch, frames = int(d["channels"]), int(d["frames"])
        if d["kind"] == "f32":
            path = d["path"]
            if path not in files:
                if not Path(path).is_file():
                    raise ProjectFileError("audio needed for recovery is missing", path)
                files[path] = MappedFile(Path(path), temporary=Path(path).suffix == ".f32")
            backing = F32Backing(files[path], int(d["offset"]), ch, frames)
        elif d["kind"] == "alias":
            backing = PcmAliasBacking(SourceFile.get(Path(d["path"])), int(d["frame_offset"]))
        else:
            raise ProjectFileError(f"unknown block kind {d['kind']!r} in recovery file", item.folder)
        data = backing.read(0, frames)
        block = Block(ch, frames, backing, compute_summaries(data), uid=uid)
        made[uid] = block
        return block

    project = project_from_dict(doc["project"], resolve)
    discard(item)
    return project, doc.get("path")


def discard(item: Recoverable) -> None:
    """Delete a crashed session's folder (after recovery or when declined)."""
    shutil.rmtree(item.folder, ignore_errors=True)


def sweep_stale(root: Path | None = None) -> int:
    """Remove folders of dead sessions that have nothing to recover."""
    base = Path(root) if root is not None else cache_root() / "sessions"
    n = 0
    if not base.is_dir():
        return 0
    for folder in base.iterdir():
        try:
            pid = int((folder / "owner").read_text().strip())
        except (OSError, ValueError):
            continue
        if pid != os.getpid() and not _alive(pid) and not (folder / JOURNAL).is_file():
            shutil.rmtree(folder, ignore_errors=True)
            n += 1
    return n
