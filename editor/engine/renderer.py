"""The mix renderer: one function shared by playback, metering and export.

Rules, in signal order:

* a clip plays its audio window times its gain and its fade envelopes;
* a mono clip feeds both sides of its track;
* track gain, then a constant-power pan normalised to unity at centre
  (``gL = √2·cos θ``, ``gR = √2·sin θ``, ``θ = (pan + 1)·π/4``), so a centred
  track passes unchanged and a hard-panned one is +3 dB on its side;
* mute and solo follow the usual DAW rules: when any track is soloed only soloed
  tracks play; a muted track never plays, even if soloed;
* overlapping clips on a track are summed;
* master gain last.

Because pan and gains are linear, each clip is added straight into the master
bus with one combined per-channel gain: no per-track buffers unless a caller
asks for per-track output (meters, stems).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable

import numpy as np

from ..core.fades import fade_envelope
from ..core.loudness import db_to_gain
from ..core.model import Clip, Project, Track

OUT_CHANNELS = 2


def pan_gains(pan: float) -> tuple[float, float]:
    theta = (min(1.0, max(-1.0, pan)) + 1.0) * math.pi / 4.0
    return math.sqrt(2.0) * math.cos(theta), math.sqrt(2.0) * math.sin(theta)


def audible_tracks(project: Project) -> list[Track]:
    """Tracks that sound, after mute and solo."""
    any_solo = any(t.solo for t in project.tracks)
    return [t for t in project.tracks if not t.mute and (t.solo or not any_solo)]


def clip_envelope(clip: Clip, a: int, b: int) -> np.ndarray | None:
    """Fade gains for timeline frames [a, b) of ``clip``, or None if no fade applies."""
    env = None
    if clip.fade_in:
        # The fade-in curve starts fade_in_offset frames before the clip.
        fi_start = clip.position - clip.fade_in_offset
        fi_end = fi_start + clip.fade_in
        if a < fi_end:
            k = min(b, fi_end) - a
            env = np.ones(b - a, np.float32)
            env[:k] = fade_envelope(clip.fade_in_shape, clip.fade_in, a - fi_start, k, True)
    if clip.fade_out:
        # The fade-out curve ends fade_out_offset frames after the clip.
        fo_start = clip.end + clip.fade_out_offset - clip.fade_out
        if b > fo_start:
            s = max(a, fo_start)
            if env is None:
                env = np.ones(b - a, np.float32)
            env[s - a :] *= fade_envelope(clip.fade_out_shape, clip.fade_out, s - fo_start, b - s, False)
    return env


def render_clip_into(out: np.ndarray, clip: Clip, start: int, gains: tuple[float, float]) -> None:
    """Add ``clip``'s contribution over [start, start + out.shape[1]) into stereo ``out``."""
    frames = out.shape[1]
    a = max(start, clip.position)
    b = min(start + frames, clip.end)
    if b <= a:
        return
    src0 = clip.offset + (a - clip.position)
    g = db_to_gain(clip.gain_db)
    gc = np.array([[g * gains[0]], [g * gains[1]]], np.float32)  # per output channel
    if not gc.any():
        return
    env = clip_envelope(clip, a, b)
    dst = out[:, a - start : b - start]
    for pos, seg in clip.audio.iter_segments(src0, src0 + (b - a)):
        if seg.block.is_silent:
            continue
        x = seg.block.read(seg.start, seg.stop)
        o = pos - src0
        n = seg.frames
        d = dst[:, o : o + n]
        w = gc if env is None else gc * env[o : o + n]
        # One multiply into a reused scratch buffer and one in-place add: no
        # temporaries, so a long render touches no fresh memory.
        tmp = _scratch(n)
        np.multiply(x[0] if x.shape[0] == 1 else x[:OUT_CHANNELS], w, out=tmp)
        np.add(d, tmp, out=d)
        seg.block.release(seg.start, seg.stop)  # keeps resident memory flat on long renders


_local = threading.local()


def _scratch(frames: int) -> np.ndarray:
    """A per-thread (2, frames) float32 work buffer (playback and export render in different threads)."""
    buf = getattr(_local, "buf", None)
    if buf is None or buf.shape[1] < frames:
        buf = np.empty((OUT_CHANNELS, max(frames, 1 << 16)), np.float32)
        _local.buf = buf
    return buf[:, :frames]


def render(
    project: Project,
    start: int,
    frames: int,
    out: np.ndarray | None = None,
    tracks: Iterable[Track] | None = None,
    track_outputs: dict[str, np.ndarray] | None = None,
    master: bool = True,
) -> np.ndarray:
    """Render timeline frames [start, start + frames) to planar stereo float32.

    ``tracks`` overrides which tracks play (default: :func:`audible_tracks`).
    If ``track_outputs`` is a dict, each rendered track's own post-fader, post-pan
    signal is stored in it by track id (for meters and stem export).
    ``master=False`` leaves out the master gain.
    """
    if out is None:
        out = np.zeros((OUT_CHANNELS, frames), np.float32)
    else:
        out[...] = 0.0
    if frames <= 0:
        return out
    mg = db_to_gain(project.master_gain_db) if master else 1.0
    for track in audible_tracks(project) if tracks is None else tracks:
        tg = db_to_gain(track.gain_db)
        pl, pr = pan_gains(track.pan)
        if track_outputs is not None:
            buf = np.zeros((OUT_CHANNELS, frames), np.float32)
            for clip in _overlapping(track, start, start + frames):
                render_clip_into(buf, clip, start, (tg * pl, tg * pr))
            track_outputs[track.id] = buf
            if mg == 1.0:
                out += buf
            else:
                out += buf * np.float32(mg)
        else:
            for clip in _overlapping(track, start, start + frames):
                render_clip_into(out, clip, start, (tg * pl * mg, tg * pr * mg))
    return out


def _overlapping(track: Track, a: int, b: int) -> Iterable[Clip]:
    for c in track.clips:
        if c.position >= b:
            break
        if c.end > a:
            yield c


def render_chunks(project: Project, start: int, stop: int, chunk: int = 1 << 16, **kw):
    """Yield (position, stereo chunk) over [start, stop)."""
    buf = np.zeros((OUT_CHANNELS, chunk), np.float32)
    pos = start
    while pos < stop:
        n = min(chunk, stop - pos)
        yield pos, render(project, pos, n, out=buf[:, :n], **kw)
        pos += n
