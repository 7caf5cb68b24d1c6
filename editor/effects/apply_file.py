"""``seedwave apply``: run an effect on an audio file and write the result."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from ..core.audio_io import import_audio
from ..core.errors import AudioFileError
from ..core.sequence import AudioSeq
from ..core.task import TaskContext
from .base import EffectContext, EffectError
from .device import pick_device
from .models import ModelManager
from .registry import registry
from .runner import Source, run_effect


def _write(path: Path, seq: AudioSeq, rate: int, like: str) -> None:
    fmt = {".wav": "WAV", ".flac": "FLAC", ".ogg": "OGG", ".aiff": "AIFF", ".aif": "AIFF"}.get(
        path.suffix.lower())
    if fmt is None:
        raise AudioFileError("use a .wav, .flac, .ogg or .aiff output name", path)
    subtype = {"WAV": "FLOAT", "FLAC": "PCM_24", "OGG": "VORBIS", "AIFF": "PCM_24"}[fmt]
    tmp = path.with_name(f".{path.name}.part")
    try:
        with sf.SoundFile(str(tmp), "w", rate, seq.channels, subtype, format=fmt) as f:
            for _pos, chunk in seq.iter_chunks(0, seq.frames):
                f.write(np.ascontiguousarray(chunk.T))
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise AudioFileError(f"cannot write ({exc.strerror or exc})", path) from None


def apply_to_file(effect_id: str, src: Path, out: Path, values: dict[str, str], device: str = "auto",
                  parent: TaskContext | None = None) -> tuple[list[Path], list[str]]:
    """Apply ``effect_id`` to ``src``; write ``out`` (a folder for multi-output effects)."""
    effect = registry().get(effect_id)
    params = effect.resolve_params(values)
    imp = import_audio(src)
    if len(imp.sequences) != 1:
        raise EffectError(f"{src}: effects take mono or stereo files; this one has {imp.info.channels} channels")
    seq = imp.sequences[0]
    parent = parent or TaskContext()
    ctx = EffectContext(parent, pick_device(device) if effect.uses_gpu else "cpu", ModelManager())
    result = run_effect(effect, Source.from_seq(seq, imp.sample_rate), params, ctx)
    written: list[Path] = []
    if isinstance(result.audio, dict):
        out.mkdir(parents=True, exist_ok=True)
        for name, s in result.audio.items():
            p = out / f"{name}.wav"
            _write(p, s, imp.sample_rate, "wav")
            written.append(p)
    else:
        _write(out, result.audio, imp.sample_rate, out.suffix)
        written.append(out)
    return written, imp.warnings + result.warnings
