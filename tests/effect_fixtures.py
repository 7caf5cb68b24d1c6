"""Small test effects for the effects framework and the effect GUI tests."""

from __future__ import annotations

import hashlib
import time
from typing import Any, ClassVar

import numpy as np

from editor.effects.base import Effect, EffectContext, ModelSpec, Param


class OutOfMemoryError(RuntimeError):
    """Named like torch's, which is what the runner recognises."""


class IdentityFx(Effect):
    id = "test_identity"
    title = "Test identity"
    category = "Test"
    chunk_seconds = 1.0
    overlap_seconds = 0.25

    def __init__(self) -> None:
        self.windows: list[int] = []

    def process(self, audio: np.ndarray, sample_rate: int, params: dict[str, Any],
                context: EffectContext) -> np.ndarray:
        self.windows.append(audio.shape[1])
        context.progress(1.0)
        return audio.copy()


class GainFx(Effect):
    id = "test_gain"
    title = "Test gain"
    version = "3"
    category = "Test"
    description = "Multiplies by a gain (a test effect)."
    params: ClassVar[tuple[Param, ...]] = (
        Param("gain", "float", 0.5, min=0.0, max=2.0, step=0.01, unit="×", help="linear gain"),
    )
    chunk_seconds = 1.0
    overlap_seconds = 0.25

    def process(self, audio: np.ndarray, sample_rate: int, params: dict[str, Any],
                context: EffectContext) -> np.ndarray:
        return audio * np.float32(params["gain"])


class FormFx(Effect):
    """Every parameter type, for the form."""

    id = "test_form"
    title = "Test form"
    category = "Test"
    params: ClassVar[tuple[Param, ...]] = (
        Param("amount", "float", 30.0, min=0.0, max=100.0, step=1.0, unit="dB", help="how much", label="Amount"),
        Param("taps", "int", 8, min=1, max=64, help="filter length"),
        Param("bright", "bool", True, help="keep the highs"),
        Param("mode", "choice", "soft", choices=("soft", "hard"), help="knee"),
    )

    def process(self, audio: np.ndarray, sample_rate: int, params: dict[str, Any],
                context: EffectContext) -> np.ndarray:
        return audio


class SlowFx(Effect):
    """Takes ``seconds`` in small steps, checking for cancel in between; halves the level.
    ``steps`` counts the steps done and ``steps_after_cancel`` the steps begun once the
    run was cancelled (by every instance): tests check the second instead of timing a cancel."""

    steps: ClassVar[int] = 0
    steps_after_cancel: ClassVar[int] = 0
    id = "test_slow"
    title = "Test slow"
    category = "Test"
    params: ClassVar[tuple[Param, ...]] = (Param("seconds", "float", 3.0, min=0.0, max=60.0),)
    chunk_seconds = None

    def process(self, audio: np.ndarray, sample_rate: int, params: dict[str, Any],
                context: EffectContext) -> np.ndarray:
        steps = max(1, int(params["seconds"] / 0.01))
        for i in range(steps):
            if context.cancelled:
                SlowFx.steps_after_cancel += 1
            time.sleep(0.01)
            SlowFx.steps += 1
            context.progress((i + 1) / steps, "Thinking slowly")
        return audio * np.float32(0.5)


class BoomFx(Effect):
    id = "test_boom"
    title = "Test boom"
    category = "Test"

    def process(self, audio: np.ndarray, sample_rate: int, params: dict[str, Any],
                context: EffectContext) -> np.ndarray:
        raise RuntimeError("boom: the effect fell over")


class OomFx(Effect):
    """Runs out of "GPU memory" on windows longer than 3 s while on CUDA; else identity."""

    id = "test_oom"
    title = "Test OOM"
    category = "Test"
    uses_gpu = True
    chunk_seconds = 8.0
    overlap_seconds = 0.5
    limit_seconds: ClassVar[float] = 3.0

    def process(self, audio: np.ndarray, sample_rate: int, params: dict[str, Any],
                context: EffectContext) -> np.ndarray:
        if context.device == "cuda" and audio.shape[1] > self.limit_seconds * sample_rate:
            raise OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return audio.copy()


MODEL_BYTES = b"seedwave test model weights\n" * 100
MODEL_SPEC = ModelSpec("test-model", "test-model.bin", hashlib.sha256(MODEL_BYTES).hexdigest(), len(MODEL_BYTES),
                       description="a test model")


class ModelFx(Effect):
    id = "test_model"
    title = "Test model"
    category = "Test"
    needs_model = True
    models: ClassVar[tuple[ModelSpec, ...]] = (MODEL_SPEC,)

    def process(self, audio: np.ndarray, sample_rate: int, params: dict[str, Any],
                context: EffectContext) -> np.ndarray:
        path = context.models.require(self.models[0], self.title)
        assert path.read_bytes() == MODEL_BYTES
        return audio * np.float32(0.5)


class SplitFx(Effect):
    """Two outputs that sum to the input, like stems."""

    id = "test_split"
    title = "Test split"
    category = "Test"
    outputs = ("low", "high")
    chunk_seconds = 1.0
    overlap_seconds = 0.25

    def process(self, audio: np.ndarray, sample_rate: int, params: dict[str, Any],
                context: EffectContext) -> dict[str, np.ndarray]:
        return {"low": audio * np.float32(0.25), "high": audio * np.float32(0.75)}


class NativeRateFx(Effect):
    """Identity at 16 kHz; records the rates and lengths it saw."""

    id = "test_native"
    title = "Test native rate"
    category = "Test"
    native_rate = 16000
    chunk_seconds = 2.0
    overlap_seconds = 0.5

    def __init__(self) -> None:
        self.seen: list[tuple[int, int]] = []

    def process(self, audio: np.ndarray, sample_rate: int, params: dict[str, Any],
                context: EffectContext) -> np.ndarray:
        self.seen.append((sample_rate, audio.shape[1]))
        return audio.copy()


ALL = (IdentityFx, GainFx, FormFx, SlowFx, BoomFx, OomFx, ModelFx, SplitFx, NativeRateFx)


class LengthenFx(Effect):
    """Appends half a second of silence (an effect that changes the length, like extend)."""

    id = "test_lengthen"
    title = "Test lengthen"
    category = "Test"
    chunk_seconds = None
    changes_length = True

    def process(self, audio: np.ndarray, sample_rate: int, params: dict[str, Any],
                context: EffectContext) -> np.ndarray:
        return np.concatenate([audio, np.zeros((audio.shape[0], sample_rate // 2), np.float32)], axis=1)
