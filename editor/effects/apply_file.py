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

#: Output formats ``apply`` writes, by file extension.
_FORMATS = {".wav": "WAV", ".flac": "FLAC", ".ogg": "OGG", ".aiff": "AIFF", ".aif": "AIFF"}
#: The sample format each output format falls back to when the source's does not fit it.
_FALLBACK = {"WAV": "FLOAT", "FLAC": "PCM_24", "OGG": "VORBIS", "AIFF": "PCM_24"}
_BITS = {"16": "PCM_16", "24": "PCM_24", "32": "PCM_32", "float": "FLOAT"}


def output_subtype(path: Path, source_subtype: str, bits: str | None = None) -> str:
    """The sample format ``apply`` writes: ``bits`` when asked, else the source's where the
    output format can hold it (a 16-bit input gives a 16-bit output), else the format's default."""
    fmt = _FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise AudioFileError("use a .wav, .flac, .ogg or .aiff output name", path)
    if fmt == "OGG":
        return "VORBIS"
    want = _BITS[bits] if bits else source_subtype
    if want in ("PCM_S8", "PCM_U8"):
        want = "PCM_16"
    if want == "DOUBLE":
        want = "FLOAT"
    if not sf.check_format(fmt, want):
        want = "PCM_24" if bits is None and sf.check_format(fmt, "PCM_24") else _FALLBACK[fmt]
    return want


def _write(path: Path, seq: AudioSeq, rate: int, subtype: str) -> None:
    fmt = _FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise AudioFileError("use a .wav, .flac, .ogg or .aiff output name", path)
    tmp = path.with_name(f".{path.name}.part")
    try:
        with sf.SoundFile(str(tmp), "w", rate, seq.channels, subtype, format=fmt) as f:
            for _pos, chunk in seq.iter_chunks(0, seq.frames):
                f.write(np.ascontiguousarray(chunk.T))
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise AudioFileError(f"cannot write ({exc.strerror or exc})", path) from None


def describe_output(path: Path) -> str:
    """One line for the command line: what was written."""
    info = sf.info(str(path))
    d = info.frames / info.samplerate if info.samplerate else 0.0
    chans = {1: "mono", 2: "stereo"}.get(info.channels, f"{info.channels} channels")
    return (f"wrote {path}: {info.format} {info.subtype}, {info.samplerate} Hz, {chans}, "
            f"{int(d // 60)}:{d % 60:06.3f}")


def apply_to_file(effect_id: str, src: Path, out: Path, values: dict[str, str], device: str = "auto",
                  parent: TaskContext | None = None, bits: str | None = None) -> tuple[list[Path], list[str]]:
    """Apply ``effect_id`` to ``src``; write ``out`` (a folder for multi-output effects).

    Outputs keep the source's sample format unless ``bits`` ("16", "24", "32", "float") asks
    for another."""
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
            _write(p, s, imp.sample_rate, output_subtype(p, imp.info.subtype, bits))
            written.append(p)
    else:
        _write(out, result.audio, imp.sample_rate, output_subtype(out, imp.info.subtype, bits))
        written.append(out)
    return written, imp.warnings + result.warnings
