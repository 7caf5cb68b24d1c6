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
import errno
import glob
import json
import os
import struct
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from .blocks import (
    SUMMARY_LEVELS,
    Block,
    F32Backing,
    MappedFile,
    SummaryLevel,
    compute_summaries,
    digest_of,
    file_identity,
)
from .errors import ProjectFileError
from .model import Project
from .projectcheck import check_project_dict
from .serialize import project_from_dict, project_to_dict
from .store import cache_root, default_store
from .task import TaskContext

MAGIC = b"SEEDWAVE"
FORMAT_VERSION = 1
HEADER = struct.Struct("<8sIIQQ")
HEADER_SIZE = 64
EXTENSION = ".seedwave"
#: A save writes the used ranges of a block rounded out to this many frames.
COMPACT_ALIGN = SUMMARY_LEVELS[0]
#: Samples beyond this (+120 dBFS) are not audio but damage; treated like NaN.
MAX_SAMPLE = 1e6
#: The largest index a project file may have (the model of a huge project is a few MB).
MAX_INDEX_BYTES = 64 << 20


def _referenced(project: Project) -> dict[str, tuple[Block, list[tuple[int, int]]]]:
    """Each block the project uses, with the merged frame ranges its segments use."""
    ranges: dict[str, tuple[Block, list[tuple[int, int]]]] = {}
    for t in project.tracks:
        for c in t.clips:
            for seg in c.audio.segments:
                if not seg.block.is_silent:
                    ranges.setdefault(seg.block.uid, (seg.block, []))[1].append((seg.start, seg.stop))
    for uid, (block, spans) in ranges.items():
        # Pieces start and end on the finest summary bin, so their fine summaries
        # are exactly the block's (the close-up waveform is identical after a reload).
        spans = sorted((a // COMPACT_ALIGN * COMPACT_ALIGN, min(block.frames, -(-b // COMPACT_ALIGN) * COMPACT_ALIGN))
                       for a, b in spans)
        merged: list[tuple[int, int]] = []
        for a, b in spans:
            if merged and a <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], b))
            else:
                merged.append((a, b))
        ranges[uid] = (block, merged)
    return ranges


def _remap_segments(model: dict[str, Any], pieces: dict[str, list[tuple[int, int, str]]]) -> None:
    """Point segments of split blocks at the piece (new uid, shifted frames) that holds them."""
    for t in model["tracks"]:
        for c in t["clips"]:
            for seg in c["audio"]["segments"]:
                parts = pieces.get(seg[0])
                if parts is None:
                    continue
                for a, b, uid in parts:
                    if a <= seg[1] and seg[2] <= b:
                        seg[0], seg[1], seg[2] = uid, seg[1] - a, seg[2] - a
                        break


def save_project(project: Project, path: str | Path, ctx: TaskContext | None = None) -> None:
    """Write ``project`` to ``path`` atomically.

    Only the audio the project uses is written: a block of which the clips use
    a part is stored as just that part (compaction), so the file stays in
    proportion to the audio in use however many times it is edited and saved.
    After a successful save, the blocks stored whole read from the new file, so
    the project no longer depends on source files or the cache for them.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    model = project_to_dict(project, lambda b: None)
    refs = _referenced(project)
    total = sum(sum(b - a for a, b in spans) * blk.channels * 4 for blk, spans in refs.values()) or 1
    sweep_interrupted_saves(folder=folder, name=path.name)
    # The temporary file is recorded before it exists, so a kill at any moment
    # leaves nothing that the next start cannot find.
    tmp = str(folder / f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")
    marker = _note_save(tmp)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
    except OSError as exc:
        _unlink(str(marker))
        raise _save_error(exc, path) from None
    index: dict[str, Any] = {}
    whole: dict[str, tuple[Block, int]] = {}
    pieces: dict[str, list[tuple[int, int, str]]] = {}
    try:
        # The file is made private (0600); give the project the mode a normal
        # file would get, or keep the mode of the file it replaces.
        os.fchmod(fd, _mode_for(path))
        with os.fdopen(fd, "wb") as fh:
            fh.write(b"\0" * HEADER_SIZE)
            offset = HEADER_SIZE
            written = 0
            for uid, (block, spans) in refs.items():
                is_whole = spans == [(0, block.frames)]
                for a, b in spans:
                    # Blocks are at most a few MB (BLOCK_FRAMES frames), so one read each.
                    data = np.ascontiguousarray(block.read(a, b), dtype=np.float32)
                    if is_whole:
                        new_uid, digest = uid, block.digest or digest_of(data)
                        summaries = block.summaries or compute_summaries(data)
                        whole[uid] = (block, offset)
                    else:
                        new_uid, digest = f"{uid.split('@')[0]}@{_new_tag()}", digest_of(data)
                        summaries = compute_summaries(data)
                        pieces.setdefault(uid, []).append((a, b, new_uid))
                    entry: dict[str, Any] = {"channels": block.channels, "frames": b - a, "offset": offset,
                                             "digest": digest}
                    fh.write(memoryview(data).cast("B"))
                    offset += data.nbytes
                    levels = []
                    for lvl in summaries:
                        arr = np.ascontiguousarray(np.stack([lvl.mins, lvl.maxs, lvl.sumsq]).astype(np.float32))
                        fh.write(memoryview(arr).cast("B"))
                        levels.append({"bin_frames": lvl.bin_frames, "offset": offset, "bins": arr.shape[2]})
                        offset += arr.nbytes
                    entry["summaries"] = levels
                    index[new_uid] = entry
                    written += data.nbytes
                    if ctx is not None:
                        ctx.progress(written / total, f"Saving {path.name}")
            _remap_segments(model, pieces)
            body = json.dumps(
                {"format_version": FORMAT_VERSION, "app_version": __version__, "project": model, "blocks": index},
                separators=(",", ":"),
            ).encode()
            fh.write(body)
            fh.seek(0)
            fh.write(HEADER.pack(MAGIC, FORMAT_VERSION, 0, offset, len(body)))
            fh.flush()
            os.fsync(fh.fileno())
        _keep_replaced(path)
        os.replace(tmp, path)
    except OSError as exc:
        _unlink(tmp)
        raise _save_error(exc, path) from None
    except BaseException:
        _unlink(tmp)
        raise
    finally:
        _unlink(str(marker))
    _fsync_dir(folder)
    # Blocks stored whole now live in the saved file: read them from there.
    mapped = MappedFile(path, temporary=False)
    for uid, (b, off) in whole.items():
        b.replace_backing(F32Backing(mapped, off, b.channels, b.frames))
        if b.digest is None:
            b.digest = index[uid]["digest"]
    # The recovery journal may name the file just replaced or cache files now unused: renew it.
    from .recovery import rewrite_journal

    rewrite_journal(default_store())


def _keep_replaced(path: Path) -> None:
    """Before a save replaces ``path``: if this process still reads audio from the
    file there (an older version of the project, still used by the history or named
    by the recovery journal), give that file a name in the session folder, so it
    survives as long as it is used and a crash recovery can still find it by its
    identity. Costs nothing: a hard link. Where links cannot be made (another file
    system), the journal is rewritten after the save instead."""
    try:
        there = file_identity(os.stat(path))
    except OSError:
        return
    folder = default_store().folder
    for m in [m for m in MappedFile.live() if m.identity == there]:
        # One name per mapping: each removes its own when it is no longer used.
        kept = folder / f"kept-{uuid.uuid4().hex}{EXTENSION}"
        try:
            os.link(path, kept)
        except OSError:
            return
        m.moved_to(kept, temporary=True)


def _new_tag() -> str:
    return uuid.uuid4().hex[:8]


def _save_error(exc: OSError, path: Path) -> ProjectFileError:
    if exc.errno == errno.ENOSPC:
        return ProjectFileError("the disk is full; the project was not saved and the previous file is intact", path)
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return ProjectFileError("cannot save here: the folder is read-only or not yours; the previous file is "
                                "intact (choose another folder)", path)
    if exc.errno == errno.ENOENT:
        return ProjectFileError("cannot save: the folder does not exist", path)
    return ProjectFileError(f"cannot save ({exc.strerror or exc}); the previous file is intact", path)


# --------------------------------------------------------------------------- interrupted saves


def _saves_dir() -> Path:
    return cache_root() / "saves"


def _note_save(tmp: str) -> Path:
    """Record an in-progress save's temporary file, so a later start can remove it
    if this process dies before the save ends."""
    folder = _saves_dir()
    marker = folder / f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
    with contextlib.suppress(OSError):
        folder.mkdir(parents=True, exist_ok=True)
        marker.write_text(str(Path(tmp).resolve()))
    return marker


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def _stale_tmp(p: Path, name: str) -> bool:
    """A ``.NAME.PID-XXXX.tmp`` file of a save whose process is gone."""
    rest = p.name[len(name) + 2:] if p.name.startswith(f".{name}.") else ""
    pid_part = rest.split("-", 1)[0]
    if pid_part.isdigit():
        return not _pid_alive(int(pid_part))
    # Older saves put no process id in the name: stale once clearly abandoned.
    try:
        import time

        return time.time() - p.stat().st_mtime > 3600
    except OSError:
        return False


def sweep_interrupted_saves(cache: Path | None = None, folder: Path | None = None, name: str | None = None) -> int:
    """Remove temporary files that killed saves left behind: those recorded in the
    cache (at start), and those beside ``folder/name`` (before a save there)."""
    removed = 0
    saves = (Path(cache) / "saves") if cache is not None else _saves_dir()
    if folder is None and saves.is_dir():
        for marker in saves.iterdir():
            pid_part = marker.name.split("-", 1)[0]
            if not pid_part.isdigit() or _pid_alive(int(pid_part)):
                continue
            with contextlib.suppress(OSError):
                tmp = Path(marker.read_text().strip())
                if tmp.name.endswith(".tmp") and tmp.name.startswith("."):
                    tmp.unlink(missing_ok=True)
                    removed += 1
            _unlink(str(marker))
    if folder is not None and name:
        with contextlib.suppress(OSError):
            for p in Path(folder).glob(f".{glob.escape(name)}.*.tmp"):
                if _stale_tmp(p, name):
                    _unlink(str(p))
                    removed += 1
    return removed


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
            if version == 0:
                raise ProjectFileError("is damaged (its format version is 0)", path)
            if ioff < HEADER_SIZE or ioff + ilen > size or ilen == 0:
                raise ProjectFileError("is truncated or damaged (its index is missing)", path)
            if ilen > MAX_INDEX_BYTES:
                raise ProjectFileError("is damaged (its index is implausibly large)", path)
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
    except RecursionError:
        raise ProjectFileError("is damaged (its index is nested too deeply)", path) from None
    except (ValueError, OverflowError) as exc:  # e.g. a number with thousands of digits
        raise ProjectFileError(f"is damaged (its index cannot be read: {str(exc)[:80]})", path) from None
    except OSError as exc:
        raise ProjectFileError(f"cannot be read ({exc.strerror or exc})", path) from None
    doc["_size"] = size
    doc["_index_offset"] = ioff
    return doc


_INDEX_KEYS = frozenset({"format_version", "app_version", "project", "blocks", "_size", "_index_offset"})
_ENTRY_KEYS = frozenset({"channels", "frames", "offset", "summaries", "digest"})
_LEVEL_KEYS = frozenset({"bin_frames", "offset", "bins"})


def _check_blocks(blocks: Any, payload_end: int) -> dict[str, tuple[int, int]]:
    """Check every block entry of the index; ``ValueError`` with the reason, else uid -> (channels, frames)."""
    from .projectcheck import MAX_CHANNELS

    if not isinstance(blocks, dict):
        raise ValueError("its block table is missing")
    out: dict[str, tuple[int, int]] = {}
    for i, (uid, e) in enumerate(blocks.items()):
        w = f"block {i + 1}"
        if not isinstance(e, dict) or set(e) - _ENTRY_KEYS:
            raise ValueError(f"{w}: has unknown or missing fields")
        ch, frames, off = e.get("channels"), e.get("frames"), e.get("offset")
        if not (type(ch) is int and 1 <= ch <= MAX_CHANNELS):
            raise ValueError(f"{w}: channels is not 1..{MAX_CHANNELS}")
        if not (type(frames) is int and 1 <= frames <= payload_end):
            raise ValueError(f"{w}: frames is out of range")
        if not (type(off) is int and off >= HEADER_SIZE and off + ch * frames * 4 <= payload_end):
            raise ValueError(f"{w}: its audio lies outside the file (offset {off!r}); the file may be truncated")
        digest = e.get("digest")
        if digest is not None and not (isinstance(digest, str) and len(digest) == 64):
            raise ValueError(f"{w}: its checksum is malformed")
        levels = e.get("summaries", [])
        if not isinstance(levels, list) or len(levels) > len(SUMMARY_LEVELS):
            raise ValueError(f"{w}: its summaries are malformed")
        for lvl in levels:
            if not isinstance(lvl, dict) or set(lvl) != _LEVEL_KEYS or type(lvl["bin_frames"]) is not int \
                    or lvl["bin_frames"] not in SUMMARY_LEVELS or type(lvl["bins"]) is not int:
                raise ValueError(f"{w}: its summaries are malformed")
            bins, loff = lvl["bins"], lvl["offset"]
            if bins != -(-frames // lvl["bin_frames"]) or type(loff) is not int or \
                    not HEADER_SIZE <= loff <= payload_end - 3 * ch * bins * 4:
                raise ValueError(f"{w}: its summaries lie outside the file")
        out[uid] = (ch, frames)
    return out


def load_project(path: str | Path, warnings: list[str] | None = None, ctx: TaskContext | None = None) -> Project:
    """Open a project file after checking all of it; its audio is memory-mapped.

    Raises :class:`ProjectFileError` (one line naming the file and the problem)
    for anything damaged, out of range or unknown; nothing is half-loaded.
    Audio holding NaN or infinite samples is replaced by silence there, and a
    line saying so is appended to ``warnings``.
    """
    path = Path(path)
    doc = read_index(path)
    try:
        extra = set(doc) - _INDEX_KEYS
        if extra:
            raise ValueError(f"unknown field {sorted(map(str, extra))[0][:40]!r} in the index")
        shapes = _check_blocks(doc.get("blocks"), doc["_index_offset"])
        check_project_dict(doc.get("project"), shapes)
    except ValueError as exc:
        raise ProjectFileError(f"is damaged or not supported: {exc}", path) from None
    try:
        mapped = MappedFile(path, temporary=False)
    except (OSError, ValueError) as exc:
        raise ProjectFileError(f"cannot be read ({exc})", path) from None
    blocks: dict[str, Block] = {}
    nonfinite = [0]

    def resolve(uid: str) -> Block:
        if uid in blocks:
            return blocks[uid]
        e = doc["blocks"][uid]
        ch, frames, off = e["channels"], e["frames"], e["offset"]
        levels = []
        for lvl in e.get("summaries", []):
            bins = lvl["bins"]
            arr = mapped.region(lvl["offset"], 3 * ch, bins).reshape(3, ch, bins)
            levels.append(SummaryLevel(lvl["bin_frames"], arr[0], arr[1], arr[2]))
        backing = F32Backing(mapped, off, ch, frames)
        summaries: tuple[SummaryLevel, ...] | None = tuple(levels) or None
        data = backing.read(0, frames)
        # NaN, infinite, or far beyond any audio (a gain would make it infinite): max and min
        # propagate NaN, so two reductions check it all.
        if not (float(data.min()) >= -MAX_SAMPLE and float(data.max()) <= MAX_SAMPLE):
            # Like NaN on import: silence in its place, and say so.
            bad_mask = ~(np.abs(data) <= MAX_SAMPLE)
            nonfinite[0] += int(np.count_nonzero(bad_mask))
            clean = np.where(bad_mask, np.float32(0.0), data).astype(np.float32)
            w = default_store().writer(ch)
            w.write_block(clean)  # one block of the same shape
            blk = w.finish()[0]
            b = Block(ch, frames, blk.backing, blk.summaries, uid=uid, digest=blk.digest)
        else:
            if summaries is not None and not all(np.isfinite(x).all() for lv in summaries
                                                 for x in (lv.mins, lv.maxs, lv.sumsq)):
                summaries = compute_summaries(data)
            b = Block(ch, frames, backing, summaries, uid=uid, digest=e.get("digest"))
        backing.release(0, frames)
        blocks[uid] = b
        if ctx is not None:
            ctx.check()
        return b

    try:
        project = project_from_dict(doc["project"], resolve)
    except ProjectFileError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, OverflowError, RecursionError) as exc:
        raise ProjectFileError(f"is damaged ({str(exc)[:120]})", path) from None
    if nonfinite[0] and warnings is not None:
        warnings.append(f"{path}: replaced {nonfinite[0]} NaN/infinite or out-of-range samples with silence")

    return project
