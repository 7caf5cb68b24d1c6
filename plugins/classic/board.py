"""The shared shape of the classic effects that run on Spotify's pedalboard.

Each such effect builds a :class:`pedalboard.Pedalboard` from its parameters
(:meth:`BoardEffect.make_board`). A whole-file run pushes the audio through a
fresh board in one call; the live-insert renderer keeps one board per insert and
calls ``board.process(block, rate, reset=False)`` block after block, so state
(filter memories, envelopes, reverb tails, LFO phase) carries across blocks.
``board_latency`` says how many frames such a streaming board delays its output
(a lookahead limiter, pitch shifting); a one-shot ``process(..., reset=True)``
compensates that itself, so :meth:`BoardEffect.process` returns aligned audio.

``pedalboard`` is imported inside the methods, never at module import, so that
listing effects at start-up stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from editor.effects.base import Effect, EffectContext, EffectError

if TYPE_CHECKING:
    import pedalboard

BLOCK = 8192  # frames per pedalboard call in a whole-file run (progress and cancel between blocks)


def db_to_gain(db: float) -> float:
    return float(10.0 ** (db / 20.0))


def clean(audio: np.ndarray, context: EffectContext, title: str) -> np.ndarray:
    """Planar float32 with non-finite samples set to silence (and a warning)."""
    audio = np.asarray(audio, dtype=np.float32)
    if not np.isfinite(audio).all():
        context.warn(f"{title}: the audio had invalid (NaN or infinite) samples; they were set to silence")
        audio = np.nan_to_num(audio, nan=0.0, posinf=0.0, neginf=0.0)
    return audio


def run_board(board: pedalboard.Pedalboard, audio: np.ndarray, sample_rate: int,
              context: EffectContext, title: str) -> np.ndarray:
    """Stream ``audio`` through ``board`` in blocks with state carried (``reset=False``),
    with progress and cancel between blocks. Pedalboard holds back the first frames of
    a plugin with latency (it returns short blocks until primed), so silence is fed
    after the input until the output is as long as the input: the result is aligned
    with the input and has exactly its length."""
    channels, n = audio.shape
    if n == 0:
        return audio.copy()
    parts: list[np.ndarray] = []
    got = 0
    board.reset()
    a = 0
    silence = np.zeros((channels, BLOCK), np.float32)
    flush_blocks = 0
    while got < n:
        context.check()
        if a < n:
            block = np.ascontiguousarray(audio[:, a:a + BLOCK])
            a += block.shape[1]
        else:
            block = silence
            flush_blocks += 1
            if flush_blocks > 64:  # over 10 s of latency at 48 kHz: something is wrong
                raise EffectError(f"{title}: the effect returned too little audio")
        if block.shape[1] <= channels:  # pedalboard guesses the layout from the shape; keep it unambiguous
            block = np.pad(block, ((0, 0), (0, channels + 1 - block.shape[1])))
        y = np.asarray(board.process(block, float(sample_rate), buffer_size=BLOCK, reset=False), np.float32)
        y = y.reshape(channels, -1)
        parts.append(y)
        got += y.shape[1]
        context.progress(min(1.0, got / n), title)
    out = np.concatenate(parts, axis=1)
    return np.ascontiguousarray(out[:, :n])


class BoardEffect(Effect):
    """An effect whose DSP is a pedalboard chain built from its parameters.

    Streaming contract (used by the live-insert renderer, see
    ``/docs`` of the chain renderer): ``streaming`` is True; ``make_board(params,
    sample_rate)`` returns a new, independent ``pedalboard.Pedalboard``;
    ``board_latency(params, sample_rate)`` returns the frames of delay it adds
    when streamed with ``reset=False``.
    """

    category: ClassVar[str] = "Effect"
    streaming: ClassVar[bool] = True
    chunk_seconds: ClassVar[float | None] = 60.0
    overlap_seconds: ClassVar[float] = 1.0
    licence: ClassVar[str] = "pedalboard: GPL-3.0 (JUCE)"

    def plugins(self, params: dict[str, Any], sample_rate: int) -> list[Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def make_board(self, params: dict[str, Any], sample_rate: int) -> pedalboard.Pedalboard:
        """A fresh pedalboard for these parameters (validated against the schema)."""
        import pedalboard

        return pedalboard.Pedalboard(self.plugins(self.resolve_params(params), sample_rate))

    def board_latency(self, params: dict[str, Any], sample_rate: int) -> int:
        """Frames of delay the board adds when streamed with ``reset=False`` (0 for most)."""
        return 0

    def process(self, audio: np.ndarray, sample_rate: int, params: dict[str, Any],
                context: EffectContext) -> np.ndarray:
        audio = clean(audio, context, self.title)
        if audio.ndim != 2:
            raise EffectError(f"{self.title}: expected planar audio (channels x frames)")
        board = self.make_board(params, sample_rate)
        return run_board(board, audio, sample_rate, context, self.title)
