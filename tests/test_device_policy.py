"""The device policy of the effect runner: what happens when a run fails on the GPU, and
how memory is given back (GPU cache at the end of a run, models unused for a while).

This machine has no GPU, so the GPU errors here are real torch errors raised on the real
run path: asking this CPU-only torch for a CUDA device fails inside a real effect, and an
effect that meets torch's own ``OutOfMemoryError`` on its device stands for a full GPU.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pytest

from editor.effects.base import Effect, EffectContext, Param
from editor.effects.resident import ResidentModels, resident
from editor.effects.runner import run_on_array

torch = pytest.importorskip("torch")
RATE = 44100

needs_no_cuda = pytest.mark.skipif(torch.cuda.is_available(), reason="checks the fallback on a machine without CUDA")


def _music(seconds: float = 2.0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    left = 0.3 * np.sin(2 * np.pi * 220 * t) + 0.1 * np.sign(np.sin(2 * np.pi * 2 * t))
    right = 0.3 * np.sin(2 * np.pi * 330 * t)
    return np.stack([left, right]).astype(np.float32)


@needs_no_cuda
def test_any_device_error_moves_a_real_separation_to_the_cpu_at_once():
    """Spleeter asked to run on CUDA with a torch that has none: torch's own error (not an
    out-of-memory one) is met in the real effect, and the run finishes on the CPU."""
    from seedwave_plugins.stems import StemsEffect

    audio = _music()
    result = run_on_array(StemsEffect(), audio, RATE, {"model": "spleeter"}, device="cuda")
    assert result.provenance["device"] == "cpu" and result.provenance["device_fallback"] == "cpu"
    assert "the GPU failed" in result.provenance["device_error"]
    assert any("finishing on the CPU" in w for w in result.warnings)
    total = sum(result.audio[name].astype(np.float64) for name in ("vocals", "drums", "bass", "other"))
    np.testing.assert_allclose(total, audio, atol=1e-5)  # the stems are a real separation of the input


class _FullGpu(Effect):
    """Halves its input; on any device but the CPU, torch reports the GPU full."""

    id = "test_full_gpu"
    title = "Full GPU"
    uses_gpu = True
    chunk_seconds = 8.0
    overlap_seconds = 0.5
    params: ClassVar[tuple[Param, ...]] = (Param("fixed_segments", "bool", False),)
    calls: ClassVar[list[tuple[str, int]]] = []

    def memory_scales_with_window(self, params: dict[str, Any]) -> bool:
        return not params["fixed_segments"]

    def process(self, audio: np.ndarray, sample_rate: int, params: dict[str, Any],
                context: EffectContext) -> np.ndarray:
        type(self).calls.append((context.device, audio.shape[1]))
        x = torch.from_numpy(audio)
        if context.device != "cpu":
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return (x * 0.5).numpy()


def test_out_of_memory_with_fixed_segments_goes_to_the_cpu_without_shrinking_windows():
    audio = _music(20.0)
    _FullGpu.calls = []
    result = run_on_array(_FullGpu(), audio, RATE, {"fixed_segments": True}, device="cuda")
    gpu = [c for c in _FullGpu.calls if c[0] != "cpu"]
    assert len(gpu) == 1  # one try, then the CPU: a smaller window would need the same memory
    assert result.provenance["device_fallback"] == "cpu"
    assert any("same memory for any window" in w for w in result.warnings)
    np.testing.assert_allclose(result.audio, audio * 0.5, atol=1e-7)


def test_out_of_memory_with_window_sized_memory_halves_the_window_first():
    audio = _music(20.0)
    _FullGpu.calls = []
    result = run_on_array(_FullGpu(), audio, RATE, {"fixed_segments": False}, device="cuda")
    gpu = [n for dev, n in _FullGpu.calls if dev != "cpu"]
    assert gpu == sorted(gpu, reverse=True) and len(gpu) >= 3 and gpu[-1] < gpu[0] / 3
    assert any("retrying with" in w for w in result.warnings)
    assert any("even with small chunks" in w for w in result.warnings)
    np.testing.assert_allclose(result.audio, audio * 0.5, atol=1e-7)


def test_a_real_demucs_model_declares_fixed_segments():
    from seedwave_plugins.stems import RemixEffect, StemsEffect

    assert not StemsEffect().memory_scales_with_window({"model": "htdemucs"})
    assert not RemixEffect().memory_scales_with_window({"model": "htdemucs_ft"})
    assert StemsEffect().memory_scales_with_window({"model": "spleeter"})


def test_idle_models_are_released_but_never_under_a_busy_run():
    now = [0.0]
    models = ResidentModels(idle_seconds=60, clock=lambda: now[0])
    released: list[str] = []
    models.keep("a", lambda: released.append("a"))
    models.keep("b", lambda: released.append("b"))
    now[0] = 50
    models.touch("b")
    now[0] = 70
    with models.busy():
        assert models.release_idle() == [] and released == []
    assert models.release_idle() == ["a"] and released == ["a"] and models.loaded() == ["b"]
    assert models.release_all() == ["b"] and models.loaded() == []


def test_a_separation_model_is_dropped_when_it_has_been_idle_at_the_end_of_a_run(monkeypatch):
    """Through the real run path: the stems plugin keeps Spleeter loaded between runs and the
    runner drops it at the end of a run once it has been idle for ``idle_seconds``."""
    from seedwave_plugins.stems import StemsEffect
    from seedwave_plugins.stems import engine as stems_engine

    audio = _music(1.0)
    monkeypatch.setattr(resident, "idle_seconds", 3600.0)
    run_on_array(StemsEffect(), audio, RATE, {"model": "spleeter"})
    assert "stems" in resident.loaded() and stems_engine._loaded  # kept for the next run
    monkeypatch.setattr(resident, "idle_seconds", 0.0)
    run_on_array(StemsEffect(), audio * 0.5, RATE, {"model": "spleeter"})
    assert "stems" not in resident.loaded() and not stems_engine._loaded
