"""HTDemucs through demucs's own code: ``demucs.states.load_model`` builds the model
from an official ``.th`` checkpoint (a pickled package dict: class, arguments,
state), and ``demucs.apply.apply_model`` runs it over overlapping segments of the model's
training length. Neither needs torchaudio. A bag of models (htdemucs_ft) is
``demucs.apply.BagOfModels`` with the yaml's weights, as ``demucs.pretrained``
builds it.

Loading never runs code from the file. The checkpoint's bytes are read once,
their full SHA-256 is compared with the catalogue's, and only matching bytes
are unpickled, by ``torch.load(weights_only=True)``: torch's restricted
unpickler, which builds tensors and plain containers and refuses every other
class except the few allowlisted here (the demucs model classes and
``fractions.Fraction``, which HTDemucs uses for its segment length). demucs's
own ``load_model(path)`` would call ``torch.load(weights_only=False)``, a full
pickle; it is only ever given the already-loaded dict.

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


def _allowed_classes() -> tuple[type, ...]:
    from demucs.demucs import Demucs
    from demucs.hdemucs import HDemucs
    from demucs.htdemucs import HTDemucs

    return HTDemucs, HDemucs, Demucs


def _numpy_globals() -> list:
    """numpy scalars and dtypes (plain data), which some checkpoints' arguments hold."""
    import numpy as np

    core = getattr(np, "_core", None) or np.core
    return [core.multiarray.scalar, np.dtype, *{type(np.dtype(t)) for t in ("float64", "float32", "int64")}]


def _expected_sha256(path: Path) -> str:
    from .catalog import all_model_files

    for spec in all_model_files():
        if spec.filename == path.name:
            return spec.sha256
    raise EffectError("is not a checkpoint of any separation model Seedwave knows; it was not loaded", path)


def read_package(path: Path, sha256: str | None = None) -> dict:
    """The package dict of a demucs checkpoint, or :class:`EffectError`.

    The bytes are hashed as read and must equal ``sha256`` (by default the
    catalogue's digest for the file's name); only then are they unpickled, with
    torch's weights-only unpickler and the demucs classes allowlisted.
    """
    import hashlib
    import io
    from fractions import Fraction

    import torch

    expected = (sha256 or _expected_sha256(path)).strip().lower()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise EffectError(f"cannot read the demucs checkpoint ({exc.strerror or exc})", path) from None
    digest = hashlib.sha256(data).hexdigest()
    if len(expected) != 64 or digest != expected:
        raise EffectError(f"the demucs checkpoint does not match its SHA-256 ({digest[:12]}…, expected "
                          f"{expected[:12]}…); it was not loaded: import or download it again", path)
    classes = _allowed_classes()
    try:
        with warnings.catch_warnings(), torch.serialization.safe_globals([*classes, Fraction, *_numpy_globals()]):
            warnings.simplefilter("ignore")
            package = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure is a bad file
        raise EffectError(f"cannot load the demucs checkpoint ({type(exc).__name__}: "
                          f"{str(exc).splitlines()[0] if str(exc) else ''})", path) from None
    if not isinstance(package, dict) or package.get("klass") not in classes:
        raise EffectError("is not a demucs model checkpoint", path)
    if not isinstance(package.get("args"), (list, tuple)) or not isinstance(package.get("kwargs"), dict) \
            or not isinstance(package.get("state"), dict):
        raise EffectError("is not a demucs model checkpoint (no arguments or state)", path)
    if package["state"].get("__quantized"):
        raise EffectError("is a quantised demucs checkpoint, which Seedwave does not load", path)
    return package


def load_demucs(paths: Sequence[Path], weights: Sequence[Sequence[float]] | None = None,
                segment: float | None = None, sha256: Sequence[str] | None = None) -> Any:
    """A demucs model (or bag of models) from checkpoint files, each verified by its full
    SHA-256 (``sha256``, or the catalogue's) as it is read; see :func:`read_package`."""
    from demucs.apply import BagOfModels
    from demucs.states import load_model

    models = []
    for i, p in enumerate(paths):
        package = read_package(Path(p), sha256[i] if sha256 else None)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                m = load_model(package)  # a dict: demucs builds the model, no unpickling here
        except Exception as exc:  # noqa: BLE001 - arguments or state that do not fit the class
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
