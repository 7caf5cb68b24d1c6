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
* a track's insert chain (live effects) runs on the sum of its clips, before
  the track gain and pan; the master's insert chain runs on the mix, before the
  master gain;
* master gain last.

Because pan and gains are linear, each clip of a track without inserts is added
straight into the master bus with one combined per-channel gain: no per-track
buffers unless a caller asks for per-track output (meters, stems).

Insert chains keep state (filter memories, reverb tails, compressor envelopes),
so rendering with them is done by a :class:`Renderer` session that is fed
consecutive blocks; playback and export both use one. Each track is read ahead
by its chain's latency (and everything by the master chain's), so chains with
latency stay aligned with the rest of the mix and with the timeline.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ..core.fades import fade_envelope
from ..core.loudness import db_to_gain
from ..core.model import Clip, Project, Track
from .inserts import ChainRunner, InsertError, ProcessorFactory, installed_factory

OUT_CHANNELS = 2
#: Blocks shorter than this are mixed on one thread (handing work over costs more).
PARALLEL_MIN_FRAMES = 8192


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

    A project with insert effects is rendered as if playback started at
    ``start`` (a fresh :class:`Renderer`); to render consecutive blocks with
    the effects' state carried across, keep one :class:`Renderer`.
    """
    if project.has_inserts:
        with Renderer(project, threads=1) as r:
            return r.render(start, frames, out, tracks, track_outputs, master)
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


def render_chunks(project: Project, start: int, stop: int, chunk: int = 1 << 16,
                  factory: ProcessorFactory | None = None, **kw):
    """Yield (position, stereo chunk) over [start, stop), insert effects included
    (one :class:`Renderer` session, so their state flows across chunks)."""
    buf = np.zeros((OUT_CHANNELS, chunk), np.float32)
    pos = start
    with Renderer(project, factory) as r:
        while pos < stop:
            n = min(chunk, stop - pos)
            yield pos, r.render(pos, n, out=buf[:, :n], **kw)
            pos += n


def track_input(track: Track, start: int, frames: int, out: np.ndarray | None = None) -> np.ndarray:
    """A track's clips summed, before its inserts, gain and pan (stereo; mono clips on both sides)."""
    if out is None:
        out = np.zeros((OUT_CHANNELS, frames), np.float32)
    else:
        out[...] = 0.0
    for clip in _overlapping(track, start, start + frames):
        render_clip_into(out, clip, start, (1.0, 1.0))
    return out


def default_threads() -> int:
    """Worker threads for insert chains: pedalboard releases the GIL, so chains
    of different tracks run in parallel, one core each (up to eight)."""
    return max(1, min(8, os.cpu_count() or 1))


class Renderer:
    """A rendering session: the mix with insert chains whose state is carried
    from one block to the next.

    Feed it consecutive ranges (``render(0, n)``, ``render(n, m)``, ...) and the
    result equals one ``render(0, n + m)``. A range that does not follow the
    previous one is a jump (a seek): the chains are reset and primed, as if
    playback started there — unless ``seamless=True``, which keeps their state
    (playback re-rendering a few blocks after an edit, so a parameter change is
    heard at once without a break in reverb tails and envelopes).

    :meth:`set_project` takes an edited project; chains that stay keep their
    state and take new parameters in place.

    ``factory`` builds insert processors (default: the one the effect layer
    installed, see :func:`editor.engine.inserts.install_factory`).
    """

    def __init__(self, project: Project, factory: ProcessorFactory | None = None,
                 threads: int | None = None) -> None:
        self._factory = factory
        self._threads = default_threads() if threads is None else max(1, threads)
        self._pool: ThreadPoolExecutor | None = None
        self._runners: dict[str, ChainRunner] = {}
        self._master: ChainRunner | None = None
        self._side: np.ndarray | None = None  # the worker's half of the plain tracks
        self.project = project
        self.set_project(project)

    # -- lifetime ----------------------------------------------------------------
    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def __enter__(self) -> Renderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- state -------------------------------------------------------------------
    def factory(self) -> ProcessorFactory:
        f = self._factory or installed_factory()
        if f is None:
            raise InsertError("this project has insert effects, but no effect layer is loaded to run them "
                              "(import editor.effects)")
        return f

    def set_project(self, project: Project) -> None:
        """Use ``project`` from the next block on (chains that stay keep their state)."""
        self.project = project
        runners: dict[str, ChainRunner] = {}
        for t in project.tracks:
            if not t.inserts.active:
                continue
            r = self._runners.get(t.id)
            if r is None or r.sample_rate != project.sample_rate:
                r = ChainRunner(t.inserts, project.sample_rate, self.factory())
            else:
                r.set_chain(t.inserts)
            runners[t.id] = r
        self._runners = runners
        if project.master_inserts.active:
            if self._master is None or self._master.sample_rate != project.sample_rate:
                self._master = ChainRunner(project.master_inserts, project.sample_rate, self.factory())
            else:
                self._master.set_chain(project.master_inserts)
        else:
            self._master = None

    @property
    def latency(self) -> int:
        """The largest chain latency (frames the renderer reads ahead)."""
        master = self._master.latency if self._master else 0
        return master + max((r.latency for r in self._runners.values()), default=0)

    def reset(self) -> None:
        """Forget every chain's state (the next block starts fresh)."""
        for r in self._runners.values():
            r.reset()
        if self._master is not None:
            self._master.reset()

    # -- rendering -----------------------------------------------------------------
    def render(self, start: int, frames: int, out: np.ndarray | None = None,
               tracks: Iterable[Track] | None = None, track_outputs: dict[str, np.ndarray] | None = None,
               master: bool = True, seamless: bool = False) -> np.ndarray:
        """Render timeline frames [start, start + frames) (see :func:`render`)."""
        project = self.project
        if out is None:
            out = np.zeros((OUT_CHANNELS, frames), np.float32)
        if frames <= 0:
            out[...] = 0.0
            return out
        playing = audible_tracks(project) if tracks is None else list(tracks)
        mg = db_to_gain(project.master_gain_db) if master else 1.0
        m = self._master
        if m is None:
            self._mix(playing, start, frames, out, track_outputs, mg)
            return out
        lat = m.latency
        want = start + lat
        if m.next_in != want and not (seamless and m.next_in is not None):
            m.reset()
            if lat:
                m.process(self._mix(playing, start, lat, None, None, 1.0, seamless))
        self._mix(playing, want, frames, out, track_outputs, 1.0, seamless)
        out[...] = m.process(out)
        m.next_in = want + frames
        if mg != 1.0:
            out *= np.float32(mg)
        return out

    def _mix(self, playing: list[Track], start: int, frames: int, out: np.ndarray | None,
             track_outputs: dict[str, np.ndarray] | None, mg: float, seamless: bool = False) -> np.ndarray:
        """Tracks' outputs for timeline frames [start, start + frames), summed into ``out``."""
        if out is None:
            out = np.zeros((OUT_CHANNELS, frames), np.float32)
        else:
            out[...] = 0.0
        live = [t for t in playing if t.id in self._runners]
        jobs = []
        if live:
            if self._threads > 1 and len(live) > 1:
                pool = self._pool_()
                jobs = [pool.submit(self._run_track, t, start, frames, seamless) for t in live]
            else:
                jobs = [_Done(self._run_track(t, start, frames, seamless)) for t in live]
        dry = [t for t in playing if t.id not in self._runners]
        side = None
        if (self._threads > 1 and track_outputs is None and len(dry) >= 4
                and frames >= PARALLEL_MIN_FRAMES):
            # Half the plain tracks are mixed in a worker (numpy releases the GIL).
            half = len(dry) // 2
            side = self._pool_().submit(self._dry_side, dry[half:], start, frames, mg)
            dry = dry[:half]
        _mix_dry(out, dry, start, frames, track_outputs, mg)
        if side is not None:
            out += side.result()
        for track, job in zip(live, jobs, strict=True):
            y = job.result()
            tg = db_to_gain(track.gain_db)
            pl, pr = pan_gains(track.pan)
            y *= np.array([[tg * pl], [tg * pr]], np.float32)
            if track_outputs is not None:
                track_outputs[track.id] = y
            out += y if mg == 1.0 else y * np.float32(mg)
        return out

    def _pool_(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="seedwave-mix")
        return self._pool

    def _dry_side(self, tracks: list[Track], start: int, frames: int, mg: float) -> np.ndarray:
        if self._side is None or self._side.shape[1] < frames:
            self._side = np.empty((OUT_CHANNELS, frames), np.float32)
        side = self._side[:, :frames]
        side[...] = 0.0
        _mix_dry(side, tracks, start, frames, None, mg)
        return side

    def _run_track(self, track: Track, start: int, frames: int, seamless: bool) -> np.ndarray:
        """One track through its chain, for track-output frames [start, start + frames)."""
        r = self._runners[track.id]
        lat = r.latency
        want = start + lat  # read ahead by the chain's latency: its output lands on time
        if r.next_in != want and not (seamless and r.next_in is not None):
            r.reset()
            if lat:
                r.process(track_input(track, start, lat))
        y = r.process(track_input(track, want, frames))
        r.next_in = want + frames
        return np.array(y, np.float32, copy=True)


def _mix_dry(out: np.ndarray, tracks: list[Track], start: int, frames: int,
             track_outputs: dict[str, np.ndarray] | None, mg: float) -> None:
    """Add tracks without inserts into ``out`` (clips straight onto the bus)."""
    for track in tracks:
        tg = db_to_gain(track.gain_db)
        pl, pr = pan_gains(track.pan)
        if track_outputs is not None:
            buf = np.zeros((OUT_CHANNELS, frames), np.float32)
            for clip in _overlapping(track, start, start + frames):
                render_clip_into(buf, clip, start, (tg * pl, tg * pr))
            track_outputs[track.id] = buf
            out += buf if mg == 1.0 else buf * np.float32(mg)
        else:
            for clip in _overlapping(track, start, start + frames):
                render_clip_into(out, clip, start, (tg * pl * mg, tg * pr * mg))


class _Done:
    """A finished result with the interface of a future."""

    def __init__(self, value: np.ndarray) -> None:
        self.value = value

    def result(self) -> np.ndarray:
        return self.value
