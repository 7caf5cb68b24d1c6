"""Immutable audio blocks and their min/max/RMS summaries.

A :class:`Block` is a run of float32 audio, stored planar (channels × frames), that
never changes once made. Its samples live on disk and are read through a
*backing*: a memory-mapped float32 region of a cache file or project file, an alias
of the PCM data in an original source file (read on demand, never written), or
nothing at all for silence. Because blocks never change, sequences, clips and
history snapshots share them freely; an edit makes new blocks only for the audio
it changes.

Each block carries summaries at :data:`SUMMARY_LEVELS` (256 and 65536 frames per
bin, as Audacity does): per channel the minimum, maximum and sum of squares of
each bin. Waveform drawing, peak and RMS queries read these instead of samples.
"""

from __future__ import annotations

import contextlib
import hashlib
import mmap
import os
import threading
import uuid
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

#: Frames per bin of each summary level, finest first.
SUMMARY_LEVELS: tuple[int, ...] = (256, 65536)
#: Frames per block when audio is written in bulk (import, effects).
BLOCK_FRAMES: int = 1 << 18


# --------------------------------------------------------------------------- summaries


@dataclass(frozen=True, eq=False)
class SummaryLevel:
    """Per-bin statistics of one block at one resolution; arrays are (channels, bins)."""

    bin_frames: int
    mins: np.ndarray
    maxs: np.ndarray
    sumsq: np.ndarray


def _reduce_bins(data: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """min, max and sum of squares over consecutive ``width``-frame bins of planar data."""
    ch, n = data.shape
    full = n // width
    parts_min, parts_max, parts_sq = [], [], []
    if full:
        r = data[:, : full * width].reshape(ch, full, width)
        parts_min.append(r.min(axis=2))
        parts_max.append(r.max(axis=2))
        parts_sq.append(np.einsum("ijk,ijk->ij", r, r, dtype=np.float32))
    if n - full * width:
        t = data[:, full * width :]
        parts_min.append(t.min(axis=1, keepdims=True))
        parts_max.append(t.max(axis=1, keepdims=True))
        parts_sq.append(np.einsum("ij,ij->i", t, t, dtype=np.float32)[:, None])
    if len(parts_min) == 1:
        return parts_min[0], parts_max[0], parts_sq[0]
    return (
        np.concatenate(parts_min, axis=1),
        np.concatenate(parts_max, axis=1),
        np.concatenate(parts_sq, axis=1),
    )


def _coarsen(level: SummaryLevel, factor: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Combine groups of ``factor`` bins of a finer level into one coarser bin."""
    nb = level.mins.shape[1]
    idx = np.arange(0, nb, factor)
    return (
        np.minimum.reduceat(level.mins, idx, axis=1),
        np.maximum.reduceat(level.maxs, idx, axis=1),
        np.add.reduceat(level.sumsq, idx, axis=1),
    )


def compute_summaries(data: np.ndarray) -> tuple[SummaryLevel, ...]:
    """Summaries of planar float32 ``data`` at every level in :data:`SUMMARY_LEVELS`."""
    first = SUMMARY_LEVELS[0]
    levels = [SummaryLevel(first, *_reduce_bins(data, first))]
    for width in SUMMARY_LEVELS[1:]:
        levels.append(SummaryLevel(width, *_coarsen(levels[-1], width // levels[-1].bin_frames)))
    return tuple(levels)


# --------------------------------------------------------------------------- backings


class MappedFile:
    """A file of float32 audio regions, memory-mapped read-only once.

    ``temporary`` files (block caches) are deleted when the last block that uses
    them is garbage; project files are left alone.
    """

    #: Every live mapping, so a save about to replace a file can find who still reads it.
    _live: weakref.WeakSet[MappedFile] = weakref.WeakSet()
    _live_lock = threading.Lock()

    @classmethod
    def live(cls) -> list[MappedFile]:
        """The mappings alive now."""
        with cls._live_lock:
            return list(cls._live)

    def __init__(self, path: Path, temporary: bool) -> None:
        self.path = Path(path)
        self.temporary = temporary
        st = os.stat(self.path)
        size = st.st_size
        #: What the file was when mapped: (device, inode, size, mtime in ns). Any
        #: replacement or rewrite of the file at ``path`` changes it.
        self.identity: tuple[int, int, int, int] = file_identity(st)
        self._map = np.memmap(self.path, dtype=np.uint8, mode="r", shape=(size,)) if size else None
        self._finalizer = weakref.finalize(self, _unlink_quietly, str(self.path)) if temporary else None
        with MappedFile._live_lock:
            MappedFile._live.add(self)

    @property
    def size(self) -> int:
        return self.identity[2]

    def still_at_path(self) -> bool:
        """True while the file at ``path`` is still the one this object maps."""
        try:
            return file_identity(os.stat(self.path)) == self.identity
        except OSError:
            return False

    def moved_to(self, path: Path, temporary: bool | None = None) -> None:
        """The file was renamed or linked to ``path`` (same inode): follow it.
        ``temporary``: whether ``path`` is deleted once unused (default: as before)."""
        self.path = Path(path)
        if temporary is None:
            temporary = self._finalizer is not None
        if self._finalizer is not None:
            self._finalizer.detach()
        self._finalizer = weakref.finalize(self, _unlink_quietly, str(self.path)) if temporary else None

    def region(self, offset: int, channels: int, frames: int) -> np.ndarray:
        nbytes = channels * frames * 4
        if self._map is None or offset < 0 or nbytes < 0 or offset + nbytes > self.size:
            raise ValueError(f"{self.path}: region {offset}+{nbytes} lies outside the file ({self.size} bytes)")
        return self._map[offset : offset + nbytes].view(np.float32).reshape(channels, frames)

    def release(self, offset: int, nbytes: int) -> None:
        """Drop the whole pages inside [offset, offset + nbytes) from this process.

        The data stays in the kernel's page cache and is mapped back on the next
        read; without this, streaming through an hour of audio (export, effects)
        would leave every page it touched counted in the process's resident memory.
        """
        mm = getattr(self._map, "_mmap", None)
        if mm is None or not hasattr(mm, "madvise"):
            return
        start = -(-offset // mmap.PAGESIZE) * mmap.PAGESIZE
        stop = (offset + nbytes) // mmap.PAGESIZE * mmap.PAGESIZE
        if stop > start:
            with contextlib.suppress(OSError, ValueError):
                mm.madvise(mmap.MADV_DONTNEED, start, stop - start)


def file_identity(st: os.stat_result) -> tuple[int, int, int, int]:
    """(device, inode, size, mtime in ns): changes whenever a file's bytes can have changed."""
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def digest_of(data: np.ndarray) -> str:
    """Content hash of planar float32 samples (SHA-256 of their bytes, hex)."""
    return hashlib.sha256(memoryview(np.ascontiguousarray(data, dtype=np.float32)).cast("B")).hexdigest()


def _unlink_quietly(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


class Backing:
    """Where a block's samples come from."""

    def read(self, start: int, stop: int) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def release(self, start: int, stop: int) -> None:
        """Frames [start, stop) were used and need not stay in memory (a hint)."""

    def describe(self) -> dict[str, Any]:  # pragma: no cover - interface
        raise NotImplementedError


class F32Backing(Backing):
    """Planar float32 samples at a byte offset of a memory-mapped file."""

    def __init__(self, file: MappedFile, offset: int, channels: int, frames: int) -> None:
        self.file = file
        self.offset = offset
        self._data = file.region(offset, channels, frames)

    def read(self, start: int, stop: int) -> np.ndarray:
        return self._data[:, start:stop]

    def release(self, start: int, stop: int) -> None:
        channels, frames = self._data.shape
        for c in range(channels):
            self.file.release(self.offset + (c * frames + start) * 4, (stop - start) * 4)

    def describe(self) -> dict[str, Any]:
        return {"kind": "f32", "path": str(self.file.path), "offset": self.offset,
                "file": list(self.file.identity)}


class SourceFile:
    """An original audio file read in place (never written). Reads are serialised."""

    _open: weakref.WeakValueDictionary[str, SourceFile] = weakref.WeakValueDictionary()
    _open_lock = threading.Lock()

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.lock = threading.Lock()
        self.handle = sf.SoundFile(str(self.path))
        self.channels = self.handle.channels
        subtype = self.handle.subtype
        if subtype in ("FLOAT",):
            self.dtype, self.scale = "float32", None
        elif subtype in ("DOUBLE",):
            self.dtype, self.scale = "float64", None
        elif subtype in ("PCM_24", "PCM_32"):
            self.dtype, self.scale = "int32", np.float32(1.0 / 2**31)
        else:
            self.dtype, self.scale = "int16", np.float32(1.0 / 2**15)
        self.stat = os.stat(self.path)

    @classmethod
    def get(cls, path: Path) -> SourceFile:
        key = str(Path(path).resolve())
        with cls._open_lock:
            src = cls._open.get(key)
            if src is not None and not _same_file(src.stat, os.stat(key)):
                # The file was replaced since it was opened: the old handle still reads
                # the old contents, which stay right for the blocks already using it.
                src = None
            if src is None:
                src = cls(Path(key))
                cls._open[key] = src
            return src

    def read(self, start: int, stop: int) -> np.ndarray:
        """Frames [start, stop) as planar float32."""
        n = stop - start
        with self.lock:
            self.handle.seek(start)
            raw = self.handle.read(n, dtype=self.dtype, always_2d=True)
        if raw.shape[0] != n:
            raise OSError(f"{self.path}: the file changed or was truncated since it was imported")
        out = np.empty((self.channels, n), np.float32)
        if self.scale is None:
            out[...] = raw.T
        else:
            np.multiply(raw.T, self.scale, out=out, casting="unsafe")
        return out


def _same_file(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_dev, a.st_ino, a.st_size, a.st_mtime_ns) == (b.st_dev, b.st_ino, b.st_size, b.st_mtime_ns)


class PcmAliasBacking(Backing):
    """Frames of an uncompressed source file, decoded on each read."""

    def __init__(self, source: SourceFile, frame_offset: int) -> None:
        self.source = source
        self.frame_offset = frame_offset

    def read(self, start: int, stop: int) -> np.ndarray:
        return self.source.read(self.frame_offset + start, self.frame_offset + stop)

    def describe(self) -> dict[str, Any]:
        return {"kind": "alias", "path": str(self.source.path), "frame_offset": self.frame_offset,
                "file": list(file_identity(self.source.stat))}


class ZeroBacking(Backing):
    """Silence: no storage at all."""

    def __init__(self, channels: int) -> None:
        self.channels = channels

    def read(self, start: int, stop: int) -> np.ndarray:
        return np.zeros((self.channels, stop - start), np.float32)

    def describe(self) -> dict[str, Any]:
        return {"kind": "zero"}


# --------------------------------------------------------------------------- block


class Block:
    """An immutable run of audio: ``channels`` × ``frames`` float32 samples.

    Blocks compare by identity. The backing may be swapped for an equivalent one
    (an alias replaced by a cached copy), which never changes the samples.
    ``digest`` is the SHA-256 of the samples where known (see :func:`digest_of`):
    whatever refers to a block from outside the process (a project file, the
    recovery journal) records it, so a changed file can never pass for the block.
    """

    __slots__ = ("uid", "channels", "frames", "_backing", "summaries", "digest", "__weakref__")

    def __init__(
        self,
        channels: int,
        frames: int,
        backing: Backing,
        summaries: tuple[SummaryLevel, ...] | None,
        uid: str | None = None,
        digest: str | None = None,
    ) -> None:
        if frames <= 0:
            raise ValueError("a block holds at least one frame")
        self.uid = uid or uuid.uuid4().hex
        self.channels = channels
        self.frames = frames
        self._backing = backing
        self.summaries = summaries
        self.digest = digest

    def ensure_digest(self) -> str:
        """The content hash, computed (once: blocks never change) if not known yet."""
        if self.digest is None:
            self.digest = digest_of(self.read())
        return self.digest

    @property
    def is_silent(self) -> bool:
        return isinstance(self._backing, ZeroBacking)

    @property
    def backing(self) -> Backing:
        return self._backing

    def replace_backing(self, backing: Backing) -> None:
        """Swap in a backing holding the same samples (used when caching aliases)."""
        self._backing = backing

    def read(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Planar samples [start, stop); may be a read-only view, never write to it."""
        stop = self.frames if stop is None else stop
        if not 0 <= start <= stop <= self.frames:
            raise IndexError(f"block range {start}:{stop} outside 0:{self.frames}")
        return self._backing.read(start, stop)

    def release(self, start: int = 0, stop: int | None = None) -> None:
        """Hint that frames [start, stop) were just used (see MappedFile.release)."""
        self._backing.release(start, self.frames if stop is None else stop)

    def level(self, bin_frames: int) -> SummaryLevel | None:
        if self.summaries is None:
            return None
        for lvl in self.summaries:
            if lvl.bin_frames == bin_frames:
                return lvl
        return None

    @property
    def nbytes(self) -> int:
        """Bytes of sample storage this block owns (0 for silence)."""
        return 0 if self.is_silent else self.channels * self.frames * 4

    def __repr__(self) -> str:
        return f"Block({self.uid[:8]}, ch={self.channels}, frames={self.frames})"


def silent_block(channels: int, frames: int) -> Block:
    return Block(channels, frames, ZeroBacking(channels), None)
