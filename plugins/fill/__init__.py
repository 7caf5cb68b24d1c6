"""Generative fill and extend (issue 7).

Effects (registered as ``fill`` and ``extend``):

* :class:`FillEffect` replaces a region with audio that continues the material
  on both sides; ``engine`` = ``auto`` | ``ar`` | ``match`` | ``neural``.
* :class:`ExtendEffect` continues a clip past its end or before its start.

Qt-free API for the editor (imported lazily; nothing heavy loads with this package):

* ``candidates(audio, rate, start, end, engine, n_takes, ctx)`` -> ``list[Take]``
* ``extend_candidates(audio, rate, seconds, direction, n_takes, ctx)`` -> ``list[Take]``
* ``Take.apply(audio)`` / ``apply_take(audio, take)`` -> the edited array

See docs/FILL.md for the engines, their measurements and the Auto decision table.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from editor.effects.base import Effect, EffectContext, EffectError, Param

from .prior import PRIOR_STEPS

__all__ = ["ExtendEffect", "FillEffect", "FillOptions", "Take", "apply_take", "candidates", "extend",
           "extend_candidates", "fill"]

_LAZY = {
    "candidates": "api", "fill": "api", "FillOptions": "api",
    "extend_candidates": "extend", "extend": "extend",
    "Take": "take", "apply_take": "take",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(name)


class FillEffect(Effect):
    """Fill a selected region from the material around it."""

    id: ClassVar[str] = "fill"
    title: ClassVar[str] = "Generative Fill"
    version: ClassVar[str] = "1"
    category: ClassVar[str] = "Repair"
    description: ClassVar[str] = ("Replace a region (dropout, cough, cut, clicks) with audio that continues "
                                  "the material on both sides.")
    params: ClassVar[tuple[Param, ...]] = (
        Param("start", "float", 0.0, 0.0, 1e7, unit="s", help="region start, from the start of the audio"),
        Param("end", "float", 0.0, 0.0, 1e7, unit="s", help="region end"),
        Param("engine", "choice", "auto", choices=("auto", "ar", "match", "neural"),
              choice_labels=("Auto", "Interpolation (short gaps)", "Context match", "Neural (fill prior)"),
              help="auto: by gap length and material; ar: interpolation (short gaps); "
                   "match: copy the best-continuing material; neural: Seedwave's fill prior, fine-tuned on the clip"),
        Param("take", "int", 1, 1, 10, help="which candidate (1 = best), numbered as the Fill panel lists them"),
        Param("context", "float", 0.0, 0.0, 10.0, unit="s",
              help="context each side used to judge matches (0 = automatic)"),
        Param("neural_steps", "int", PRIOR_STEPS, 0, 5000,
              help="neural engine: fine-tuning steps on the clip (training steps without the prior; 200 is usual)"),
        Param("neural_prior", "bool", True,
              help="neural engine: start from Seedwave's pretrained fill prior (off: train on the clip alone, slower)"),
    )
    uses_gpu: ClassVar[bool] = True  # the neural engine trains on the GPU when there is one
    chunk_seconds: ClassVar[float | None] = None
    preview_seconds: ClassVar[float] = 8.0
    licence: ClassVar[str] = ("Same as Seedwave (MIT). The neural engine's fill prior was trained by Seedwave on "
                              "audio it generates itself (model card seedwave_plugins/fill/weights/fill_prior.md).")

    def process(self, audio: np.ndarray, sample_rate: int, params: dict[str, Any],
                context: EffectContext) -> np.ndarray:
        from .api import FillOptions, fill

        opts = FillOptions(context=params["context"], neural_steps=params["neural_steps"], device=context.device,
                           neural_prior=bool(params.get("neural_prior", True)))
        out, take = fill(audio, sample_rate, params["start"], params["end"], params["engine"], params["take"] - 1,
                         context, options=opts)
        context.info["fill"] = {
            "engine": take.engine, "requested_engine": params["engine"], "take": take.index + 1,
            "region_s": [params["start"], params["end"]], "replaced_frames": [take.start, take.stop],
            "label": take.label, "score": round(float(take.score), 5), **take.params,
        }
        return out


class ExtendEffect(Effect):
    """Continue a clip past its end or before its start with its own material."""

    id: ClassVar[str] = "extend"
    title: ClassVar[str] = "Extend"
    version: ClassVar[str] = "1"
    category: ClassVar[str] = "Repair"
    description: ClassVar[str] = "Make a clip longer by continuing its own material (loop- and tempo-aware)."
    params: ClassVar[tuple[Param, ...]] = (
        Param("seconds", "float", 5.0, 0.01, 3600.0, unit="s", help="how much to add"),
        Param("direction", "choice", "end", choices=("end", "start"),
              choice_labels=("After the end", "Before the start"), help="add after the end or before the start"),
        Param("take", "int", 1, 1, 10, help="which loop point (1 = best), numbered as the Fill panel lists them"),
    )
    chunk_seconds: ClassVar[float | None] = None
    changes_length: ClassVar[bool] = True
    preview_seconds: ClassVar[float] = 10.0

    def process(self, audio: np.ndarray, sample_rate: int, params: dict[str, Any],
                context: EffectContext) -> np.ndarray:
        from .extend import extend

        if audio.shape[1] == 0:
            raise EffectError("there is no audio to extend")
        out, take = extend(audio, sample_rate, params["seconds"], params["direction"], params["take"] - 1, context)
        context.info["extend"] = {"take": take.index + 1, "label": take.label, "score": round(float(take.score), 5),
                                  "added_frames": int(out.shape[1] - audio.shape[1]), **take.params}
        return out
