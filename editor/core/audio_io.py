"""Reading audio files into blocks.

Everything the bundled libsndfile reads is accepted: WAV/WAVEX, RF64/W64, FLAC,
OGG Vorbis, Opus, MP3, AIFF/AIFC, CAF; 8 to 64-bit samples; 8 kHz to 384 kHz; 1 to
32 channels.

How a file becomes blocks:

* Uncompressed mono or stereo files at the project rate are *aliased*: the import
  reads the file once to build summaries, and the blocks read samples from the
  original file on demand (it is opened read-only and never written). This is what
  makes summaries of an hour-long WAV ready in well under two seconds. A later
  background step (:meth:`~editor.core.store.BlockStore.cache_aliases`) copies them
  into the cache so the project stops depending on the file.
* Compressed files, files at another rate (resampled with soxr) and files with more
  than two channels are decoded into the block cache.
* More than two channels: one mono track per channel, named after the channel, as
  Audacity does; mono and stereo files stay one track.
* NaN and infinite samples are replaced with silence, and the import warns how
  many there were (refusing the file would lose the rest of the recording).
* A truncated or damaged file keeps what could be decoded, with a warning; a file
  with nothing decodable is an error.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from .blocks import BLOCK_FRAMES, Block, PcmAliasBacking, SourceFile, compute_summaries
from .errors import AudioFileError, Cancelled
from .sequence import AudioSeq
from .store import BlockStore, default_store
from .task import TaskContext

MIN_RATE = 8000
MAX_RATE = 384000
MAX_CHANNELS = 32

AUDIO_EXTENSIONS = (
    ".wav", ".wave", ".rf64", ".w64", ".flac", ".ogg", ".oga", ".opus", ".mp3",
    ".aif", ".aiff", ".aifc", ".caf", ".au", ".snd",
)
_ALIAS_FORMATS = {"WAV", "WAVEX", "RF64", "W64", "AIFF", "CAF"}
_ALIAS_SUBTYPES = {"PCM_16", "PCM_24", "PCM_32", "PCM_S8", "PCM_U8", "FLOAT", "DOUBLE"}
_FLOAT_SUBTYPES = {"FLOAT", "DOUBLE", "VORBIS", "OPUS", "MPEG_LAYER_III", "MPEG_LAYER_II", "MPEG_LAYER_I"}


@dataclass(frozen=True)
class AudioInfo:
    path: str
    frames: int
    sample_rate: int
    channels: int
    format: str
    subtype: str

    @property
    def duration(self) -> float:
        return self.frames / self.sample_rate if self.sample_rate else 0.0


@dataclass
class ImportedAudio:
    """The result of an import: one sequence per track to create."""

    info: AudioInfo
    sample_rate: int
    sequences: list[AudioSeq]
    names: list[str]
    warnings: list[str] = field(default_factory=list)

    def blocks(self) -> list[Block]:
        out: list[Block] = []
        for s in self.sequences:
            out.extend(seg.block for seg in s.segments)
        return out


def _explain(exc: Exception) -> str:
    text = str(exc)
    low = text.lower()
    if "format not recognised" in low or "unknown format" in low or "not a valid" in low:
        return "not an audio file Seedwave can read (format not recognised)"
    if "malformed" in low or "internal error" in low or "error in wav" in low:
        return f"the file is corrupt or its header is damaged ({text.split(':')[-1].strip()})"
    if "permission" in low:
        return "permission denied"
    return f"cannot be read as audio ({text.split(':', 1)[-1].strip() or text})"


def check_readable(path: Path) -> None:
    """Raise :class:`AudioFileError` unless ``path`` is a readable, non-empty file."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise AudioFileError("no such file", path) from None
    except PermissionError:
        raise AudioFileError("permission denied", path) from None
    if stat.S_ISDIR(st.st_mode):
        raise AudioFileError("is a folder, not an audio file", path)
    if not stat.S_ISREG(st.st_mode):
        raise AudioFileError("is not a regular file", path)
    if st.st_size == 0:
        raise AudioFileError("is empty (0 bytes)", path)
    try:
        with open(path, "rb") as fh:
            fh.read(1)
    except PermissionError:
        raise AudioFileError("permission denied: you cannot read this file", path) from None
    except OSError as exc:
        raise AudioFileError(f"cannot be read ({exc.strerror})", path) from None


def probe(path: str | Path) -> AudioInfo:
    """Header information, or an :class:`AudioFileError` naming the problem."""
    path = Path(path)
    check_readable(path)
    try:
        with sf.SoundFile(str(path)) as f:
            info = AudioInfo(str(path), int(f.frames), int(f.samplerate), int(f.channels), f.format, f.subtype)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        raise AudioFileError(_explain(exc), path) from None
    if info.channels < 1 or info.channels > MAX_CHANNELS:
        raise AudioFileError(f"has {info.channels} channels; Seedwave reads 1 to {MAX_CHANNELS}", path)
    if not MIN_RATE <= info.sample_rate <= MAX_RATE:
        raise AudioFileError(
            f"sample rate {info.sample_rate} Hz is outside the supported 8 kHz to 384 kHz", path
        )
    if info.frames <= 0:
        raise AudioFileError("contains no audio (zero frames)", path)
    return info


def _read_dtype(subtype: str) -> tuple[str, np.float32 | None]:
    if subtype in ("PCM_16", "PCM_S8", "PCM_U8"):
        return "int16", np.float32(1 / 2**15)
    if subtype in ("PCM_24", "PCM_32"):
        return "int32", np.float32(1 / 2**31)
    return "float32", None


def _sanitize(planar: np.ndarray) -> int:
    """Replace non-finite samples in place; returns how many there were."""
    bad = ~np.isfinite(planar)
    count = int(bad.sum())
    if count:
        planar[bad] = 0.0
    return count


def channel_names(channels: int) -> list[str]:
    if channels == 1:
        return [""]
    if channels == 2:
        return [""]
    return [f"ch {i + 1}" for i in range(channels)]


def import_audio(
    path: str | Path,
    store: BlockStore | None = None,
    ctx: TaskContext | None = None,
    target_rate: int | None = None,
    allow_alias: bool = True,
) -> ImportedAudio:
    """Import a file as block sequences (see the module docstring for the rules).

    ``target_rate``: the project rate; a file at another rate is resampled to it.
    Raises :class:`AudioFileError` for unreadable input and
    :class:`~editor.core.errors.Cancelled` if ``ctx`` is cancelled.
    """
    path = Path(path)
    info = probe(path)
    store = store or default_store()
    ctx = ctx or TaskContext()
    rate = target_rate or info.sample_rate
    resample = rate != info.sample_rate
    split_channels = info.channels > 2
    alias = (
        allow_alias
        and not resample
        and not split_channels
        and info.format in _ALIAS_FORMATS
        and info.subtype in _ALIAS_SUBTYPES
    )
    dtype, scale = _read_dtype(info.subtype) if alias else ("float32", None)
    ch = info.channels
    out_groups = [1] * ch if split_channels else [ch]
    writers = [store.writer(g) for g in out_groups]
    # For aliased imports, each slot is a Block or an index into writer 0's output.
    slots: list[Block | int] = []
    n_cached = 0
    nonfinite = 0
    warnings: list[str] = []
    source = SourceFile.get(path) if alias else None
    resampler = soxr.ResampleStream(info.sample_rate, rate, ch, dtype="float32", quality="HQ") if resample else None
    raw = np.empty((BLOCK_FRAMES, ch), dtype)
    planar = np.empty((ch, BLOCK_FRAMES), np.float32)
    done = 0
    ctx.progress(0.0, f"Importing {path.name}")
    try:
        with sf.SoundFile(str(path)) as f:
            while True:
                try:
                    got = f.read(BLOCK_FRAMES, dtype=dtype, out=raw, always_2d=True)
                except (sf.LibsndfileError, RuntimeError) as exc:
                    if done == 0:
                        raise AudioFileError(_explain(exc), path) from None
                    warnings.append(
                        f"{path}: the file is damaged after {done / info.sample_rate:.1f} s; "
                        "kept the audio before that point"
                    )
                    break
                n = got.shape[0]
                if n == 0:
                    break
                p = planar[:, :n]
                if scale is None:
                    p[...] = got.T
                else:
                    np.multiply(got.T, scale, out=p, casting="unsafe")
                summ = compute_summaries(p) if (alias or info.subtype in _FLOAT_SUBTYPES) else None
                sanitized = False
                if summ is not None and not (np.isfinite(summ[0].mins).all() and np.isfinite(summ[0].maxs).all()):
                    nonfinite += _sanitize(p)
                    sanitized = True
                if resampler is not None:
                    y = resampler.resample_chunk(np.ascontiguousarray(p.T), last=False)
                    if y.size:
                        writers[0].write(np.ascontiguousarray(y.T))
                elif split_channels:
                    for c in range(ch):
                        writers[c].write(p[c : c + 1])
                elif alias and not sanitized:
                    slots.append(Block(ch, n, PcmAliasBacking(source, done), summ))
                elif alias:
                    # The aliased file holds NaN/Inf here: keep a cleaned copy instead.
                    writers[0].write_block(p)
                    slots.append(n_cached)
                    n_cached += 1
                else:
                    writers[0].write(p)
                done += n
                ctx.progress(min(done / info.frames, 1.0), f"Importing {path.name}")
                if n < BLOCK_FRAMES and f.tell() >= info.frames:
                    break
            if resampler is not None:
                y = resampler.resample_chunk(np.zeros((0, ch), np.float32), last=True)
                if y.size:
                    writers[0].write(np.ascontiguousarray(y.T))
    except BaseException:
        for w in writers:
            w.abort()
        raise
    if done == 0:
        for w in writers:
            w.abort()
        raise AudioFileError("contains no decodable audio", path)
    if done < info.frames:
        warnings.append(
            f"{path}: the file is truncated; read {done / info.sample_rate:.2f} s of "
            f"{info.duration:.2f} s"
        )
    if nonfinite:
        warnings.append(f"{path}: replaced {nonfinite} NaN/infinite samples with silence")
    for wtext in warnings:
        ctx.warn(wtext)
    base = path.stem
    if split_channels:
        seqs = [AudioSeq.from_blocks(w.finish(), 1) for w in writers]
        names = [f"{base} ({n})" for n in channel_names(ch)]
    elif alias:
        cached = writers[0].finish()
        blocks = [cached[s] if isinstance(s, int) else s for s in slots]
        seqs = [AudioSeq.from_blocks(blocks, ch)]
        names = [base]
    else:
        seqs = [AudioSeq.from_blocks(writers[0].finish(), ch)]
        names = [base]
    return ImportedAudio(info, rate, seqs, names, warnings)


def read_all(path: str | Path) -> tuple[np.ndarray, int]:
    """Whole file as planar float32 plus its rate (for short files, tests, effects)."""
    path = Path(path)
    probe(path)
    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise AudioFileError(_explain(exc), path) from None
    planar = np.ascontiguousarray(data.T)
    _sanitize(planar)
    return planar, int(rate)


__all__ = [
    "AUDIO_EXTENSIONS",
    "AudioInfo",
    "Cancelled",
    "ImportedAudio",
    "check_readable",
    "import_audio",
    "probe",
    "read_all",
]
