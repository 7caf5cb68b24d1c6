"""The ``stems`` and ``remix`` effects. Cheap to import: no torch, no model code.

Both run through the runner in 60 s windows with a 1 s cross-fade, the same
windows the Python API (:func:`~seedwave_plugins.stems.api.separate`) uses, so
a file separated once (by either effect or the API) is not separated again:
each window's stems come from the stem cache.

With ``htdemucs_6s`` these effects fold guitar and piano into "other", since
their outputs are the four standard stems; :func:`~seedwave_plugins.stems.api.separate`
returns all six.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from editor.effects.base import Effect, EffectContext, ModelSpec, Param

from .catalog import BUILTIN_NAMES, SPLEETER_LICENCE, STANDARD_STEMS, all_model_files, get_model
from .mixing import MAX_GAIN_DB, StemMix

WINDOW_SECONDS = 60.0
OVERLAP_SECONDS = 1.0
MIN_GAIN_DB = -60.0

_MODEL_HELP = ("spleeter: offline, vocals by model, drums/bass/other approximate (DSP); htdemucs, htdemucs_ft, "
               "htdemucs_6s: need the model files (download or import); 6s folds guitar and piano into other")


def _model_param() -> Param:
    return Param("model", "choice", "spleeter", choices=BUILTIN_NAMES, help=_MODEL_HELP, label="Model",
                 choice_labels=tuple(get_model(n).title for n in BUILTIN_NAMES))


@dataclass(frozen=True)
class GainParam(Param):
    """A dB gain that also takes −inf (silence), which a slider shows as its bottom."""

    def coerce(self, value: Any) -> Any:
        if isinstance(value, str) and value.strip().lower() in ("-inf", "-infinity", "-∞"):
            return -math.inf
        if isinstance(value, int | float) and value == -math.inf:
            return -math.inf
        return super().coerce(value)


class _StemsBase(Effect):
    category = "AI"
    uses_gpu = True
    # The default (Spleeter) is bundled; required_models() names the files the
    # chosen model needs, and ``models`` lists every file for "Import model file…".
    needs_model = False
    chunk_seconds = WINDOW_SECONDS
    overlap_seconds = OVERLAP_SECONDS
    preview_seconds = 6.0
    licence = SPLEETER_LICENCE + " HTDemucs: see the model's licence in Effects > Models…."

    # Every checkpoint any built-in separation model may need ("Import model file…").
    models: ClassVar[tuple[ModelSpec, ...]] = all_model_files()

    def required_models(self, params: dict[str, Any]) -> tuple[ModelSpec, ...]:
        """The checkpoint files the chosen model needs (none for the bundled Spleeter)."""
        return get_model(params.get("model", "spleeter")).files

    def memory_scales_with_window(self, params: dict[str, Any]) -> bool:
        """HTDemucs runs fixed-length segments: a smaller window does not need less memory."""
        return get_model(params.get("model", "spleeter")).engine != "demucs"

    def _separate(self, audio: np.ndarray, sample_rate: int, params: dict[str, Any],
                  context: EffectContext) -> dict[str, np.ndarray]:
        from .engine import fold_to, separate_window

        stems = separate_window(audio, sample_rate, get_model(params["model"]), context, title=self.title)
        return fold_to(stems, STANDARD_STEMS)


class StemsEffect(_StemsBase):
    id = "stems"
    title = "Separate stems"
    version = "1"
    description = ("Split into vocals, drums, bass and other. The sum of the stems is the original; "
                   "with Spleeter, drums/bass/other are approximate (DSP split of the accompaniment).")
    params = (_model_param(),)
    outputs = STANDARD_STEMS

    def process(self, audio: np.ndarray, sample_rate: int, params: dict[str, Any],
                context: EffectContext) -> dict[str, np.ndarray]:
        return self._separate(audio, sample_rate, params, context)


def _remix_params() -> tuple[Param, ...]:
    out: list[Param] = [_model_param()]
    for s in STANDARD_STEMS:
        out.append(GainParam(f"{s}_db", "float", 0.0, MIN_GAIN_DB, MAX_GAIN_DB, 0.5, "dB",
                             f"{s} level; -inf silences it", label=f"{s.capitalize()} level"))
    for s in STANDARD_STEMS:
        out.append(Param(f"{s}_pan", "float", 0.0, -1.0, 1.0, 0.05, "", f"{s} pan, -1 left to +1 right",
                         label=f"{s.capitalize()} pan"))
    for s in STANDARD_STEMS:
        out.append(Param(f"mute_{s}", "bool", False, help=f"silence {s}", label=f"Mute {s}"))
    out.append(Param("solo", "choice", "none", choices=("none", *STANDARD_STEMS),
                     choice_labels=("None", *(x.capitalize() for x in STANDARD_STEMS)),
                     help="play only this stem", label="Solo"))
    return tuple(out)


def settings_from_params(params: dict[str, Any]) -> dict[str, StemMix]:
    """The remix settings the ``remix`` effect's parameters describe."""
    solo = params.get("solo", "none")
    return {
        s: StemMix(
            gain_db=float(params.get(f"{s}_db", 0.0)),
            mute=bool(params.get(f"mute_{s}", False)),
            solo=(solo == s),
            pan=float(params.get(f"{s}_pan", 0.0)),
        )
        for s in STANDARD_STEMS
    }


class RemixEffect(_StemsBase):
    id = "remix"
    title = "Remix stems"
    version = "1"
    description = ("Change the level, pan, mute or solo of vocals, drums, bass and other (separated once, "
                   "then cached). At 0 dB everywhere the result is the original.")
    params = _remix_params()

    def process(self, audio: np.ndarray, sample_rate: int, params: dict[str, Any],
                context: EffectContext) -> np.ndarray:
        from .mixing import remix_arrays

        stems = self._separate(audio, sample_rate, params, context)
        return remix_arrays(stems, settings_from_params(params))
