"""The ``.seedwave`` project file: one file holding the model and all its audio.

Layout::

    header (64 bytes)  b"SEEDWAVE", format version (u32), flags (u32),
                       index offset (u64), index length (u64), zero padding
    payloads           each block's planar float32 samples, then its summaries
    index              UTF-8 JSON: the project model and where each block lies

Samples are stored raw, so opening a project maps the file and reads nothing
until a view or the player needs it. Saving writes a temporary file beside the
target, fsyncs it and renames it over the old one, so a crash or a full disk
during a save leaves the previous version intact. A file whose format version is
newer than this program's is refused with a message saying so.
"""

from __future__ import annotations

import contextlib
import json
import os
import struct
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from .blocks import Block, F32Backing, MappedFile, SummaryLevel
from .errors import ProjectFileError
from .model import Project
from .serialize import project_from_dict, project_to_dict
from .task import TaskContext

MAGIC = b"SEEDWAVE"
FORMAT_VERSION = 1
HEADER = struct.Struct("<8sIIQQ")
HEADER_SIZE = 64
EXTENSION = ".seedwave"


def save_project(project: Project, path: str | Path, ctx: TaskContext | None = None) -> None:
    """Write ``project`` to ``path`` atomically.

    After a successful save, the saved blocks read from the new file, so the
    project no longer depends on source files or the cache.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    blocks: dict[str, Block] = {}
    model = project_to_dict(project, lambda b: blocks.setdefault(b.uid, b))
    total = sum(b.nbytes for b in blocks.values()) or 1
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    index: dict[str, Any] = {}
    try:
        # mkstemp makes a private (0600) file; give the project the mode a normal
        # file would get, or keep the mode of the file it replaces.
        os.fchmod(fd, _mode_for(path))
        with os.fdopen(fd, "wb") as fh:
            fh.write(b"\0" * HEADER_SIZE)
            offset = HEADER_SIZE
            written = 0
            for uid, block in blocks.items():
                entry: dict[str, Any] = {"channels": block.channels, "frames": block.frames, "offset": offset}
                # Blocks are at most a few MB (BLOCK_FRAMES frames), so one read each.
                fh.write(memoryview(np.ascontiguousarray(block.read(), dtype=np.float32)).cast("B"))
                offset += block.nbytes
                levels = []
                for lvl in block.summaries or ():
                    arr = np.ascontiguousarray(np.stack([lvl.mins, lvl.maxs, lvl.sumsq]).astype(np.float32))
                    fh.write(memoryview(arr).cast("B"))
                    levels.append({"bin_frames": lvl.bin_frames, "offset": offset, "bins": arr.shape[2]})
                    offset += arr.nbytes
                entry["summaries"] = levels
                index[uid] = entry
                written += block.nbytes
                if ctx is not None:
                    ctx.progress(written / total, f"Saving {path.name}")
            body = json.dumps(
                {"format_version": FORMAT_VERSION, "app_version": __version__, "project": model, "blocks": index},
                separators=(",", ":"),
            ).encode()
            fh.write(body)
            fh.seek(0)
            fh.write(HEADER.pack(MAGIC, FORMAT_VERSION, 0, offset, len(body)))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        _unlink(tmp)
        if exc.errno == 28:
            raise ProjectFileError("the disk is full; the project was not saved and the previous file is intact",
                                   path) from None
        raise ProjectFileError(f"cannot save ({exc.strerror or exc}); the previous file is intact", path) from None
    except BaseException:
        _unlink(tmp)
        raise
    _fsync_dir(folder)
    # Blocks now live in the saved file: read them from there.
    mapped = MappedFile(path, temporary=False)
    for uid, entry in index.items():
        b = blocks[uid]
        b.replace_backing(F32Backing(mapped, entry["offset"], b.channels, b.frames))


def _mode_for(path: Path) -> int:
    """The mode of the file being replaced, else what a new file gets (0666 less umask)."""
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        return 0o666 & ~_umask()


def _umask() -> int:
    # Read it from /proc where possible: setting and restoring it races with other threads.
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _unlink(p: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(p)


def _fsync_dir(folder: Path) -> None:
    try:
        dfd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


def read_index(path: str | Path) -> dict[str, Any]:
    """The JSON index of a project file, after checking header and version."""
    path = Path(path)
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as fh:
            head = fh.read(HEADER_SIZE)
            if len(head) < HEADER.size or head[:8] != MAGIC:
                raise ProjectFileError("is not a Seedwave project file", path)
            _magic, version, _flags, ioff, ilen = HEADER.unpack(head[: HEADER.size])
            if version > FORMAT_VERSION:
                raise ProjectFileError(
                    f"was saved by a newer Seedwave (project format {version}); this version reads "
                    f"format {FORMAT_VERSION} and older. Update Seedwave to open it",
                    path,
                )
            if ioff == 0 or ioff + ilen > size:
                raise ProjectFileError("is truncated or damaged (its index is missing)", path)
            fh.seek(ioff)
            doc = json.loads(fh.read(ilen).decode())
            if not isinstance(doc, dict):
                raise ProjectFileError("is damaged (its index is not a project description)", path)
    except FileNotFoundError:
        raise ProjectFileError("no such file", path) from None
    except IsADirectoryError:
        raise ProjectFileError("is a folder, not a project file", path) from None
    except PermissionError:
        raise ProjectFileError("permission denied", path) from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ProjectFileError("is damaged (its index cannot be read)", path) from None
    doc["_size"] = size
    return doc


def load_project(path: str | Path) -> Project:
    """Open a project file; its audio is memory-mapped, not read."""
    path = Path(path)
    doc = read_index(path)
    size = doc["_size"]
    mapped = MappedFile(path, temporary=False)
    blocks: dict[str, Block] = {}

    def resolve(uid: str) -> Block:
        if uid in blocks:
            return blocks[uid]
        try:
            e = doc["blocks"][uid]
        except KeyError:
            raise ProjectFileError(f"is damaged (block {uid[:8]} is missing)", path) from None
        ch, frames, off = int(e["channels"]), int(e["frames"]), int(e["offset"])
        if off + ch * frames * 4 > size:
            raise ProjectFileError("is truncated: some audio is missing from the end of the file", path)
        levels = []
        for lvl in e.get("summaries", []):
            bins = int(lvl["bins"])
            arr = mapped.region(int(lvl["offset"]), 3 * ch, bins).reshape(3, ch, bins)
            levels.append(SummaryLevel(int(lvl["bin_frames"]), arr[0], arr[1], arr[2]))
        b = Block(ch, frames, F32Backing(mapped, off, ch, frames), tuple(levels) or None, uid=uid)
        blocks[uid] = b
        return b

    try:
        return project_from_dict(doc["project"], resolve)
    except ProjectFileError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise ProjectFileError(f"is damaged ({exc})", path) from None
