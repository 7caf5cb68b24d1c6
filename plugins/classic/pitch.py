"""Pitch shift and tempo change through Rubber Band (pedalboard's ``time_stretch``).

A whole-input run uses Rubber Band's offline stretcher (``pedalboard.time_stretch``),
which sees all of the audio and gives the best quality; both effects therefore
take their input in one piece (``chunk_seconds = None``). ``tempo`` changes the
length: the runner and the apply step replace the selection with the longer or
shorter audio (``changes_length``). Neither runs as a live insert: ``tempo``
cannot (a track cannot play faster than time runs), and ``pitch`` through
``pedalboard.PitchShift`` (Rubber Band's real-time mode) gave silence when
streamed in the renderer's blocks, so it is applied to clips.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from editor.effects.base import Effect, EffectContext, EffectError, Param

from .board import BoardEffect, clean

TRANSIENTS = ("crisp", "mixed", "smooth")
TRANSIENT_LABELS = ("Crisp (drums, speech)", "Mixed", "Smooth (pads, strings)")


def _transients() -> Param:
    return Param("transients", "choice", "crisp", choices=TRANSIENTS, choice_labels=TRANSIENT_LABELS,
                 label="Transients", help="how attacks are treated: crisp keeps them sharp, smooth avoids phasiness")


def stretch(audio: np.ndarray, sample_rate: int, speed: float, semitones: float, transients: str,
            formants: bool) -> np.ndarray:
    """Rubber Band offline: ``speed`` > 1 makes the audio shorter; pitch moves by ``semitones``."""
    import pedalboard

    if audio.shape[1] == 0:
        return audio.copy()
    y = pedalboard.time_stretch(np.ascontiguousarray(audio, dtype=np.float32), float(sample_rate),
                                stretch_factor=float(speed), pitch_shift_in_semitones=float(semitones),
                                high_quality=True, transient_mode=transients, preserve_formants=formants)
    return np.asarray(y, dtype=np.float32).reshape(audio.shape[0], -1)


class PitchEffect(BoardEffect):
    """Change the pitch, keep the duration."""

    id: ClassVar[str] = "pitch"
    title: ClassVar[str] = "Pitch shift"
    category: ClassVar[str] = "Pitch and time"
    description: ClassVar[str] = "Raise or lower the pitch without changing the duration (Rubber Band)."
    chunk_seconds: ClassVar[float | None] = None
    # Not offered as a live insert: pedalboard's streaming PitchShift answered only
    # silence when fed the renderer's blocks (tested), so pitch is applied to clips.
    streaming: ClassVar[bool] = False
    licence: ClassVar[str] = "pedalboard: GPL-3.0; Rubber Band: GPL-2.0-or-later"
    params: ClassVar[tuple[Param, ...]] = (
        Param("semitones", "float", 0.0, -24.0, 24.0, step=0.01, unit="semitones", label="Semitones",
              help="how far to move the pitch (12 = one octave up; fractions allowed)"),
        Param("formants", "bool", True, label="Preserve formants",
              help="keep the character of voices and instruments when shifting"),
        _transients(),
    )

    def plugins(self, params: dict[str, Any], sample_rate: int) -> list[Any]:
        import pedalboard

        return [pedalboard.PitchShift(semitones=params["semitones"])]

    def board_latency(self, params: dict[str, Any], sample_rate: int, block: int = 1024) -> int:
        """Measured: frames fed minus frames returned once the streaming board answers
        (Rubber Band's real-time latency, about 1 s; it depends a little on ``block``)."""
        board = self.make_board(params, sample_rate)
        fed = got = 0
        silence = np.zeros((1, block), np.float32)
        while got == 0 and fed < 20 * sample_rate:
            got += board.process(silence, float(sample_rate), reset=False).shape[1]
            fed += block
        return fed - got

    def process(self, audio: np.ndarray, sample_rate: int, params: dict[str, Any],
                context: EffectContext) -> np.ndarray:
        audio = clean(audio, context, self.title)
        if params["semitones"] == 0.0:
            return audio.copy()
        context.progress(0.0, self.title)
        y = stretch(audio, sample_rate, 1.0, params["semitones"], params["transients"], params["formants"])
        n = audio.shape[1]
        return y[:, :n] if y.shape[1] >= n else np.pad(y, ((0, 0), (0, n - y.shape[1])))


class TempoEffect(Effect):
    """Change the duration, keep the pitch."""

    id: ClassVar[str] = "tempo"
    title: ClassVar[str] = "Tempo"
    category: ClassVar[str] = "Pitch and time"
    description: ClassVar[str] = ("Make the audio longer or shorter without changing its pitch (Rubber Band). "
                                  "The selection is replaced by audio of the new length.")
    chunk_seconds: ClassVar[float | None] = None
    changes_length: ClassVar[bool] = True
    streaming: ClassVar[bool] = False
    licence: ClassVar[str] = "pedalboard: GPL-3.0; Rubber Band: GPL-2.0-or-later"
    params: ClassVar[tuple[Param, ...]] = (
        Param("stretch", "float", 1.0, 0.25, 4.0, step=0.001, unit="x", label="Length",
              help="new duration / old duration (1.25 = 25% longer and slower; 0.8 = 20% shorter and faster)"),
        _transients(),
    )

    def process(self, audio: np.ndarray, sample_rate: int, params: dict[str, Any],
                context: EffectContext) -> np.ndarray:
        audio = clean(audio, context, self.title)
        factor = float(params["stretch"])
        if factor == 1.0:
            return audio.copy()
        n = audio.shape[1]
        target = int(round(n * factor))
        if target < 1:
            raise EffectError(f"{self.title}: the selection is too short to stretch")
        context.progress(0.0, self.title)
        y = stretch(audio, sample_rate, n / target, 0.0, params["transients"], False)
        return y[:, :target] if y.shape[1] >= target else np.pad(y, ((0, 0), (0, target - y.shape[1])))
