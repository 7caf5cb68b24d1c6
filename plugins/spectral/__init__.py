"""Spectral editing (issue 14): effects that work inside a time x frequency selection.

Effects (each takes the selection as parameters, see :mod:`.region`):

* :class:`SpectralGainEffect` (``spectral-gain``) — gain in dB inside the selection, −∞ allowed.
* :class:`SpectralRepairEffect` (``spectral-repair``) — replace the region with what the
  surroundings say belongs there; ``engine`` = ``auto`` | ``interp`` | ``match`` | ``neural``.
* :class:`SpectralApplyEffect` (``spectral-apply``) — any registered effect, kept only inside
  the selection.

Qt-free API for the editor (imported lazily; call on a worker thread):

* ``spectral_gain(audio, rate, selection, gain_db)`` -> array
* ``candidates(audio, rate, selection, engine, n_takes, ctx, options)`` -> ``list[SpectralTake]``
* ``repair(audio, rate, selection, engine, take, ctx, options)`` -> ``(array, SpectralTake)``
* ``apply_in_selection(audio, rate, selection, effect_id, params, ctx)`` -> array
* ``selection_params(selection)`` -> the effect parameters that carry a selection
* ``processing_span(selection, rate, frames, effect_id)`` -> the frames of a track to hand the effect

The selection itself is :class:`editor.core.spectral_selection.SpectralSelection`.
See docs/SPECTRAL.md.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from editor.effects.base import Effect, EffectContext, EffectError, Param

from .region import SELECTION_PARAMS

__all__ = ["RepairOptions", "SpectralApplyEffect", "SpectralGainEffect", "SpectralRepairEffect", "SpectralTake",
           "apply_in_selection", "candidates", "processing_span", "repair", "selection_params", "spectral_gain"]

_LAZY = {
    "spectral_gain": "gain", "candidates": "repair", "repair": "repair", "RepairOptions": "repair",
    "apply_in_selection": "inside", "SpectralTake": "take", "processing_span": "region",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(name)


def selection_params(selection: Any) -> dict[str, Any]:
    """Parameters that hand ``selection`` (a SpectralSelection, times relative to the audio the
    effect will get) to any spectral effect: the bounding box plus the exact shape as JSON."""
    start, end, low, high = selection.bounds(with_edges=False)
    return {"start": max(0.0, start), "end": max(0.0, end), "low_hz": low,
            "high_hz": 0.0 if high == float("inf") else high,
            "edge_ms": selection.edge_s * 1000.0, "edge_hz": selection.edge_hz, "selection": selection.to_json()}


def _selection(audio: np.ndarray, rate: int, params: dict[str, Any], require_span: bool = False):
    from .region import selection_from_params

    if audio.shape[1] == 0:
        raise EffectError("there is no audio to process")
    return selection_from_params(params, audio.shape[1] / rate, require_span=require_span)


class SpectralGainEffect(Effect):
    """Gain inside a time x frequency selection."""

    id: ClassVar[str] = "spectral-gain"
    title: ClassVar[str] = "Spectral Gain"
    category: ClassVar[str] = "Spectral"
    description: ClassVar[str] = "Raise or lower (or remove: −120 dB = −∞) a time x frequency selection."
    params: ClassVar[tuple[Param, ...]] = (
        Param("gain_db", "float", -30.0, -120.0, 24.0, unit="dB", label="Gain",
              help="gain inside the selection; -120 means -inf (removed)"),
        *SELECTION_PARAMS,
    )
    chunk_seconds: ClassVar[float | None] = None
    preview_seconds: ClassVar[float] = 6.0

    def process(self, audio: np.ndarray, sample_rate: int, params: dict[str, Any],
                context: EffectContext) -> np.ndarray:
        from .gain import spectral_gain

        sel = _selection(audio, sample_rate, params)
        context.info["spectral_selection"] = sel.to_dict()
        return spectral_gain(audio, sample_rate, sel, params["gain_db"])


class SpectralRepairEffect(Effect):
    """Replace a time x frequency region from its surroundings."""

    id: ClassVar[str] = "spectral-repair"
    title: ClassVar[str] = "Spectral Repair"
    category: ClassVar[str] = "Repair"
    description: ClassVar[str] = ("Remove a cough, a tone, a beep or a knock from a time x frequency selection: "
                                  "the region is rebuilt from what surrounds it.")
    params: ClassVar[tuple[Param, ...]] = (
        Param("engine", "choice", "auto", choices=("auto", "interp", "match", "neural"),
              choice_labels=("Auto", "Interpolation across time", "Patch from elsewhere in the recording",
                             "Neural (trained on the clip)"),
              help="auto: tries each engine on nearby boxes and keeps the best; interp: from the region's "
                   "edges; match: similar patch elsewhere; neural: network trained on the clip"),
        Param("mode", "choice", "attenuate", choices=("attenuate", "replace"),
              choice_labels=("Attenuate what stands out", "Replace"),
              help="attenuate: lower only bins louder than the prediction (keeps what lies beneath); "
                   "replace: put the prediction in (holes, dropouts)"),
        Param("take", "int", 0, 0, 9, help="which candidate (0 = best)"),
        Param("tolerance_db", "float", 0.0, -20.0, 20.0, unit="dB",
              help="attenuate: how far above the prediction a bin may stay"),
        Param("neural_steps", "int", 300, 10, 5000, help="training steps of the neural engine"),
        *SELECTION_PARAMS,
    )
    uses_gpu: ClassVar[bool] = True  # the neural engine trains on the GPU when there is one
    chunk_seconds: ClassVar[float | None] = None
    preview_seconds: ClassVar[float] = 8.0
    licence: ClassVar[str] = "Same as Seedwave; no model weights."

    def process(self, audio: np.ndarray, sample_rate: int, params: dict[str, Any],
                context: EffectContext) -> np.ndarray:
        from .repair import RepairOptions, repair

        sel = _selection(audio, sample_rate, params, require_span=True)
        opts = RepairOptions(mode=params["mode"], tolerance_db=params["tolerance_db"],
                             neural_steps=params["neural_steps"], device=context.device)
        out, take = repair(audio, sample_rate, sel, params["engine"], params["take"], context, opts)
        context.info["spectral_repair"] = {
            "engine": take.engine, "requested_engine": params["engine"], "take": take.index,
            "label": take.label, "score": round(float(take.score), 4), "changed_frames": [take.start, take.stop],
            "selection": sel.to_dict(), **take.params,
        }
        return out


class SpectralApplyEffect(Effect):
    """Any effect, kept only inside a time x frequency selection."""

    id: ClassVar[str] = "spectral-apply"
    title: ClassVar[str] = "Effect in Spectral Selection"
    category: ClassVar[str] = "Spectral"
    description: ClassVar[str] = ("Run any effect and keep its output only inside the time x frequency selection "
                                  "(denoise, EQ or declick inside a band).")
    params: ClassVar[tuple[Param, ...]] = (
        Param("effect", "str", "", help="id of the effect to run (see `seedwave effects`)"),
        Param("effect_params", "str", "", label="Effect parameters",
              help="that effect's parameters: name=value;name=value (or a JSON object)"),
        *SELECTION_PARAMS,
    )
    uses_gpu: ClassVar[bool] = True  # when the inner effect does
    chunk_seconds: ClassVar[float | None] = None

    def process(self, audio: np.ndarray, sample_rate: int, params: dict[str, Any],
                context: EffectContext) -> np.ndarray:
        from .inside import apply_in_selection, parse_effect_params

        if not params["effect"]:
            raise EffectError("choose the effect to run inside the selection (effect=ID)")
        sel = _selection(audio, sample_rate, params)
        context.info["spectral_selection"] = sel.to_dict()
        return apply_in_selection(audio, sample_rate, sel, params["effect"],
                                  parse_effect_params(params["effect_params"]), context)
