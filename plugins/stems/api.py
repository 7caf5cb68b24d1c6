"""The Qt-free API the remix panel and scripts use.

Typical use, in a background job::

    stems = separate(clip_seq, rate, "spleeter", ctx)   # cached: a second call is cheap
    preview = remix(stems, {"vocals": StemMix(gain_db=-6)}, start, stop)  # a few ms
    result = remix_to_seq(stems, settings, ctx=ctx)     # apply to the whole clip
    tracks = {name: stems.seq(name) for name in stems.names}  # extract to tracks

``separate`` runs the same windows as the ``stems``/``remix`` effects, so the
stem cache serves all of them. A model that is not installed raises
:class:`~editor.effects.models.ModelMissingError`; :func:`download_model` and
:func:`import_model_file` install it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from editor.core.sequence import AudioSeq
from editor.core.store import BlockStore, default_store
from editor.core.task import TaskContext
from editor.effects.base import Effect, EffectContext, EffectError, ModelSpec
from editor.effects.models import ModelManager
from editor.effects.runner import Source, run_effect

from .cache import StemCache, stem_cache
from .catalog import (
    STANDARD_STEMS,
    SeparationModel,
    all_model_files,
    get_model,
    model_names,
)
from .effects import OVERLAP_SECONDS, WINDOW_SECONDS
from .mixing import StemMix, remix_arrays

__all__ = [
    "STANDARD_STEMS", "StemMix", "Stems", "cache", "download_model", "get_model", "import_model_file",
    "model_names", "model_status", "remix", "remix_to_seq", "separate",
]


@dataclass
class Stems:
    """The result of a separation: one planar audio per stem, plus what made it.

    ``audio`` maps stem names (in display order) to AudioSeq (or to numpy arrays
    when the input was an array). ``approximate`` is True when some stems were
    estimated by DSP rather than by the model (``approximate_stems`` says which);
    the UI should say so. The stems sum to the input.
    """

    audio: dict[str, Any]
    rate: int
    model: str
    engine: str
    checksums: tuple[str, ...]
    approximate: bool
    approximate_stems: tuple[str, ...]
    provenance: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.audio)

    @property
    def channels(self) -> int:
        return _shape(next(iter(self.audio.values())))[0]

    @property
    def frames(self) -> int:
        return _shape(next(iter(self.audio.values())))[1]

    def read(self, start: int = 0, stop: int | None = None) -> dict[str, np.ndarray]:
        """Frames [start, stop) of every stem as planar float32 arrays."""
        stop = self.frames if stop is None else min(stop, self.frames)
        start = max(0, min(start, stop))
        out = {}
        for name, a in self.audio.items():
            out[name] = a.read(start, stop) if isinstance(a, AudioSeq) else np.asarray(a[:, start:stop])
        return out

    def seq(self, name: str, store: BlockStore | None = None) -> AudioSeq:
        """Stem ``name`` as an AudioSeq (for a new track); arrays are copied into blocks."""
        a = self.audio[name]
        if isinstance(a, AudioSeq):
            return a
        return AudioSeq.from_blocks((store or default_store()).blocks_from_array(a), a.shape[0])


def _shape(a: Any) -> tuple[int, int]:
    return (a.channels, a.frames) if isinstance(a, AudioSeq) else (a.shape[0], a.shape[1])


class _SeparateEffect(Effect):
    """The runner's view of one separation model: outputs are the model's stems."""

    id = "stems"
    title = "Separate stems"
    uses_gpu = True
    chunk_seconds = WINDOW_SECONDS
    overlap_seconds = OVERLAP_SECONDS

    def __init__(self, model: SeparationModel, use_cache: bool, window_seconds: float) -> None:
        self.model = model
        self.use_cache = use_cache
        self.outputs = model.stems  # type: ignore[misc] - per instance, one per model
        self.chunk_seconds = window_seconds  # type: ignore[misc]

    def process(self, audio: np.ndarray, sample_rate: int, params: dict[str, Any],
                context: EffectContext) -> dict[str, np.ndarray]:
        from .engine import separate_window

        return separate_window(audio, sample_rate, self.model, context, self.use_cache, self.title)


def _context(ctx: TaskContext | None, device: str, models: ModelManager | None) -> EffectContext:
    if isinstance(ctx, EffectContext):
        if models is not None:
            ctx.models = models
        if ctx.models is None:
            ctx.models = ModelManager()
        return ctx
    return EffectContext(ctx or TaskContext(), device, models or ModelManager())


def separate(audio: AudioSeq | np.ndarray, rate: int, model: str = "spleeter", ctx: TaskContext | None = None,
             *, device: str = "cpu", models: ModelManager | None = None, store: BlockStore | None = None,
             use_cache: bool = True, window_seconds: float = WINDOW_SECONDS) -> Stems:
    """Separate ``audio`` (AudioSeq, or planar float32 array; mono or stereo) with ``model``.

    Runs in overlapping windows (``window_seconds``, 60 s by default, the same as
    the effects; bounded memory for any length) with progress and cancel through
    ``ctx``; each window's stems are cached on disk, so a second call on the same
    audio and model runs no model. An AudioSeq gives AudioSeq stems (in
    ``store``), an array gives arrays. ``device`` is a torch device string
    (``editor.effects.device.pick_device()``); a GPU that runs out of memory is
    retried with smaller windows, then the CPU. ``ctx`` may also be an
    :class:`EffectContext`, whose device and model manager are then used.
    """
    if window_seconds <= 2 * OVERLAP_SECONDS:
        raise EffectError(f"separation windows must be longer than {2 * OVERLAP_SECONDS:g} s")
    m = get_model(model)
    channels = audio.channels if isinstance(audio, AudioSeq) else np.asarray(audio).shape[0]
    if channels not in (1, 2):
        raise EffectError(f"stem separation takes mono or stereo audio (got {channels} channels)")
    ectx = _context(ctx, device, models)
    if isinstance(audio, AudioSeq):
        source = Source.from_seq(audio, rate)
        result = run_effect(_SeparateEffect(m, use_cache, window_seconds), source, {}, ectx, store=store)
    else:
        source = Source.from_array(np.asarray(audio, dtype=np.float32), rate)
        result = run_effect(_SeparateEffect(m, use_cache, window_seconds), source, {}, ectx, to_memory=True)
    prov = {**result.provenance, "params": {"model": m.name}}
    return Stems(
        audio=dict(result.audio),
        rate=rate,
        model=m.name,
        engine=prov.get("engine", m.engine),
        checksums=tuple(prov.get("checksums", ())),
        approximate=bool(prov.get("approximate", m.approximate)),
        approximate_stems=tuple(prov.get("approximate_stems", m.approximate)),
        provenance=prov,
        warnings=list(result.warnings),
    )


def remix(stems: Stems | Mapping[str, np.ndarray], settings: Mapping[str, StemMix] | None = None,
          start: int = 0, stop: int | None = None) -> np.ndarray:
    """Frames [start, stop) of the remix, as planar float32: fast enough for live preview.

    ``settings`` maps stem names to :class:`StemMix`; stems not named play at unity.
    """
    arrays = stems.read(start, stop) if isinstance(stems, Stems) else {
        k: np.asarray(v)[:, start:stop] for k, v in stems.items()}
    return remix_arrays(arrays, settings)


def remix_to_seq(stems: Stems, settings: Mapping[str, StemMix] | None = None, store: BlockStore | None = None,
                 ctx: TaskContext | None = None, chunk: int = 1 << 18) -> AudioSeq:
    """The whole remix as a new AudioSeq, streamed in chunks (bounded memory)."""
    ctx = ctx or TaskContext()
    writer = (store or default_store()).writer(stems.channels)
    try:
        for pos in range(0, stems.frames, chunk):
            ctx.check()
            stop = min(stems.frames, pos + chunk)
            writer.write(remix(stems, settings, pos, stop))
            ctx.progress(stop / max(1, stems.frames), "Remixing")
    except BaseException:
        writer.abort()
        raise
    return AudioSeq.from_blocks(writer.finish(), stems.channels)


# -- models -------------------------------------------------------------------------


def model_status(model: str, models: ModelManager | None = None) -> dict[str, Any]:
    """Whether ``model`` can run now: installed, missing files, download size, licence."""
    m = get_model(model)
    mgr = models or ModelManager()
    missing = [f for f in m.files if not mgr.is_installed(f)]
    from .engine import approximate_stems

    # Cheap on purpose: the panel asks this on the GUI thread (no checksums, no torch).
    approx = approximate_stems(m) if not missing else m.approximate
    return {
        "model": m.name,
        "title": m.title,
        "installed": not missing,
        "missing": missing,
        "download_bytes": sum(f.size for f in missing),
        "stems": m.stems,
        "approximate_stems": approx,
        "licence": m.licence,
        "description": m.description,
    }


def download_model(model: str, ctx: TaskContext | None = None, models: ModelManager | None = None) -> list[Path]:
    """Download (resuming partial files) and verify every missing file of ``model``."""
    m = get_model(model)
    mgr = models or ModelManager()
    ctx = ctx or TaskContext()
    todo = [f for f in m.files if not mgr.is_installed(f)]
    for i, spec in enumerate(todo):
        mgr.download(spec, ctx.sub(i / len(todo), (i + 1) / len(todo)))
    return mgr.require_all(m.files, model_name=m.name)


def import_model_file(path: Path, ctx: TaskContext | None = None, models: ModelManager | None = None) -> ModelSpec:
    """Install a checkpoint the user already has, recognised by its checksum."""
    return (models or ModelManager()).import_file(Path(path), all_model_files(), ctx)


def cache() -> StemCache:
    """The stem cache: ``cache().size_bytes()``, ``cache().clear()``, ``cache().limit_bytes``."""
    return stem_cache()
