"""Audio sequences: immutable ropes of block slices.

An :class:`AudioSeq` is what a clip plays: a list of :class:`Segment` s, each a
frame range of one immutable :class:`~editor.core.blocks.Block`. Slicing and
concatenation only rearrange segments, so cut, paste, delete, split and insert
silence copy no samples and take time in proportion to the number of blocks, not
the length of the audio. Adjacent segments of the same block are merged, so a
cut followed by a paste at the same place gives back an equal sequence.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from .blocks import SUMMARY_LEVELS, Block, silent_block


@dataclass(frozen=True, slots=True)
class Segment:
    """Frames [start, stop) of ``block``."""

    block: Block
    start: int
    stop: int

    @property
    def frames(self) -> int:
        return self.stop - self.start


class AudioSeq:
    """An immutable sequence of audio frames built from block segments."""

    __slots__ = ("segments", "channels", "frames", "_starts")

    def __init__(self, segments: Iterable[Segment], channels: int) -> None:
        merged: list[Segment] = []
        for seg in segments:
            if seg.frames <= 0:
                continue
            if seg.block.channels != channels:
                raise ValueError("segment channel count differs from the sequence's")
            if merged:
                last = merged[-1]
                if last.block is seg.block and last.stop == seg.start:
                    merged[-1] = Segment(last.block, last.start, seg.stop)
                    continue
                if last.block.is_silent and seg.block.is_silent:
                    merged[-1] = Segment(silent_block(channels, last.frames + seg.frames), 0,
                                         last.frames + seg.frames)
                    continue
            merged.append(seg)
        self.segments: tuple[Segment, ...] = tuple(merged)
        self.channels = channels
        starts = [0]
        for seg in self.segments:
            starts.append(starts[-1] + seg.frames)
        self._starts = starts
        self.frames = starts[-1]

    # -- construction -------------------------------------------------------
    @classmethod
    def from_blocks(cls, blocks: Iterable[Block], channels: int) -> AudioSeq:
        return cls((Segment(b, 0, b.frames) for b in blocks), channels)

    @classmethod
    def silence(cls, channels: int, frames: int) -> AudioSeq:
        if frames <= 0:
            return cls((), channels)
        return cls((Segment(silent_block(channels, frames), 0, frames),), channels)

    @classmethod
    def empty(cls, channels: int) -> AudioSeq:
        return cls((), channels)

    @staticmethod
    def concat(*seqs: AudioSeq) -> AudioSeq:
        if not seqs:
            raise ValueError("concat needs at least one sequence")
        channels = seqs[0].channels
        segs: list[Segment] = []
        for s in seqs:
            if s.channels != channels:
                raise ValueError("cannot join sequences with different channel counts")
            segs.extend(s.segments)
        return AudioSeq(segs, channels)

    # -- value semantics ------------------------------------------------------
    def __len__(self) -> int:
        return self.frames

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AudioSeq):
            return NotImplemented
        if self.channels != other.channels or self.frames != other.frames:
            return False
        if self.segments == other.segments:
            return True
        # Silence is equal to silence however it is split.
        return all(
            a.block is b.block or (a.block.is_silent and b.block.is_silent)
            for a, b in zip(self.segments, other.segments, strict=False)
        ) and [s.frames for s in self.segments] == [s.frames for s in other.segments]

    def __hash__(self) -> int:
        return hash((self.channels, self.frames, len(self.segments)))

    def __repr__(self) -> str:
        return f"AudioSeq(ch={self.channels}, frames={self.frames}, segments={len(self.segments)})"

    # -- structure ------------------------------------------------------------
    def _locate(self, pos: int) -> int:
        """Index of the segment containing frame ``pos`` (0 <= pos < frames)."""
        return bisect.bisect_right(self._starts, pos) - 1

    def slice(self, start: int, stop: int) -> AudioSeq:
        """Frames [start, stop), clipped to the sequence."""
        start = max(0, start)
        stop = min(self.frames, stop)
        if stop <= start:
            return AudioSeq((), self.channels)
        if start == 0 and stop == self.frames:
            return self
        out: list[Segment] = []
        i = self._locate(start)
        while i < len(self.segments) and self._starts[i] < stop:
            seg = self.segments[i]
            s0 = self._starts[i]
            a = seg.start + max(0, start - s0)
            b = seg.start + min(seg.frames, stop - s0)
            if seg.block.is_silent:
                out.append(Segment(silent_block(self.channels, b - a), 0, b - a))
            else:
                out.append(Segment(seg.block, a, b))
            i += 1
        return AudioSeq(out, self.channels)

    def splice(self, start: int, stop: int, insert: AudioSeq | None = None) -> AudioSeq:
        """Replace frames [start, stop) by ``insert`` (or remove them)."""
        parts = [self.slice(0, start)]
        if insert is not None and insert.frames:
            parts.append(insert)
        parts.append(self.slice(stop, self.frames))
        return AudioSeq.concat(*parts)

    def blocks(self) -> set[Block]:
        return {s.block for s in self.segments}

    def iter_segments(self, start: int, stop: int) -> Iterator[tuple[int, Segment]]:
        """(position in this sequence, segment clipped to [start, stop))."""
        start = max(0, start)
        stop = min(self.frames, stop)
        if stop <= start:
            return
        i = self._locate(start)
        while i < len(self.segments) and self._starts[i] < stop:
            seg = self.segments[i]
            s0 = self._starts[i]
            a = max(0, start - s0)
            b = min(seg.frames, stop - s0)
            yield s0 + a, Segment(seg.block, seg.start + a, seg.start + b)
            i += 1

    # -- samples --------------------------------------------------------------
    def read(self, start: int, stop: int, out: np.ndarray | None = None) -> np.ndarray:
        """Planar float32 frames [start, stop); positions outside the sequence read
        as silence."""
        n = max(0, stop - start)
        if out is None:
            out = np.zeros((self.channels, n), np.float32)
        else:
            out[:, :n] = 0.0
        for pos, seg in self.iter_segments(start, stop):
            if seg.block.is_silent:
                continue
            o = pos - start
            out[:, o : o + seg.frames] = seg.block.read(seg.start, seg.stop)
            seg.block.release(seg.start, seg.stop)  # copied: the mapped pages can go
        return out

    def iter_chunks(self, start: int, stop: int, size: int = 1 << 18) -> Iterator[tuple[int, np.ndarray]]:
        """(position, planar chunk) over [start, stop) in chunks of ``size`` frames."""
        pos = start
        while pos < stop:
            end = min(stop, pos + size)
            yield pos, self.read(pos, end)
            pos = end

    # -- summaries ------------------------------------------------------------
    def _bins(self, start: int, stop: int, width: int) -> Iterator[tuple[int, int, np.ndarray, np.ndarray, np.ndarray]]:
        """Yield exact (position, frames, min, max, sumsq) runs covering [start, stop).

        Each item covers whole summary bins of ``width`` frames where the block has
        them, arrays shaped (channels, k); edges that cut into a bin are computed
        exactly from finer levels or samples, so the statistics never include
        audio outside the range.
        """
        for pos, seg in self.iter_segments(start, stop):
            yield from _segment_bins(pos, seg, width, self.channels)

    def peaks(self, start: int, stop: int, columns: int) -> tuple[np.ndarray, np.ndarray]:
        """Per-column (min, max) over [start, stop) split into ``columns`` equal
        columns, each (channels, columns). Reads summaries, not samples, except at
        close zoom."""
        columns = max(1, int(columns))
        n = stop - start
        mins = np.zeros((self.channels, columns), np.float32)
        maxs = np.zeros((self.channels, columns), np.float32)
        if n <= 0:
            return mins, maxs
        fpp = n / columns
        if fpp < SUMMARY_LEVELS[0] or n <= 4 * SUMMARY_LEVELS[0]:
            data = self.read(start, stop)
            edges = np.minimum((np.arange(columns) * fpp).astype(np.int64), n - 1)
            return np.minimum.reduceat(data, edges, axis=1), np.maximum.reduceat(data, edges, axis=1)
        width = max(w for w in SUMMARY_LEVELS if w <= fpp)
        pos_l, mn_l, mx_l = [], [], []
        for pos, frames, mn, mx, _sq in self._bins(start, stop, width):
            k = mn.shape[1]
            step = frames / k
            pos_l.append(pos - start + np.arange(k) * step)
            mn_l.append(mn)
            mx_l.append(mx)
        if not pos_l:
            return mins, maxs
        pos_a = np.concatenate(pos_l)
        mn_a = np.concatenate(mn_l, axis=1)
        mx_a = np.concatenate(mx_l, axis=1)
        col = np.clip((pos_a / fpp).astype(np.int64), 0, columns - 1)
        starts = np.flatnonzero(np.diff(col, prepend=-1))
        ucol = col[starts]
        mins[:, ucol] = np.minimum.reduceat(mn_a, starts, axis=1)
        maxs[:, ucol] = np.maximum.reduceat(mx_a, starts, axis=1)
        # A column that no bin starts in lies inside the bin that covers its start
        # (a long silent run): it shows that bin, not the column before it.
        filled = np.zeros(columns, bool)
        filled[ucol] = True
        if not filled.all():
            empty = np.flatnonzero(~filled)
            covering = np.searchsorted(pos_a, empty * fpp, side="right") - 1
            mins[:, empty] = mn_a[:, covering]
            maxs[:, empty] = mx_a[:, covering]
        return mins, maxs

    def stats(self, start: int = 0, stop: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Exact per-channel (min, max, sum of squares) over [start, stop)."""
        stop = self.frames if stop is None else stop
        mn = np.zeros(self.channels, np.float64)
        mx = np.zeros(self.channels, np.float64)
        sq = np.zeros(self.channels, np.float64)
        first = True
        for _pos, _frames, a, b, s in self._bins(start, stop, SUMMARY_LEVELS[-1]):
            amin = a.min(axis=1)
            amax = b.max(axis=1)
            mn = amin if first else np.minimum(mn, amin)
            mx = amax if first else np.maximum(mx, amax)
            first = False
            sq = sq + s.sum(axis=1, dtype=np.float64)
        return mn, mx, sq

    def peak(self, start: int = 0, stop: int | None = None) -> float:
        """Largest absolute sample value over the range, from summaries."""
        mn, mx, _ = self.stats(start, stop)
        if mn.size == 0:
            return 0.0
        return float(max(np.abs(mn).max(), np.abs(mx).max()))


def _segment_bins(pos: int, seg: Segment, width: int, channels: int):
    """Exact bins for one clipped segment; see :meth:`AudioSeq._bins`."""
    block = seg.block
    if block.is_silent:
        z = np.zeros((channels, 1), np.float32)
        yield pos, seg.frames, z, z, z
        return
    level = block.level(width) if width > 0 else None
    if level is None:
        data = block.read(seg.start, seg.stop)
        yield (pos, seg.frames, data.min(axis=1, keepdims=True), data.max(axis=1, keepdims=True),
               np.einsum("ij,ij->i", data, data, dtype=np.float32)[:, None])
        return
    i0 = -(-seg.start // width)
    # The block's last bin may be short; it is whole if the segment reaches the block's end.
    i1 = level.mins.shape[1] if seg.stop == block.frames else seg.stop // width
    if i1 <= i0:
        # The segment sits inside one bin: go one level finer.
        yield from _segment_bins(pos, seg, _finer(width), channels)
        return
    head = Segment(block, seg.start, i0 * width)
    if head.frames > 0:
        yield from _segment_bins(pos, head, _finer(width), channels)
    full_start = pos + (i0 * width - seg.start)
    # The block's last bin may be short: it ends at the block's end.
    full_stop_frame = min(i1 * width, block.frames)
    yield (full_start, full_stop_frame - i0 * width, level.mins[:, i0:i1], level.maxs[:, i0:i1],
           level.sumsq[:, i0:i1])
    tail = Segment(block, max(seg.start, full_stop_frame), seg.stop)
    if tail.frames > 0:
        yield from _segment_bins(pos + (tail.start - seg.start), tail, _finer(width), channels)


def _finer(width: int) -> int:
    finer = [w for w in SUMMARY_LEVELS if w < width]
    return finer[-1] if finer else 0
