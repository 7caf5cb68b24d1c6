"""Fill and Extend on the project model: targets, the background computation, and the edits.

Qt-free (the GUI is :mod:`.fill` and :mod:`.fill_session`), so it runs on a
worker thread and is tested without a display.

* :func:`fill_target` turns a time selection into a :class:`FillTarget`: the region
  in the clip's audio coordinates plus the window of context read for the engines.
  A selection that is not strictly inside one clip, too long for the material
  around it, or at the clip's very edge gets a clear :class:`EditError`.
* :func:`compute_fill` / :func:`compute_extend` run the plugin's candidates on a
  worker thread and store each take's audio as blocks (:class:`Prepared`), so
  auditioning and applying use the very same samples.
* :func:`apply_fill` / :func:`apply_extend` are the edits (pure ``Project ->
  Project``); they refuse when the clip changed since the takes were made.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from editor.core import edits
from editor.core.errors import EditError
from editor.core.model import Clip, Project, Selection
from editor.core.sequence import AudioSeq
from editor.core.store import BlockStore, default_store
from editor.core.task import TaskContext
from editor.effects import device as devices

CONTEXT_SECONDS = 20.0  # context read on each side of the region (at least; twice the region when longer)
MAX_FILL_SECONDS = 60.0
MAX_EXTRA_SECONDS = 180.0  # at most this much of the rest of the track is searched ("whole track")
EXTRA_GUARD_SECONDS = 0.1  # silence between pieces of the extra material
EXTEND_ANALYSE_SECONDS = 60.0  # the clip's last (first) seconds that Extend looks for a loop in
MAX_EXTEND_SECONDS = 600.0

# Short names for job titles, take rows and history labels (each take's own label says whether
# the neural engine started from the fill prior); the Fill panel's engine menu describes them.
ENGINE_NAMES = {"auto": "Auto", "ar": "Interpolation (AR)", "match": "Context match", "neural": "Neural",
                "loop": "Loop"}


def seconds(frames: int, rate: int) -> str:
    return f"{frames / rate:.3f} s"


# --------------------------------------------------------------------------- targets


@dataclass(frozen=True)
class FillTarget:
    """A region of one clip to fill: ``[start, stop)`` in the clip's audio coordinates.

    ``[w0, w1)`` (audio coordinates, inside the clip's window) is the context the
    engines get; ``audio`` is the clip's audio when the target was taken.
    """

    track_id: str
    clip_id: str
    clip_name: str
    audio: AudioSeq
    rate: int
    start: int
    stop: int
    w0: int
    w1: int
    position: int  # the clip's timeline position and offset, to map audio frames to the timeline
    offset: int
    extra_frames: int = 0  # material from the rest of the track (0: not searched)

    @property
    def frames(self) -> int:
        return self.stop - self.start

    def timeline(self, audio_frame: int) -> int:
        return self.position + audio_frame - self.offset

    def describe(self, fmt: Callable[[int, int], str] | None = None) -> str:
        """Where the region is; ``fmt(frames, rate)`` formats times (default: seconds)."""
        a, b = self.timeline(self.start), self.timeline(self.stop)
        if fmt is not None:
            return f"{fmt(a, self.rate)}–{fmt(b, self.rate)} ({fmt(self.frames, self.rate)}) in “{self.clip_name}”"
        return (f"{a / self.rate:.3f}–{b / self.rate:.3f} s ({seconds(self.frames, self.rate)}) "
                f"in “{self.clip_name}”")


def _clip_name(clip: Clip) -> str:
    return clip.name or "clip"


def fill_target(project: Project, sel: Selection, whole_track: bool = False) -> FillTarget:
    """The clip region a time selection asks to fill; raises EditError with a message for the user."""
    if sel.empty:
        raise EditError("Select the region to fill first: drag across it on a track")
    if len(sel.track_ids) > 1:
        raise EditError("Select the region on one track only: Fill works on one clip at a time")
    rate = project.sample_rate
    try:
        track = project.track(sel.track_ids[0])
    except KeyError:
        raise EditError("The selected track is gone") from None
    touching = [c for c in track.clips if c.position < sel.stop and c.end > sel.start]
    if not touching:
        raise EditError("There is no audio in the selection to fill around")
    if len(touching) > 1:
        raise EditError("The region must lie inside one clip (it runs across the gap between clips)")
    clip = touching[0]
    if sel.start <= clip.position or sel.stop >= clip.end:
        edge = "start" if sel.start <= clip.position else "end"
        hint = "before its start" if edge == "start" else "after its end"
        raise EditError(f"The region reaches the clip's {edge}: Fill needs audio on both sides of it. "
                        f"To add audio {hint}, use Extend Clip…")
    n = sel.stop - sel.start
    if n > MAX_FILL_SECONDS * rate:
        raise EditError(f"The region is {seconds(n, rate)} long: Fill works on regions up to "
                        f"{MAX_FILL_SECONDS:g} s")
    a = clip.offset + sel.start - clip.position
    b = a + n
    ctx = int(max(CONTEXT_SECONDS * rate, 2 * n))
    w0, w1 = max(clip.offset, a - ctx), min(clip.offset + clip.length, b + ctx)
    extra = sum(stop - start for _c, start, stop in _extra_pieces(project, track.id, clip, w0, w1)) \
        if whole_track else 0
    extra = min(extra, int(MAX_EXTRA_SECONDS * rate))
    around = (w1 - w0) - n + extra
    if around < 2 * n:
        more = "" if whole_track else ", or tick “Search the whole track”"
        raise EditError(f"The region ({seconds(n, rate)}) is too long for the audio around it "
                        f"({seconds(around, rate)}): Fill needs at least twice the region's length of material. "
                        f"Select a shorter region{more}")
    return FillTarget(track.id, clip.id, _clip_name(clip), clip.audio, rate, a, b, w0, w1, clip.position,
                      clip.offset, extra)


def _extra_pieces(project: Project, track_id: str, clip: Clip, w0: int, w1: int) -> list[tuple[Clip, int, int]]:
    """(clip, audio start, audio stop) of the track's audio outside the context window, nearest first."""
    pieces = []
    if w0 > clip.offset:
        pieces.append((0, clip, clip.offset, w0))
    if w1 < clip.offset + clip.length:
        pieces.append((0, clip, w1, clip.offset + clip.length))
    for c in project.track(track_id).clips:
        if c.id != clip.id:
            distance = c.position - clip.end if c.position >= clip.end else clip.position - c.end
            pieces.append((max(0, distance), c, c.offset, c.offset + c.length))
    pieces.sort(key=lambda p: p[0])
    return [(c, a, b) for _d, c, a, b in pieces]


def _as_channels(x: np.ndarray, channels: int) -> np.ndarray:
    if x.shape[0] == channels:
        return x
    mono = x.mean(axis=0, keepdims=True)
    return np.repeat(mono, channels, axis=0)


@dataclass(frozen=True)
class Piece:
    """Where a stretch of the extra material came from: ``frames`` frames at ``offset`` in the
    extra array are the clip ``name`` from timeline frame ``timeline``."""

    offset: int
    frames: int
    timeline: int
    name: str


def read_extra(project: Project, target: FillTarget, ctx: TaskContext) -> tuple[np.ndarray | None, list[Piece]]:
    """The rest of the track as one planar array (pieces joined by short silences), and its pieces."""
    if target.extra_frames <= 0:
        return None, []
    track, clip = project.find_clip(target.clip_id)
    channels = clip.channels
    guard = np.zeros((channels, int(EXTRA_GUARD_SECONDS * target.rate)), np.float32)
    budget = target.extra_frames
    out: list[np.ndarray] = []
    pieces: list[Piece] = []
    at = 0
    for c, a, b in _extra_pieces(project, track.id, clip, target.w0, target.w1):
        if budget <= 0:
            break
        ctx.check()
        b = min(b, a + budget)
        out += [_as_channels(c.audio.read(a, b), channels), guard]
        pieces.append(Piece(at, b - a, c.position + a - c.offset, _clip_name(c)))
        at += b - a + guard.shape[1]
        budget -= b - a
    return (np.concatenate(out[:-1], axis=1) if out else None), pieces


def _relabel(take: Any, target: FillTarget, pieces: list[Piece]) -> Any:
    """A match take's source said in timeline seconds and by clip name (the engine counts from its input)."""
    secs = take.params.get("source_seconds")
    if take.engine != "match" or secs is None:
        return take
    frame = int(round(secs * target.rate))
    if take.params.get("source") == "clip":
        at, name = target.timeline(target.w0 + frame), target.clip_name
    else:
        piece = next((p for p in pieces if p.offset <= frame < p.offset + p.frames), None)
        if piece is None:
            return take
        at, name = piece.timeline + frame - piece.offset, piece.name
    params = {**take.params, "source_timeline_s": round(at / target.rate, 4), "source_clip": name}
    return replace(take, label=f"Material from {at / target.rate:.3f} s (“{name}”)", params=params)


@dataclass(frozen=True)
class ExtendTarget:
    """A clip to extend by ``frames`` at its ``direction`` ("end" or "start").

    ``[w0, w1)`` (audio coordinates) is the part of the clip the loop search reads:
    its last (first) :data:`EXTEND_ANALYSE_SECONDS`."""

    track_id: str
    clip_id: str
    clip_name: str
    audio: AudioSeq
    rate: int
    frames: int
    direction: str
    w0: int
    w1: int


def extend_target(project: Project, clip_id: str, secs: float, direction: str) -> ExtendTarget:
    rate = project.sample_rate
    if direction not in ("end", "start"):
        raise EditError(f"Extend at the end or the start (got {direction!r})")
    k = int(round(secs * rate))
    if k <= 0:
        raise EditError("Extend by more than zero seconds")
    if secs > MAX_EXTEND_SECONDS:
        raise EditError(f"Extend works up to {MAX_EXTEND_SECONDS:g} s at a time")
    try:
        track, clip = project.find_clip(clip_id)
    except KeyError:
        raise EditError("The clip to extend is gone") from None
    if clip.length < int(0.25 * rate):
        raise EditError("The clip is too short to extend (at least 0.25 s)")
    n = min(clip.length, int(EXTEND_ANALYSE_SECONDS * rate))
    lo, hi = clip.offset, clip.offset + clip.length
    w0, w1 = (hi - n, hi) if direction == "end" else (lo, lo + n)
    return ExtendTarget(track.id, clip.id, _clip_name(clip), clip.audio, rate, k, direction, w0, w1)


def clip_for_extend(project: Project, clip_ids: tuple[str, ...], track_ids: tuple[str, ...],
                    frame: int) -> str | None:
    """The clip Extend works on: the first selected clip, else the one at ``frame`` on the selected track."""
    for cid in clip_ids:
        try:
            project.find_clip(cid)
            return cid
        except KeyError:
            continue
    for tid in track_ids:
        try:
            track = project.track(tid)
        except KeyError:
            continue
        for c in track.clips:
            if c.position <= frame < c.end:
                return c.id
        if len(track.clips) == 1:
            return track.clips[0].id
    return None


# --------------------------------------------------------------------------- computing takes


@dataclass(frozen=True)
class Prepared:
    """One take, ready to audition and apply: its audio as blocks, replacing audio frames [start, stop)."""

    take: Any  # seedwave_plugins.fill.Take
    seq: AudioSeq
    start: int
    stop: int

    @property
    def engine(self) -> str:
        return str(self.take.engine)


def _prepare(takes: list, w0: int, channels: int, store: BlockStore) -> list[Prepared]:
    out = []
    for t in takes:
        seq = AudioSeq.from_blocks(store.blocks_from_array(np.ascontiguousarray(t.audio, np.float32)), channels)
        out.append(Prepared(t, seq, w0 + t.start, w0 + t.stop))
    return out


def compute_fill(project: Project, target: FillTarget, engine: str, n_takes: int, ctx: TaskContext,
                 neural_steps: int | None = None, policy: str = "auto", store: BlockStore | None = None,
                 neural_prior: bool = True) -> list[Prepared]:
    """Ranked takes for the target (worker thread).

    ``neural_steps``: fine-tuning steps of the fill prior (``neural_prior``), or training steps
    from scratch without it; None takes the engine's default for the mode.
    """
    from .. import FillOptions, candidates

    store = store or default_store()
    ctx.progress(0.0, "Fill: reading the audio")
    x = target.audio.read(target.w0, target.w1)
    extra, pieces = read_extra(project, target, ctx)
    device = devices.resolve_device(engine == "neural", policy, ctx.warn, "Fill (neural engine)")
    a = (target.start - target.w0) / target.rate
    b = (target.stop - target.w0) / target.rate

    def run(dev: str) -> list:
        opts = FillOptions(neural_steps=neural_steps, device=dev, neural_prior=neural_prior)
        return candidates(x, target.rate, a, b, engine, n_takes, ctx, options=opts, extra=extra)

    takes = [_relabel(t, target, pieces) for t in devices.run_with_cpu_fallback(run, device, ctx.warn, "Fill")]
    if not takes:
        raise EditError("No fill could be made for this region")
    ctx.check()
    return _prepare(takes, target.w0, x.shape[0], store)


def compute_extend(target: ExtendTarget, n_takes: int, ctx: TaskContext,
                   store: BlockStore | None = None) -> list[Prepared]:
    from .. import extend_candidates

    store = store or default_store()
    ctx.progress(0.0, "Extend: reading the clip")
    x = target.audio.read(target.w0, target.w1)
    takes = extend_candidates(x, target.rate, target.frames / target.rate, target.direction, n_takes, ctx)
    ctx.check()
    return _prepare(takes, target.w0, x.shape[0], store)


# --------------------------------------------------------------------------- the edits


def _current_clip(project: Project, clip_id: str, audio: AudioSeq) -> tuple[Any, Clip]:
    try:
        track, clip = project.find_clip(clip_id)
    except KeyError:
        raise EditError("The clip these takes were made for is gone: run it again") from None
    if clip.audio is not audio and clip.audio != audio:
        raise EditError("The clip has changed since these takes were made: undo that change, or run it again")
    return track, clip


def apply_fill(project: Project, target: FillTarget, p: Prepared) -> Project:
    """The project with the take's audio in place of the region (and its short cross-fades)."""
    _current_clip(project, target.clip_id, target.audio)
    return edits.replace_clip_audio(project, target.clip_id, p.start, p.stop, p.seq)


def apply_extend(project: Project, target: ExtendTarget, p: Prepared) -> tuple[Project, int]:
    """The project with the clip extended by the take; returns it and how far later clips moved (frames).

    At the end the clip grows to the right; later clips on the track move only as
    far as needed not to overlap it. At the start the clip grows to the left into
    free space, so its audio stays in time with the other tracks; where there is not
    enough room, the clip and the clips after it move right by the shortfall.
    """
    track, clip = _current_clip(project, target.clip_id, target.audio)
    delta = p.seq.frames - (p.stop - p.start)
    audio = clip.audio.splice(p.start, p.stop, p.seq)
    position, shift = extend_placement(project, clip.id, delta, target.direction)
    new = clip.with_(audio=audio, length=clip.length + delta, position=position)
    others = [c.with_(position=c.position + shift) if shift and c.position >= clip.end else c
              for c in track.clips if c.id != clip.id]
    return project.replace_track(track.with_(clips=(new, *others))), shift


def extend_placement(project: Project, clip_id: str, frames: int, direction: str) -> tuple[int, int]:
    """Where a clip grown by ``frames`` at ``direction`` starts, and how far later clips on its track move."""
    track, clip = project.find_clip(clip_id)
    others = [c for c in track.clips if c.id != clip.id]
    if direction == "end":
        nxt = min((c.position for c in others if c.position >= clip.end), default=None)
        return clip.position, (max(0, clip.end + frames - nxt) if nxt is not None else 0)
    prev_end = max((min(c.end, clip.position) for c in others if c.position < clip.position), default=0)
    left = min(frames, clip.position - prev_end)
    return clip.position - left, frames - left


def fill_meta(target: FillTarget, p: Prepared, requested: str, n_takes: int, neural_steps: int | None,
              neural_prior: bool = True) -> dict[str, Any]:
    """What the history records about a committed fill.

    A take from the fill prior brings the prior's provenance (``model``: weights file,
    SHA-256, training step and commit, model card); its SHA-256 is also ``model_sha256``,
    as for the effects that use a model file.
    """
    t = p.take
    params: dict[str, Any] = {"engine": requested, "takes": n_takes,
                              "region_s": [round(target.timeline(target.start) / target.rate, 4),
                                           round(target.timeline(target.stop) / target.rate, 4)],
                              "whole_track": target.extra_frames > 0}
    if requested == "neural":
        params["neural_steps"] = neural_steps
        params["neural_prior"] = bool(neural_prior)
    meta = {"effect": "fill", "engine": t.engine, "take": int(t.index) + 1, "params": params,
            "label": t.label, "score": round(float(t.score), 5),
            "replaced_s": [round(target.timeline(p.start) / target.rate, 4),
                           round(target.timeline(p.stop) / target.rate, 4)]}
    meta.update({k: v for k, v in t.params.items() if k not in meta})
    model = t.params.get("model")
    if isinstance(model, dict) and model.get("sha256"):
        meta["model_sha256"] = model["sha256"]
    return meta


def extend_meta(target: ExtendTarget, p: Prepared, moved: int) -> dict[str, Any]:
    t = p.take
    meta = {"effect": "extend", "engine": t.engine, "take": int(t.index) + 1,
            "params": {"seconds": round(target.frames / target.rate, 4), "direction": target.direction},
            "label": t.label, "score": round(float(t.score), 5), "moved_s": round(moved / target.rate, 4)}
    meta.update({k: v for k, v in t.params.items() if k not in meta})
    return meta
