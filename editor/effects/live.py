"""Effects as live inserts: the processor factory the renderer uses, and baking.

The engine runs insert chains through a factory it is given (see
:mod:`editor.engine.inserts`); this module is that factory. It resolves a
chain step's effect id through the registry and builds a streaming processor:

* an effect with ``make_board(params, sample_rate)`` returns a pedalboard
  ``Pedalboard`` (or one plugin); it runs with ``reset=False`` so its state
  flows from block to block. A parameter change is applied in place: a new
  board is built from the new parameters and its plugins' settings are copied
  onto the running ones (same structure), so reverb tails and compressor
  envelopes carry on. ``board_latency(params, sample_rate)`` (optional) gives
  its latency in frames; ``update_board(board, params, sample_rate)``
  (optional) replaces the generic in-place update.
* an effect with ``stream(params, sample_rate)`` returns its own
  :class:`~editor.engine.inserts.StepProcessor` (hand-written streaming DSP).
* an effect with ``stateless = True`` processes each block independently
  (a plain gain or polarity flip): ``process`` is called per block.

Anything else (the AI effects: separation, fill, learned denoise need the
whole signal or seconds of context) is refused as an insert with a message
that says to apply it to clips instead.

:func:`bake_track` renders a track's clips through its chain and replaces them
in one undo step ("Apply" in the mixer).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.chain import Chain, ChainStep
from ..core.insert_edits import bake_chain
from ..core.model import Clip, Project, Track
from ..core.sequence import AudioSeq
from ..core.store import BlockStore, default_store
from ..core.task import TaskContext
from ..engine.inserts import InsertError, StepProcessor, install_factory
from .base import Effect, EffectContext, EffectError

CHUNK = 1 << 16


def _effect(effect_id: str) -> Effect:
    from .registry import registry

    try:
        return registry().get(effect_id)
    except EffectError as exc:
        raise InsertError(str(exc)) from None


def live_support(effect: Effect | type[Effect]) -> str:
    """How an effect runs as an insert: "board", "stream", "stateless", or "" (it cannot).
    An effect can opt out with ``streaming = False``."""
    if getattr(effect, "streaming", None) is False:
        return ""
    if callable(getattr(effect, "make_board", None)):
        return "board"
    if callable(getattr(effect, "stream", None)):
        return "stream"
    if getattr(effect, "stateless", False):
        return "stateless"
    return ""


def check_insert(effect_id: str) -> None:
    """Raise :class:`InsertError` with a one-line reason if the effect cannot be an insert."""
    eff = _effect(effect_id)
    if not live_support(eff):
        raise InsertError(f"{eff.title or effect_id} cannot run live on a track: it needs the whole "
                          "recording at once; apply it to clips instead (Effects menu)")


def live_effect_ids() -> list[str]:
    """Ids of the effects that can be inserted on a track (for the mixer's Add menu)."""
    from .registry import registry

    return [cls.id for cls in registry().classes() if live_support(cls)]


# --------------------------------------------------------------------------- processors


def _plugins(obj: Any) -> list[Any]:
    """The leaf plugins of a pedalboard object, in order (containers opened)."""
    import pedalboard

    if isinstance(obj, pedalboard.Pedalboard | pedalboard.Chain | pedalboard.Mix):
        out: list[Any] = []
        for p in obj:
            out.extend(_plugins(p))
        return out
    return [obj]


def _settable(plugin: Any) -> list[str]:
    """Names of a plugin's writable settings (pedalboard exposes them as properties)."""
    cls = type(plugin)
    return [n for n in dir(cls) if not n.startswith("_")
            and isinstance(getattr(cls, n, None), property) and getattr(cls, n).fset is not None]


def copy_settings(dst: Any, src: Any) -> bool:
    """Copy every setting of board ``src`` onto board ``dst`` of the same structure;
    False (nothing changed) if the structures differ."""
    a, b = _plugins(dst), _plugins(src)
    if len(a) != len(b) or any(type(x) is not type(y) for x, y in zip(a, b, strict=True)):
        return False
    for x, y in zip(a, b, strict=True):
        for name in _settable(y):
            value = getattr(y, name)
            if getattr(x, name) != value:
                setattr(x, name, value)
    return True


class BoardProcessor:
    """A pedalboard board streamed block by block (``reset=False``).

    A board without latency is fed the caller's blocks as they come (its output
    does not depend on where the blocks end). A board that declares a latency
    (``board_latency``) is fed fixed blocks of :attr:`FIXED_BLOCK` frames, because
    how much pedalboard holds back at the start of a stream can depend on the
    block sizes (Rubber Band pitch shifting); its delay is then the declared
    latency plus ``FIXED_BLOCK - 1`` frames whatever blocks the renderer uses, and
    that is the latency it reports, so the renderer keeps it aligned.
    """

    FIXED_BLOCK = 1024

    def __init__(self, effect: Effect, params: dict[str, Any], sample_rate: int) -> None:
        self.effect = effect
        self.sample_rate = sample_rate
        self.board = effect.make_board(params, sample_rate)  # type: ignore[attr-defined]
        self._declared = self._latency(params)
        self._queue: np.ndarray | None = None  # output beyond what the last block asked for
        self._pending: np.ndarray | None = None  # input short of a whole fixed block
        self._held = 0
        self.latency = self._declared
        if self._declared > 0:
            self._held = self._held_back(params)
            self.latency = self._declared + self.FIXED_BLOCK - 1
        self._pad = self._held + self.FIXED_BLOCK - 1 if self._declared > 0 else 0  # the queue never runs dry

    def _latency(self, params: dict[str, Any]) -> int:
        fn = getattr(self.effect, "board_latency", None)
        return int(fn(params, self.sample_rate)) if callable(fn) else 0

    def _held_back(self, params: dict[str, Any]) -> int:
        """Frames pedalboard holds back when a fresh board is fed fixed blocks
        (measured on a second board: fed minus returned, a few blocks after the
        first output)."""
        board = self.effect.make_board(params, self.sample_rate)  # type: ignore[attr-defined]
        silence = np.zeros((2, self.FIXED_BLOCK), np.float32)
        fed = got = 0
        after = 0
        while after < 4 and fed < 30 * self.sample_rate:
            got += board(silence, float(self.sample_rate), buffer_size=self.FIXED_BLOCK, reset=False).shape[1]
            fed += self.FIXED_BLOCK
            after += got > 0
        return fed - got

    def process(self, x: np.ndarray) -> np.ndarray:
        if self._declared > 0:
            return self._process_fixed(x)
        channels, n = x.shape
        block = np.ascontiguousarray(x, np.float32)
        if n <= channels:
            # Pedalboard tells channels from frames by the shape; a block this small
            # (only ever the last one of a range) is padded with silence to stay unambiguous.
            block = np.pad(block, ((0, 0), (0, channels + 1 - n)))
        y = np.asarray(self.board(block, float(self.sample_rate), reset=False), np.float32)
        if y.shape[1] > n and n <= channels:
            y = y[:, :n]
        return self._emit(y, channels, n)

    def _emit(self, y: np.ndarray, channels: int, n: int) -> np.ndarray:
        """``n`` frames from what the board returned so far (queued beyond, silence before)."""
        if self._queue is not None:
            y = np.concatenate([self._queue, y], axis=1)
            self._queue = None
        if y.shape[1] < n:
            # Pedalboard holds back a plugin's own latency at the start of a stream
            # (short blocks until primed); silence in front keeps every block full size.
            y = np.concatenate([np.zeros((channels, n - y.shape[1]), np.float32), y], axis=1)
        elif y.shape[1] > n:
            self._queue = y[:, n:]
            y = y[:, :n]
        return y

    def _process_fixed(self, x: np.ndarray) -> np.ndarray:
        channels, n = x.shape
        if self._queue is None and self._pad:
            self._queue = np.zeros((channels, self._pad), np.float32)
            self._pad = 0
        data = np.ascontiguousarray(x, np.float32)
        if self._pending is not None:
            data = np.concatenate([self._pending, data], axis=1)
        b = self.FIXED_BLOCK
        whole = data.shape[1] // b * b
        outs = [np.asarray(self.board(data[:, i : i + b], float(self.sample_rate), buffer_size=b, reset=False),
                           np.float32) for i in range(0, whole, b)]
        self._pending = data[:, whole:] if whole < data.shape[1] else None
        y = np.concatenate(outs, axis=1) if outs else np.zeros((channels, 0), np.float32)
        return self._emit(y, channels, n)

    def update(self, step: ChainStep) -> bool:
        params = type(self.effect).resolve_params(step.param_dict)
        if self._latency(params) != self._declared:
            return False
        custom = getattr(self.effect, "update_board", None)
        if callable(custom):
            return bool(custom(self.board, params, self.sample_rate))
        return copy_settings(self.board, self.effect.make_board(params, self.sample_rate))  # type: ignore[attr-defined]

    def reset(self) -> None:
        self.board.reset()
        self._queue = None
        self._pending = None
        self._pad = self._held + self.FIXED_BLOCK - 1 if self._declared > 0 else 0


class StatelessProcessor:
    """An effect whose output for a block depends on that block only."""

    latency = 0

    def __init__(self, effect: Effect, params: dict[str, Any], sample_rate: int) -> None:
        self.effect, self.params, self.sample_rate = effect, params, sample_rate
        self.context = EffectContext()

    def process(self, x: np.ndarray) -> np.ndarray:
        y = self.effect.process(x, self.sample_rate, self.params, self.context)
        return np.asarray(y, np.float32)

    def update(self, step: ChainStep) -> bool:
        self.params = type(self.effect).resolve_params(step.param_dict)
        return True

    def reset(self) -> None:
        pass


def processor_factory(step: ChainStep, sample_rate: int) -> StepProcessor:
    """Build the streaming processor of one chain step (the renderer's factory)."""
    eff = _effect(step.effect_id)
    kind = live_support(eff)
    if not kind:
        check_insert(step.effect_id)
    try:
        params = type(eff).resolve_params(step.param_dict)
    except EffectError as exc:
        raise InsertError(f"{eff.title or step.effect_id}: {exc}") from None
    if kind == "board":
        return BoardProcessor(eff, params, sample_rate)
    if kind == "stream":
        return eff.stream(params, sample_rate)  # type: ignore[attr-defined]
    return StatelessProcessor(eff, params, sample_rate)


def install() -> None:
    """Make this module the renderer's default insert factory (done on import of ``editor.effects``)."""
    install_factory(processor_factory)


# --------------------------------------------------------------------------- bake


def render_through_chain(clip: Clip, chain: Chain, sample_rate: int, store: BlockStore | None = None,
                         ctx: TaskContext | None = None, done: int = 0, total: int = 0) -> AudioSeq:
    """A clip as its track's chain makes it sound (clip gain and fades included),
    as new stereo audio of the clip's length. The chain starts fresh at the clip's start."""
    from ..engine.renderer import render_chunks

    store = store or default_store()
    project = Project(sample_rate=sample_rate, tracks=(Track("bake", (clip,), inserts=chain),))
    w = store.writer(2)
    try:
        for pos, chunk in render_chunks(project, clip.position, clip.end, CHUNK,
                                        factory=processor_factory, master=False):
            w.write(np.ascontiguousarray(chunk, np.float32))
            if ctx is not None:
                ctx.check()
                ctx.progress((done + pos + chunk.shape[1] - clip.position) / max(1, total), "Applying effects")
    except BaseException:
        w.abort()
        raise
    return AudioSeq.from_blocks(w.finish(), 2)


def bake_track(project: Project, track_id: str, ctx: TaskContext | None = None,
               store: BlockStore | None = None) -> Project:
    """Apply a track's insert chain to its clips destructively and empty the chain.

    Each clip is rendered through the chain (clip gain and fades included, so it
    sounds as it did) into new audio; the new clips have no gain or fades. The
    result is one project, so the change is one undo step. Source audio is never
    modified: the new audio lives in new blocks."""
    track = project.track(track_id)
    chain = track.inserts
    if not chain.active:
        return bake_chain(project, track_id, {c.id: c for c in track.clips})
    total = sum(c.length for c in track.clips)
    done = 0
    new: dict[str, Clip] = {}
    for c in track.clips:
        audio = render_through_chain(c, chain, project.sample_rate, store, ctx, done, total)
        new[c.id] = Clip(audio, c.position, name=c.name, id=c.id)
        done += c.length
    return bake_chain(project, track_id, new)
