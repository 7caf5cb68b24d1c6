"""``seedwave apply``: run an effect on an audio file and write the result.

Files with more than two channels (5.1, 7.1, ambisonics, multitrack recordings)
are processed one channel at a time, each as a mono signal, and written back with
the same channels in the same order. A file with zero frames is valid: the
output is a valid file with zero frames in the same layout (effects that make
new audio from a range, such as fill and extend, refuse it in one line).
"""

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


WRITE_FRAMES = 1 << 18


def _write(path: Path, seqs: list[AudioSeq], rate: int, subtype: str) -> None:
    """Write the channels of ``seqs`` side by side (one sequence per channel, or one
    sequence holding them all) to ``path`` through a temporary file."""
    fmt = _FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise AudioFileError("use a .wav, .flac, .ogg or .aiff output name", path)
    channels = sum(s.channels for s in seqs)
    frames = min((s.frames for s in seqs), default=0)
    tmp = path.with_name(f".{path.name}.part")
    try:
        with sf.SoundFile(str(tmp), "w", rate, channels, subtype, format=fmt) as f:
            for a in range(0, frames, WRITE_FRAMES):
                b = min(frames, a + WRITE_FRAMES)
                chunk = seqs[0].read(a, b) if len(seqs) == 1 else np.concatenate([s.read(a, b) for s in seqs])
                f.write(np.ascontiguousarray(chunk.T))
        tmp.replace(path)
    except (OSError, sf.LibsndfileError) as exc:
        tmp.unlink(missing_ok=True)
        text = getattr(exc, "strerror", None) or str(exc)
        raise AudioFileError(f"cannot write ({text})", path) from None


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

    Outputs keep the source's channels and sample format unless ``bits`` ("16", "24",
    "32", "float") asks for another format."""
    effect = registry().get(effect_id)
    params = effect.resolve_params(values)
    imp = import_audio(src, allow_empty=True)
    parent = parent or TaskContext()
    warnings = list(imp.warnings)
    names = effect.outputs or ("",)
    # One run for a mono or stereo file; one mono run per channel for more channels.
    if imp.info.frames == 0 or imp.sequences[0].frames == 0:
        if effect.changes_length or effect.chunk_seconds is None:
            raise EffectError(f"{src}: contains no audio (zero frames); {effect.title} has nothing to work from")
        outputs = {name: list(imp.sequences) for name in names}
        warnings.append(f"{src}: contains no audio (zero frames); wrote an empty file")
    else:
        device_name = pick_device(device) if effect.uses_gpu else "cpu"
        outputs = {name: [] for name in names}
        n = len(imp.sequences)
        for i, seq in enumerate(imp.sequences):
            ctx = EffectContext(parent.sub(i / n, (i + 1) / n) if n > 1 else parent, device_name, ModelManager())
            result = run_effect(effect, Source.from_seq(seq, imp.sample_rate), params, ctx)
            device_name = ctx.device  # a fallback to the CPU holds for the other channels too
            audio = result.audio if isinstance(result.audio, dict) else {"": result.audio}
            for name in names:
                outputs[name].append(audio[name])
            warnings.extend(w for w in result.warnings if w not in warnings)
    written: list[Path] = []
    if effect.outputs:
        out.mkdir(parents=True, exist_ok=True)
        for name, seqs in outputs.items():
            p = out / f"{name}.wav"
            _write(p, seqs, imp.sample_rate, output_subtype(p, imp.info.subtype, bits))
            written.append(p)
    else:
        _write(out, outputs[""], imp.sample_rate, output_subtype(out, imp.info.subtype, bits))
        written.append(out)
    return written, warnings
