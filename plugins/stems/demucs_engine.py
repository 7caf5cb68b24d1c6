"""HTDemucs through demucs's own code: ``demucs.states.load_model`` reads an official
``.th`` checkpoint (a pickled package dict: class, arguments, state), and
``demucs.apply.apply_model`` runs it over overlapping segments of the model's
training length. Neither needs torchaudio. A bag of models (htdemucs_ft) is
``demucs.apply.BagOfModels`` with the yaml's weights, as ``demucs.pretrained``
builds it.

Like ``demucs.api.Separator``, the input is normalised by the mean and standard
deviation of its mono mix before the model and scaled back after it.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from editor.effects.base import EffectContext, EffectError


def load_demucs(paths: Sequence[Path], weights: Sequence[Sequence[float]] | None = None,
                segment: float | None = None) -> Any:
    """A demucs model (or bag of models) from verified checkpoint files."""
    from demucs.apply import BagOfModels
    from demucs.states import load_model

    models = []
    for p in paths:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                # The official checkpoints are pickles; the model manager has
                # verified this file against its published SHA-256 prefix.
                m = load_model(str(p))
        except Exception as exc:  # noqa: BLE001 - any unpickling failure is a bad file
            raise EffectError(f"cannot load the demucs checkpoint ({type(exc).__name__}: {exc})", p) from None
        m.eval()
        models.append(m)
    if len(models) == 1 and weights is None and segment is None:
        return models[0]
    return BagOfModels(models, [list(w) for w in weights] if weights else None, segment)


def _segments(model: Any, length: int, overlap: float) -> int:
    """How many model calls apply_model makes for ``length`` samples."""
    members = list(getattr(model, "models", [model]))
    total = 0
    for m in members:
        seg = int(m.samplerate * float(m.segment))
        stride = max(1, int((1 - overlap) * seg))
        total += math.ceil(length / stride)
    return max(1, total)


def run_demucs(model: Any, stereo44: np.ndarray, ctx: EffectContext, overlap: float = 0.25) -> dict[str, np.ndarray]:
    """Sources of ``stereo44`` (2 × n at the model's rate), by the model's source names."""
    import torch
    from demucs.apply import apply_model

    if model.audio_channels != 2:
        raise EffectError(f"this demucs model takes {model.audio_channels} channels; Seedwave feeds it stereo")
    wav = torch.from_numpy(np.ascontiguousarray(stereo44, dtype=np.float32))
    ref = wav.mean(0)
    mean = ref.mean()
    std = ref.std() + 1e-8
    wav = (wav - mean) / std
    total = _segments(model, wav.shape[-1], overlap)
    done = [0]

    def callback(state: dict) -> None:
        if state.get("state") == "end":
            done[0] += 1
            ctx.progress(min(1.0, done[0] / total), "Separating")
        else:
            ctx.check()

    with torch.inference_mode():
        out = apply_model(model, wav[None], shifts=0, split=True, overlap=overlap, progress=False,
                          device=ctx.device, callback=callback)[0]
    out = out * std + mean
    return {name: out[i].cpu().numpy().astype(np.float32, copy=False) for i, name in enumerate(model.sources)}
