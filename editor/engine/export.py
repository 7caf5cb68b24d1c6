"""Export: the project's mix (or each track) to an audio file.

The signal path, chunk by chunk (memory stays bounded however long the project):

    render (the same renderer as playback)
      → mono downmix, if asked (the average of left and right)
      → sample-rate change (soxr streaming, HQ)
      → normalisation gain → true-peak limiter (loudness normalisation only)
      → TPDF dither and quantisation (integer outputs and MP3) → encoder

Normalisation needs the whole signal first, so it takes extra passes: the first
measures (sample peak, or integrated loudness); loudness normalisation then
writes with a true-peak lookahead limiter (see :mod:`.limiter`) and meters its
own output. If the limiter took off so much that the file misses the target by
more than 0.2 LU, it searches the gain on analysis passes (no encoding) and
writes again.

Lossy codecs change peaks: decoding an MP3, Vorbis or Opus file gives back a
true peak up to about a decibel above that of what went in. To keep the
*decoded* file under the true-peak ceiling, the limiter aims that much lower
(:attr:`FormatSpec.tp_headroom_db`); the report says so.

The file is written to a temporary name in the destination folder and renamed
over the target only once complete, so a cancel, a full disk or a crash never
leaves a partial file under the target name or damages an existing file.
"""

from __future__ import annotations

import contextlib
import errno
import math
import os
import queue
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from ..core.errors import AudioFileError, SeedwaveError
from ..core.limits import check_range
from ..core.loudness import LoudnessMeter, TruePeakMeter, db_to_gain, gain_to_db
from ..core.model import Project, Track
from ..core.task import TaskContext
from .dither import Quantizer
from .limiter import TruePeakLimiter
from .renderer import audible_tracks, render_chunks
from .writers import MP3_RATES, Mp3Writer, SoundFileWriter, mp3_bitrates, normalise_tags

CHUNK = 1 << 17
OPUS_RATES = (8000, 12000, 16000, 24000, 48000)
#: How close (LU) the written file must come to a loudness target before the
#: exporter stops searching for the gain.
LUFS_TOLERANCE = 0.2
_WAV_LIMIT = 4 * 2**30 - 2**20  # RIFF sizes are 32-bit; beyond this write RF64


@dataclass(frozen=True)
class FormatSpec:
    """What an output format can hold."""

    name: str
    title: str
    extensions: tuple[str, ...]
    container: str  # libsndfile major format, or "MP3"
    depths: dict[int | str, str]  # bits -> libsndfile subtype; empty for lossy formats
    default_bits: int | str | None
    rates: tuple[int, ...] | None = None  # allowed rates, None = any
    tp_headroom_db: float = 0.0  # extra true-peak margin for codec overshoot

    @property
    def lossy(self) -> bool:
        return not self.depths


_PCM = {16: "PCM_16", 24: "PCM_24", 32: "PCM_32", "float": "FLOAT"}
FORMATS: dict[str, FormatSpec] = {
    "wav": FormatSpec("wav", "WAV", (".wav", ".wave"), "WAV", _PCM, 24),
    "aiff": FormatSpec("aiff", "AIFF", (".aiff", ".aif"), "AIFF", _PCM, 24),
    "flac": FormatSpec("flac", "FLAC", (".flac",), "FLAC", {16: "PCM_16", 24: "PCM_24"}, 24),
    "ogg": FormatSpec("ogg", "Ogg Vorbis", (".ogg", ".oga"), "OGG", {}, None, tp_headroom_db=1.0),
    "opus": FormatSpec("opus", "Opus", (".opus",), "OGG", {}, None, OPUS_RATES, tp_headroom_db=1.5),
    "mp3": FormatSpec("mp3", "MP3", (".mp3",), "MP3", {}, None, MP3_RATES, tp_headroom_db=1.0),
}


@dataclass(frozen=True)
class ExportSettings:
    """How to write a file. ``bits``: 16, 24, 32 (integer) or ``"float"`` (32-bit
    float); ``None`` means the format's default (24-bit for WAV, AIFF and FLAC;
    lossy formats have no bit depth). ``sample_rate=None`` keeps the project's."""

    format: str = "wav"
    sample_rate: int | None = None
    bits: int | str | None = None
    channels: int = 2
    mp3_bitrate: int = 192
    normalize: str = "none"  # "none" | "peak" | "lufs"
    lufs: float = -14.0
    true_peak_db: float = -1.0
    peak_db: float = -1.0
    dither: bool = True
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class ExportReport:
    """What an export wrote, for the status bar, the CLI and tests."""

    path: Path
    format: str
    detail: str
    sample_rate: int
    channels: int
    frames: int
    seconds: float = 0.0
    gain_db: float = 0.0
    lufs: float | None = None
    true_peak_db: float | None = None
    peak_db: float = -math.inf
    limiter_db: float = 0.0
    clipped: int = 0
    passes: int = 1
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def duration(self) -> float:
        return self.frames / self.sample_rate if self.sample_rate else 0.0

    def summary(self) -> str:
        d = self.duration
        parts = [
            f"wrote {self.path}: {self.detail}, {self.sample_rate} Hz, "
            f"{'mono' if self.channels == 1 else 'stereo'}, {int(d // 60)}:{d % 60:06.3f}"
        ]
        if self.lufs is not None:
            parts.append(f"{self.lufs:.1f} LUFS")
        if self.true_peak_db is not None:
            parts.append(f"true peak {_db(self.true_peak_db)} dBTP")
        else:
            parts.append(f"peak {_db(self.peak_db)} dBFS")
        if self.gain_db:
            parts.append(f"gain {self.gain_db:+.2f} dB")
        if self.limiter_db > 0.05:
            parts.append(f"limited up to {self.limiter_db:.1f} dB")
        parts.extend(self.notes)
        parts.extend(self.warnings)
        return "; ".join(parts)


def _db(v: float) -> str:
    return "-inf" if v == -math.inf else f"{v:.2f}"


# --------------------------------------------------------------------------- settings


def format_for_path(path: str | Path) -> str:
    """The export format named by a file's extension."""
    ext = Path(path).suffix.lower()
    for spec in FORMATS.values():
        if ext in spec.extensions:
            return spec.name
    known = ", ".join(e for s in FORMATS.values() for e in s.extensions)
    raise SeedwaveError(f"cannot tell the output format from the extension {ext or '(none)'!r}; "
                        f"use one of {known} or choose a format", path)


@dataclass(frozen=True)
class _Plan:
    spec: FormatSpec
    subtype: str | None  # libsndfile subtype, None for MP3
    bits: int | str | None
    rate: int
    channels: int
    quantize_bits: int | None  # integer depth for the quantiser, None for float output
    tags: dict[str, str]
    notes: tuple[str, ...]
    bitrate: int = 0  # MP3 kbit/s

    @property
    def detail(self) -> str:
        s = self.spec
        if s.name == "mp3":
            return f"MP3 {self.bitrate} kbit/s"
        if s.lossy:
            return s.title
        depth = "32-bit float" if self.bits == "float" else f"{self.bits}-bit"
        return f"{s.title} {depth}"


def plan_export(settings: ExportSettings, project_rate: int) -> _Plan:
    """Check ``settings`` and work out the output; raises :class:`SeedwaveError`."""
    fmt = (settings.format or "").lower().lstrip(".")
    spec = FORMATS.get(fmt)
    if spec is None:
        raise SeedwaveError(f"unknown export format {settings.format!r}; use one of {', '.join(FORMATS)}")
    notes: list[str] = []
    bits = settings.bits
    if isinstance(bits, str) and bits.isdigit():
        bits = int(bits)
    if spec.lossy:
        if bits is not None:
            raise SeedwaveError(f"{spec.title} has no bit depth setting; leave the bit depth unset")
        subtype = {"ogg": "VORBIS", "opus": "OPUS", "mp3": None}[spec.name]
    else:
        bits = spec.default_bits if bits is None else bits
        if bits not in spec.depths:
            choices = ", ".join("32-bit float" if b == "float" else f"{b}-bit" for b in spec.depths)
            raise SeedwaveError(f"{spec.title} cannot store {'32-bit float' if bits == 'float' else f'{bits}-bit'} "
                                f"samples; choose {choices}")
        subtype = spec.depths[bits]
    if settings.channels not in (1, 2):
        raise SeedwaveError(f"cannot export {settings.channels} channels; choose mono (1) or stereo (2)")
    rate = int(settings.sample_rate or project_rate)
    if not 8000 <= rate <= 384000:
        raise SeedwaveError(f"sample rate {rate} Hz is outside the supported 8 kHz to 384 kHz")
    if spec.rates is not None and rate not in spec.rates:
        new = _nearest_rate(rate, spec.rates)
        notes.append(f"resampled to {new} Hz ({spec.title} supports {', '.join(str(r) for r in spec.rates)} Hz)")
        rate = new
    if rate != project_rate and not notes:
        notes.append(f"resampled from {project_rate} Hz")
    bitrate = 0
    if spec.name == "mp3":
        bitrate = int(settings.mp3_bitrate)
        allowed = mp3_bitrates(rate)
        if bitrate not in allowed:
            raise SeedwaveError(f"MP3 at {rate} Hz cannot use {bitrate} kbit/s; choose one of "
                                f"{', '.join(str(b) for b in allowed)} kbit/s")
    if settings.normalize not in ("none", "peak", "lufs"):
        raise SeedwaveError(f"unknown normalisation {settings.normalize!r}; use none, peak or lufs")
    if settings.normalize == "lufs" and not -70.0 <= settings.lufs <= 0.0:
        raise SeedwaveError(f"loudness target {settings.lufs} LUFS is outside -70 to 0 LUFS")
    if settings.normalize == "lufs" and not -30.0 <= settings.true_peak_db <= 0.0:
        raise SeedwaveError(f"true-peak ceiling {settings.true_peak_db} dBTP is outside -30 to 0 dBTP")
    if settings.normalize == "peak" and not -60.0 <= settings.peak_db <= 0.0:
        raise SeedwaveError(f"peak target {settings.peak_db} dBFS is outside -60 to 0 dBFS")
    try:
        tags = normalise_tags(settings.tags or {})
    except ValueError as exc:
        raise SeedwaveError(str(exc)) from None
    if spec.name == "mp3":
        qbits: int | None = 16
    elif spec.lossy or bits == "float":
        qbits = None
    else:
        qbits = int(bits)  # type: ignore[arg-type]
    return _Plan(spec, subtype, bits, rate, settings.channels, qbits, tags, tuple(notes), bitrate)


def _nearest_rate(rate: int, allowed: tuple[int, ...]) -> int:
    """The allowed rate to resample to: the lowest at or above ``rate``, else the highest."""
    if rate > max(allowed) and 44100 in allowed and rate % 44100 == 0:
        return 44100
    above = [r for r in allowed if r >= rate]
    return min(above) if above else max(allowed)


# --------------------------------------------------------------------------- signal


def _mix_chunks(project: Project, start: int, stop: int, tracks: list[Track] | None, plan: _Plan,
                ctx: TaskContext, message: str) -> Iterator[np.ndarray]:
    """The rendered range as interleaved float32 at the output rate and channel count."""
    rs = None
    if plan.rate != project.sample_rate:
        rs = soxr.ResampleStream(project.sample_rate, plan.rate, plan.channels, dtype="float32", quality="HQ")
    total = max(1, stop - start)
    # Interleaved chunks come from a small pool: fresh memory for every chunk would
    # cost page faults, and the encoder thread holds at most a few chunks at once.
    pool = [np.empty((CHUNK, plan.channels), np.float32) for _ in range(_POOL)]
    for i, (pos, buf) in enumerate(render_chunks(project, start, stop, chunk=CHUNK, tracks=tracks)):
        x = pool[i % _POOL][: buf.shape[1]]
        if plan.channels == 1:
            np.add(buf[0], buf[1], out=x[:, 0])
            x *= np.float32(0.5)
        else:
            np.copyto(x, buf.T)
        if rs is not None:
            x = rs.resample_chunk(x, last=False)
        ctx.progress((pos + buf.shape[1] - start) / total, message)
        if x.shape[0]:
            yield x
    if rs is not None:
        x = rs.resample_chunk(np.zeros((0, plan.channels), np.float32), last=True)
        if x.shape[0]:
            yield x


#: Chunks in flight between the mixer and the encoder thread: one being mixed, the
#: queue's two, one being written, and one spare.
_POOL = 5


def _processed(chunks: Iterator[np.ndarray], gain: float, limiter: TruePeakLimiter | None) -> Iterator[np.ndarray]:
    """Normalisation gain and limiter applied to a chunk stream."""
    g = np.float32(gain)
    for x in chunks:
        if gain != 1.0:
            x = x * g
        if limiter is not None:
            x = limiter.process(x)
        if x.shape[0]:
            yield x
    if limiter is not None:
        x = limiter.process(np.zeros((0, limiter.channels), np.float32), last=True)
        if x.shape[0]:
            yield x


class _Meters:
    """Sample peak always; integrated loudness and true peak when asked."""

    def __init__(self, rate: int, channels: int, loudness: bool, true_peak: bool) -> None:
        self.peak = 0.0
        self.frames = 0
        self.lm = LoudnessMeter(rate, channels) if loudness else None
        self.tp = TruePeakMeter(rate, channels) if true_peak else None

    def feed(self, x: np.ndarray) -> None:
        self.frames += x.shape[0]
        if x.size:
            self.peak = max(self.peak, float(x.max()), -float(x.min()))  # no |x| temporary
        if self.lm is not None:
            self.lm.feed(x.T)
        if self.tp is not None:
            self.tp.feed(x.T)

    def lufs(self) -> float | None:
        return None if self.lm is None else self.lm.integrated()

    def true_peak_db(self) -> float | None:
        if self.tp is None:
            return None
        self.tp.finish()
        return self.tp.dbtp()


# --------------------------------------------------------------------------- files


def _umask() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def _file_error(exc: BaseException, path: Path, folder: Path) -> SeedwaveError:
    """A one-line error for a failed write, naming the likely cause."""
    code = getattr(exc, "errno", None)
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        free = None
    if code in (errno.ENOSPC, errno.EDQUOT) or (free is not None and free < 1 << 20):
        return AudioFileError("the disk is full; nothing was written (any existing file is unchanged)", path)
    if code in (errno.EACCES, errno.EPERM):
        return AudioFileError("permission denied: cannot write in this folder", folder)
    if code == errno.EROFS:
        return AudioFileError("the folder is on a read-only disk", folder)
    if code == errno.EFBIG:
        return AudioFileError("the file is too large for this disk's file system", path)
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return AudioFileError(f"cannot write the file ({text}); any existing file is unchanged", path)


def _temp_for(path: Path, overwrite: bool) -> Path:
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.exists():
        raise AudioFileError("the folder does not exist", folder)
    if not folder.is_dir():
        raise AudioFileError("is not a folder", folder)
    if path.is_dir():
        raise AudioFileError("is a folder; give a file name to export to", path)
    if path.exists() and not overwrite:
        raise AudioFileError("already exists; not overwritten", path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=folder)
    except OSError as exc:
        raise _file_error(exc, path, folder) from None
    os.close(fd)
    return Path(tmp)


def _finish_file(tmp: Path, path: Path) -> None:
    try:
        mode = path.stat().st_mode & 0o7777 if path.exists() else 0o666 & ~_umask()
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as exc:
        raise _file_error(exc, path, path.parent) from None


def _open_writer(plan: _Plan, tmp: Path, frames_estimate: int, settings: ExportSettings):
    if plan.spec.name == "mp3":
        return Mp3Writer(tmp, plan.rate, plan.channels, settings.mp3_bitrate, plan.tags)
    container = plan.spec.container
    if container == "WAV":
        width = 4 if plan.bits in (32, "float") else int(plan.bits) // 8  # type: ignore[arg-type]
        if frames_estimate * plan.channels * width > _WAV_LIMIT:
            container = "RF64"
    assert plan.subtype is not None
    return SoundFileWriter(tmp, container, plan.subtype, plan.rate, plan.channels, plan.tags)


# --------------------------------------------------------------------------- export


def export_mix(
    project: Project,
    out_path: str | Path,
    settings: ExportSettings,
    start: int = 0,
    stop: int | None = None,
    ctx: TaskContext | None = None,
    overwrite: bool = True,
    tracks: list[Track] | None = None,
) -> ExportReport:
    """Render frames [start, stop) of the project (default: all of it) to ``out_path``.

    ``tracks`` renders only those tracks (stems); by default the audible mix.
    Raises :class:`SeedwaveError` for bad settings or an unwritable target and
    :class:`~editor.core.errors.Cancelled` if ``ctx`` is cancelled; in both cases
    no file is left under ``out_path`` and an existing one is untouched.
    """
    ctx = ctx or TaskContext()
    path = Path(out_path)
    t0 = time.perf_counter()
    plan = plan_export(settings, project.sample_rate)
    stop = project.end if stop is None else int(stop)
    start = max(0, int(start))
    if stop <= start:
        raise SeedwaveError("nothing to export: the project or the range is empty")
    check_range(stop - start, project.sample_rate, "the range to export")  # before anything is written
    playing = audible_tracks(project) if tracks is None else list(tracks)
    if not playing:
        raise SeedwaveError("nothing to export: no track is audible (check mute and solo)")
    frames_est = int(math.ceil((stop - start) * plan.rate / project.sample_rate))
    tmp = _temp_for(path, overwrite)
    report = ExportReport(path, plan.spec.name, plan.detail, plan.rate, plan.channels, 0, notes=list(plan.notes))
    try:
        _run_export(project, start, stop, playing, plan, settings, tmp, frames_est, ctx, report)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(exc, (OSError, sf.LibsndfileError)):
            raise _file_error(exc, path, tmp.parent) from None
        raise
    _finish_file(tmp, path)
    report.seconds = time.perf_counter() - t0
    for w in report.warnings:
        ctx.warn(f"{path}: {w}")
    return report


def _run_export(project: Project, start: int, stop: int, tracks: list[Track], plan: _Plan,
                settings: ExportSettings, tmp: Path, frames_est: int, ctx: TaskContext,
                report: ExportReport) -> None:
    rate, ch = plan.rate, plan.channels

    def source(c: TaskContext, message: str) -> Iterator[np.ndarray]:
        return _mix_chunks(project, start, stop, tracks, plan, c, message)

    gain, use_limiter = 1.0, False
    write_ctx: TaskContext = ctx
    if settings.normalize != "none":
        gain, use_limiter = _measure_first(source, settings, plan, ctx.sub(0.0, 0.3), report)
        write_ctx = ctx.sub(0.3, 1.0)
    ceiling = settings.true_peak_db - plan.spec.tp_headroom_db
    measuring = settings.normalize == "lufs"
    for attempt in range(3):
        limiter = TruePeakLimiter(rate, ch, ceiling) if use_limiter else None
        meters = _Meters(rate, ch, loudness=measuring, true_peak=measuring)
        quant = Quantizer(plan.quantize_bits, settings.dither) if plan.quantize_bits else None
        writer = _open_writer(plan, tmp, frames_est, settings)

        def write(x: np.ndarray, meters: _Meters = meters, quant: Quantizer | None = quant, writer=writer) -> None:
            meters.feed(x)
            writer.write(quant(x) if quant is not None else x)

        try:
            # Rendering and encoding overlap: the mix of the next chunk is made
            # while a second thread meters, quantises and writes this one.
            with _Overlapped(write) as stage:
                for x in _processed(source(write_ctx, "Exporting"), gain, limiter):
                    stage.put(x)
            ctx.check()
            writer.close()
        except BaseException:
            writer.abort()
            raise
        lufs, tp = meters.lufs(), meters.true_peak_db()
        if not use_limiter or lufs is None or tp is None:
            break
        pre_lufs = lufs
        if plan.spec.lossy:
            lufs, tp = _measure_file(tmp, ctx)  # what a listener gets: the decoded file
            report.passes += 1
        miss_tp = tp > settings.true_peak_db
        if abs(lufs - settings.lufs) <= LUFS_TOLERANCE and not miss_tp:
            break
        if attempt == 2:
            report.warnings.append(f"could not meet the loudness target exactly ({lufs:.1f} LUFS, "
                                   f"true peak {tp:.1f} dBTP)")
            break
        if miss_tp:
            ceiling -= tp - settings.true_peak_db + 0.1
        # The limiter (or the codec) moved the loudness: search the gain on analysis
        # passes, aiming the pre-encoding level at the target shifted by what encoding changed.
        target = settings.lufs - (lufs - pre_lufs)
        gain = _search_gain(source, gain, pre_lufs, target, ceiling, rate, ch, ctx)
        report.passes += 2
        write_ctx = ctx
    report.frames = meters.frames
    report.gain_db = gain_to_db(gain) if gain != 1.0 else 0.0
    report.lufs = lufs
    report.true_peak_db = tp
    report.peak_db = gain_to_db(meters.peak)
    report.limiter_db = limiter.max_reduction_db if limiter is not None else 0.0
    if quant is not None and quant.clipped:
        report.clipped = quant.clipped
        report.warnings.append(f"{quant.clipped} samples clipped at full scale; lower the gain or normalise")
    elif plan.spec.lossy and meters.peak > 1.0:
        report.warnings.append("the peak is above full scale and may distort on playback")


class _Overlapped:
    """Runs ``fn`` on each item in a worker thread, in order, a couple of items
    behind the producer. An error in ``fn`` is raised in the producer (at the next
    :meth:`put` or on leaving the ``with`` block); leaving early stops the worker."""

    def __init__(self, fn, depth: int = 2) -> None:
        self._fn = fn
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="seedwave-export-writer", daemon=True)

    def __enter__(self) -> _Overlapped:
        self._thread.start()
        return self

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            if self._error is None:
                try:
                    self._fn(item)
                except BaseException as exc:  # noqa: BLE001 - handed to the producer
                    self._error = exc

    def put(self, item: np.ndarray) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put(item)

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None and self._error is None:
            self._error = exc  # the producer failed: the worker skips what is queued
        self._queue.put(_STOP)
        self._thread.join()
        if exc_type is None and self._error is not None:
            raise self._error


_STOP = object()


def _measure_first(source, settings: ExportSettings, plan: _Plan, ctx: TaskContext,
                   report: ExportReport) -> tuple[float, bool]:
    """The measuring pass of a normalised export: (gain, whether to limit)."""
    lufs_mode = settings.normalize == "lufs"
    m = _Meters(plan.rate, plan.channels, loudness=lufs_mode, true_peak=False)
    for x in source(ctx, "Measuring loudness" if lufs_mode else "Measuring peak"):
        m.feed(x)
    report.passes = 2
    if not lufs_mode:
        if m.peak > 0.0:
            return db_to_gain(settings.peak_db) / m.peak, False
        report.warnings.append("the audio is silent; not normalised")
        return 1.0, False
    loud = m.lufs()
    if loud is None or loud == -math.inf:
        report.warnings.append("the audio is silent or too short to measure; not normalised")
        return 1.0, False
    if plan.spec.tp_headroom_db:
        report.notes.append(f"true-peak ceiling lowered {plan.spec.tp_headroom_db:g} dB for "
                            f"{plan.spec.title} decoder overshoot")
    return db_to_gain(settings.lufs - loud), True


def _measure_file(path: Path, ctx: TaskContext) -> tuple[float, float]:
    """(integrated LUFS, true peak dBTP) of an audio file, read in chunks."""
    with sf.SoundFile(str(path)) as f:
        lm = LoudnessMeter(f.samplerate, f.channels)
        tp = TruePeakMeter(f.samplerate, f.channels)
        for block in f.blocks(blocksize=CHUNK, dtype="float32", always_2d=True):
            lm.feed(block.T)
            tp.feed(block.T)
            ctx.check()
        tp.finish()
    return lm.integrated(), tp.dbtp()


def _search_gain(source, gain: float, lufs: float, target: float, ceiling: float, rate: int, ch: int,
                 ctx: TaskContext, max_passes: int = 6) -> float:
    """Gain (linear) whose limited output measures ``target`` LUFS: secant steps in dB.

    Under heavy limiting, loudness grows more slowly than gain (slope < 1), so each
    step divides by the measured slope; steps are capped at 12 dB so a flat slope
    cannot throw the gain far off. Returns the best gain found.
    """
    g_db, l_db = gain_to_db(gain), lufs
    best = (abs(l_db - target), g_db)
    prev: tuple[float, float] | None = None
    for _ in range(max_passes):
        slope = 1.0
        if prev is not None and abs(g_db - prev[0]) > 1e-6:
            slope = min(1.0, max(0.2, (l_db - prev[1]) / (g_db - prev[0])))
        prev = (g_db, l_db)
        g_db = min(60.0, g_db + max(-12.0, min(12.0, (target - l_db) / slope)))
        lm = LoudnessMeter(rate, ch)
        limiter = TruePeakLimiter(rate, ch, ceiling)
        for x in _processed(source(ctx, "Adjusting loudness"), db_to_gain(g_db), limiter):
            lm.feed(x.T)
        l_db = lm.integrated()
        best = min(best, (abs(l_db - target), g_db))
        if best[0] <= LUFS_TOLERANCE / 2:
            break
    return db_to_gain(best[1])


def stem_file_name(index: int, track: Track, ext: str) -> str:
    """``"01 Vocals.flac"``: numbered so names stay unique and in track order."""
    bad = '<>:"/\\|?*\0'
    name = "".join("_" if (c in bad or ord(c) < 32) else c for c in track.name).strip(" .") or f"Track {index}"
    return f"{index:02d} {name}{ext}"


def export_stems(
    project: Project,
    folder: str | Path,
    settings: ExportSettings,
    start: int = 0,
    stop: int | None = None,
    ctx: TaskContext | None = None,
    overwrite: bool = True,
) -> list[Path]:
    """Write each audible track (post-fader, post-pan, with master gain, so the
    stems add up to the mix) to its own file in ``folder``. Normalisation, if
    set, applies to each file on its own. The title tag defaults to the track's name."""
    ctx = ctx or TaskContext()
    folder = Path(folder)
    spec = plan_export(settings, project.sample_rate).spec
    tracks = audible_tracks(project)
    if not tracks:
        raise SeedwaveError("nothing to export: no track is audible (check mute and solo)")
    check_range((project.end if stop is None else stop) - max(0, start), project.sample_rate,
                "the range to export")  # before any folder or file is made
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _file_error(exc, folder, folder.parent) from None
    paths = [folder / stem_file_name(i + 1, t, spec.extensions[0]) for i, t in enumerate(tracks)]
    if not overwrite:
        for p in paths:
            if p.exists():
                raise AudioFileError("already exists; not overwritten", p)
    stop = project.end if stop is None else stop
    written: list[Path] = []
    n = len(tracks)
    for i, (track, p) in enumerate(zip(tracks, paths, strict=True)):
        tags = dict(settings.tags or {})
        if not any(k.lower() == "title" for k in tags):
            tags["title"] = track.name
        s = replace(settings, tags=tags)
        if track.end <= start:
            ctx.warn(f"{track.name}: no audio in the range; exported as silence")
        export_mix(project, p, s, start, stop, ctx.sub(i / n, (i + 1) / n), overwrite=True, tracks=[track])
        written.append(p)
    return written
