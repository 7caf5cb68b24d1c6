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
* The MP3 decoder inside libsndfile (mpg123) prints its own notes on stderr
  ("Note: Illegal Audio-MPEG-Header…") for damaged input. Those lines are kept
  off the terminal (:func:`decoder_chatter_silenced`), so a bad file gives the one
  line that names it and the problem; anything else written to stderr meanwhile
  is passed on.
* A file with zero frames is a valid file: :func:`probe` reports it (duration 0)
  and :func:`import_audio` with ``allow_empty`` gives empty sequences; without it
  (the editor's import) it is the one-line error "contains no audio".
"""

from __future__ import annotations

import os
import queue
import re
import stat
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from .blocks import BLOCK_FRAMES, Block, PcmAliasBacking, SourceFile, SummaryLevel, compute_summaries
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
#: Integer PCM subtypes: decoding them can never give NaN or infinite samples.
_INT_SUBTYPES = {"PCM_S8", "PCM_U8", "PCM_16", "PCM_24", "PCM_32", "ULAW", "ALAW", "ALAC_16", "ALAC_20", "ALAC_24",
                 "ALAC_32", "IMA_ADPCM", "MS_ADPCM", "GSM610", "DWVW_12", "DWVW_16", "DWVW_24", "G721_32",
                 "G723_24", "G723_40", "NMS_ADPCM_16", "NMS_ADPCM_24", "NMS_ADPCM_32", "VOX_ADPCM"}


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


#: Lines that libsndfile's MP3 decoder (mpg123) writes to stderr by itself.
_DECODER_CHATTER = re.compile(rb"^(\[[^\]]*mpg123[^\]]*\]|Note: |Warning: |Error: )")
_chatter_lock = threading.Lock()
_chatter_depth = 0
_chatter_saved_fd = -1
_chatter_capture: object | None = None


@contextmanager
def decoder_chatter_silenced() -> Iterator[None]:
    """Keep the MP3 decoder's own stderr notes off the terminal while the block runs.

    File descriptor 2 points at a temporary file meanwhile (the decoder writes there
    from C, below Python's ``sys.stderr``); afterwards every line that is not the
    decoder's is written back. Nested and concurrent uses share one redirection.
    """
    global _chatter_depth, _chatter_saved_fd, _chatter_capture
    with _chatter_lock:
        if _chatter_depth == 0:
            with suppress(AttributeError, OSError, ValueError):
                sys.stderr.flush()
            capture = tempfile.TemporaryFile()  # noqa: SIM115 - closed when the last user leaves
            try:
                saved = os.dup(2)
            except OSError:  # no stderr at all (a windowed app): nothing to keep quiet
                capture.close()
                saved = -1
            else:
                os.dup2(capture.fileno(), 2)
                _chatter_capture = capture
            _chatter_saved_fd = saved
        _chatter_depth += 1
    try:
        yield
    finally:
        with _chatter_lock:
            _chatter_depth -= 1
            if _chatter_depth == 0 and _chatter_saved_fd >= 0:
                capture = _chatter_capture
                os.dup2(_chatter_saved_fd, 2)
                os.close(_chatter_saved_fd)
                _chatter_saved_fd = -1
                _chatter_capture = None
                capture.seek(0)  # type: ignore[union-attr]
                text = capture.read()  # type: ignore[union-attr]
                capture.close()  # type: ignore[union-attr]
                keep = b"".join(line for line in text.splitlines(keepends=True)
                                if not _DECODER_CHATTER.match(line))
                if keep:
                    os.write(2, keep)


def _explain(exc: Exception) -> str:
    text = str(exc)
    low = text.lower()
    if "format not recognised" in low or "unknown format" in low or "not a valid" in low:
        return "not an audio file Seedwave can read (format not recognised)"
    if "malformed" in low or "internal error" in low or "error in wav" in low:
        return f"the file is corrupt or its header is damaged ({text.split(':')[-1].strip()})"
    if "permission" in low:
        return "permission denied"
    if "not a regular file" in low or "unimplemented format" in low:
        # libsndfile says this when a header it half-recognises is cut short or garbled
        # (check_readable has already ruled out a missing file or a pipe).
        return "not an audio file Seedwave can read, or its header is damaged"
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


def probe(path: str | Path, allow_empty: bool = False) -> AudioInfo:
    """Header information, or an :class:`AudioFileError` naming the problem. A file
    with zero frames is an error unless ``allow_empty``."""
    path = Path(path)
    check_readable(path)
    try:
        with decoder_chatter_silenced(), sf.SoundFile(str(path)) as f:
            info = AudioInfo(str(path), int(f.frames), int(f.samplerate), int(f.channels), f.format, f.subtype)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        raise AudioFileError(_explain(exc), path) from None
    if info.channels < 1 or info.channels > MAX_CHANNELS:
        raise AudioFileError(f"has {info.channels} channels; Seedwave reads 1 to {MAX_CHANNELS}", path)
    if not MIN_RATE <= info.sample_rate <= MAX_RATE:
        raise AudioFileError(
            f"sample rate {info.sample_rate} Hz is outside the supported 8 kHz to 384 kHz", path
        )
    if info.frames < 0 or (info.frames == 0 and not allow_empty):
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


#: Reader threads for uncompressed (aliased) imports; see :class:`_ChunkReader`.
_ALIAS_WORKERS = 2
#: Frames read at a time when salvaging the readable part of a damaged file.
_SALVAGE_FRAMES = 4096
#: Lines of libsndfile's header log that mean the file holds less audio than its
#: header promises: a RIFF/FORM/data/SSND size larger than what is there (WAV, W64,
#: RF64, AIFF), a frame count the data cannot hold, or an Ogg stream cut short.
_TRUNCATION_LOG = re.compile(
    r"^\s*(riff|riff size|form|data|data size|ssnd)\s*:\s*(\d+)\s*\(should be (\d+)\)"
    r"|lacks an end-of-stream|frame count read from|calculated frame count \d+ does not match",
    re.IGNORECASE | re.MULTILINE,
)


def _log_says_truncated(log: str) -> bool:
    """True if libsndfile's header log says the file is shorter than its header."""
    return any(m.group(1) is None or int(m.group(2)) > int(m.group(3)) for m in _TRUNCATION_LOG.finditer(log))


@dataclass
class _Chunk:
    """One decoded chunk, handed from a reader thread to the importing thread."""

    index: int
    frames: int
    data: np.ndarray | None  # planar float32; None for a clean aliased chunk (only summaries needed)
    summaries: tuple[SummaryLevel, ...] | None
    nonfinite: int = 0  # NaN/Inf samples replaced with silence in ``data``
    damaged: bool = False  # decoding failed inside or after this chunk


class _ChunkReader:
    """Decodes a file in chunks of ``BLOCK_FRAMES`` frames on reader threads and yields
    them in order (use as a context manager, so the threads always stop).

    With ``workers`` > 1 (uncompressed files: seeking is exact and free), worker k
    reads, converts and summarises chunks k, k + workers, ... through its own file
    handle. Each chunk stays in one core's cache from read to summary, which is what
    makes this faster than a reader feeding a summariser; libsndfile and numpy release
    the GIL. With one worker (compressed files) the file is decoded sequentially ahead
    of the caller.

    With ``alias`` the caller needs only summaries: a chunk carries its samples only if
    NaN/Inf had to be replaced. A decode error after some audio ends the stream with a
    ``damaged`` chunk holding what could be salvaged; an error before any audio raises
    :class:`AudioFileError`.
    """

    def __init__(self, path: Path, info: AudioInfo, dtype: str, scale: np.float32 | None, alias: bool,
                 workers: int) -> None:
        self.path = path
        self.channels = info.channels
        self.dtype = dtype
        self.scale = scale
        self.alias = alias
        self.check_finite = dtype.startswith("float") and info.subtype not in _INT_SUBTYPES
        self.workers = workers
        self.chunks = -(-info.frames // BLOCK_FRAMES) if workers > 1 else None
        self.log = ""
        self.quiet = info.format in ("MP3", "MPEG") or info.subtype.startswith("MPEG")  # decoder_chatter_silenced
        self._queues: list[queue.Queue[_Chunk | BaseException | None]] = [
            queue.Queue(maxsize=2) for _ in range(workers)
        ]
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(k,), name="seedwave-import", daemon=True)
            for k in range(workers)
        ]

    def __enter__(self) -> _ChunkReader:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for t in self._threads:
            t.join()

    def __iter__(self) -> Iterator[_Chunk]:
        index = 0
        while True:
            item = self._queues[index % self.workers].get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
            if item.damaged or (self.workers > 1 and item.frames < BLOCK_FRAMES):
                return
            index += 1

    # -- reader threads -----------------------------------------------------------
    def _put(self, k: int, item: _Chunk | BaseException | None) -> bool:
        while not self._stop.is_set():
            try:
                self._queues[k].put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def _run(self, k: int) -> None:
        if self.quiet:
            with decoder_chatter_silenced():
                self._decode(k)
        else:
            self._decode(k)

    def _decode(self, k: int) -> None:
        try:
            raw = np.empty((BLOCK_FRAMES, self.channels), self.dtype)
            planar = np.empty((self.channels, BLOCK_FRAMES), np.float32) if self.alias else None
            with sf.SoundFile(str(self.path)) as f:
                if k == 0:
                    self.log = f.extra_info
                index = k
                while not self._stop.is_set() and (self.chunks is None or index < self.chunks):
                    start = index * BLOCK_FRAMES
                    damaged = False
                    try:
                        if self.workers > 1:
                            f.seek(start)
                        n = f.read(BLOCK_FRAMES, dtype=self.dtype, out=raw, always_2d=True).shape[0]
                    except (sf.LibsndfileError, RuntimeError) as exc:
                        n = self._salvage(start, raw)
                        if n == 0 and index == 0:
                            raise AudioFileError(_explain(exc), self.path) from None
                        damaged = True
                    if n == 0 and not damaged:
                        break
                    if not self._put(k, self._chunk(index, raw, n, planar, damaged)) or damaged:
                        return
                    if self.workers > 1 and n < BLOCK_FRAMES:
                        return  # the file ended early (the caller stops at a short chunk)
                    index += self.workers
            self._put(k, None)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller, which re-raises it
            self._put(k, exc)

    def _chunk(self, index: int, raw: np.ndarray, n: int, planar: np.ndarray | None, damaged: bool) -> _Chunk:
        data = (planar if planar is not None else np.empty((self.channels, BLOCK_FRAMES), np.float32))[:, :n]
        if self.scale is None:
            data[...] = raw[:n].T
        else:
            np.multiply(raw[:n].T, self.scale, out=data, casting="unsafe")
        summaries = compute_summaries(data) if self.alias and n else None
        nonfinite = 0
        if self.check_finite and not (
            np.isfinite(summaries[0].mins).all() and np.isfinite(summaries[0].maxs).all()
            if summaries is not None
            else np.isfinite(data).all()
        ):
            data = data.copy() if self.alias else data
            nonfinite = _sanitize(data)
        elif self.alias:
            data = None  # the samples stay in the source file
        return _Chunk(index, n, data, summaries, nonfinite, damaged)

    def _salvage(self, start: int, raw: np.ndarray) -> int:
        """After a decode error, re-read from frame ``start`` in small pieces into
        ``raw`` and return how many frames could be decoded before the damage."""
        got = 0
        try:
            with sf.SoundFile(str(self.path)) as f:
                f.seek(start)
                while got < BLOCK_FRAMES:
                    k = f.read(min(_SALVAGE_FRAMES, BLOCK_FRAMES - got), dtype=self.dtype,
                               out=raw[got:], always_2d=True).shape[0]
                    if k == 0:
                        break
                    got += k
        except (sf.LibsndfileError, RuntimeError):
            pass
        return got


def import_audio(
    path: str | Path,
    store: BlockStore | None = None,
    ctx: TaskContext | None = None,
    target_rate: int | None = None,
    allow_alias: bool = True,
    allow_empty: bool = False,
) -> ImportedAudio:
    """Import a file as block sequences (see the module docstring for the rules).

    ``target_rate``: the project rate; a file at another rate is resampled to it.
    ``allow_empty``: a valid file with zero frames gives empty sequences (the
    command line reports and processes it) instead of an error.
    Raises :class:`AudioFileError` for unreadable input and
    :class:`~editor.core.errors.Cancelled` if ``ctx`` is cancelled.
    """
    path = Path(path)
    info = probe(path, allow_empty=allow_empty)
    rate = target_rate or info.sample_rate
    split_channels = info.channels > 2
    if info.frames == 0:
        if split_channels:
            return ImportedAudio(info, rate, [AudioSeq.from_blocks([], 1) for _ in range(info.channels)],
                                 [f"{path.stem} ({n})" for n in channel_names(info.channels)])
        return ImportedAudio(info, rate, [AudioSeq.from_blocks([], info.channels)], [path.stem])
    store = store or default_store()
    ctx = ctx or TaskContext()
    resample = rate != info.sample_rate
    alias = (
        allow_alias
        and not resample
        and not split_channels
        and info.format in _ALIAS_FORMATS
        and info.subtype in _ALIAS_SUBTYPES
    )
    dtype, scale = _read_dtype(info.subtype) if alias else ("float32", None)
    ch = info.channels
    writers = [store.writer(1) for _ in range(ch)] if split_channels else [store.writer(ch)]
    # For aliased imports, each slot is a Block or an index into writer 0's output.
    slots: list[Block | int] = []
    n_cached = 0
    nonfinite = 0
    warnings: list[str] = []
    source = SourceFile.get(path) if alias else None
    resampler = soxr.ResampleStream(info.sample_rate, rate, ch, dtype="float32", quality="HQ") if resample else None

    def write(planar: np.ndarray) -> None:
        if split_channels:
            for c in range(ch):
                writers[c].write(planar[c : c + 1])
        else:
            writers[0].write(planar)

    done = 0
    damaged = False
    ctx.progress(0.0, f"Importing {path.name}")
    reader = _ChunkReader(path, info, dtype, scale, alias, _ALIAS_WORKERS if alias else 1)
    try:
        with reader:
            for chunk in reader:
                n = chunk.frames
                nonfinite += chunk.nonfinite
                damaged = damaged or chunk.damaged
                if n == 0:
                    break
                if resampler is not None:
                    y = resampler.resample_chunk(np.ascontiguousarray(chunk.data.T), last=False)
                    if y.size:
                        write(np.ascontiguousarray(y.T))
                elif alias and chunk.data is None:
                    slots.append(Block(ch, n, PcmAliasBacking(source, done), chunk.summaries))
                elif alias:
                    # The aliased file holds NaN/Inf here: keep a cleaned copy instead.
                    writers[0].write_block(chunk.data)
                    slots.append(n_cached)
                    n_cached += 1
                else:
                    write(chunk.data)
                done += n
                ctx.progress(min(done / info.frames, 1.0), f"Importing {path.name}")
        if resampler is not None:
            y = resampler.resample_chunk(np.zeros((0, ch), np.float32), last=True)
            if y.size:
                write(np.ascontiguousarray(y.T))
    except BaseException:
        for w in writers:
            w.abort()
        raise
    if done == 0:
        for w in writers:
            w.abort()
        raise AudioFileError("contains no decodable audio", path)
    if damaged:
        warnings.append(
            f"{path}: the file is damaged after {done / info.sample_rate:.2f} s; kept the audio before that point"
        )
    elif done < info.frames:
        warnings.append(
            f"{path}: the file is truncated; read {done / info.sample_rate:.2f} s of "
            f"{info.duration:.2f} s"
        )
    elif _log_says_truncated(reader.log):
        warnings.append(
            f"{path}: the file is shorter than its header says (truncated?); "
            f"imported the {done / info.sample_rate:.2f} s it holds"
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
        with decoder_chatter_silenced():
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
