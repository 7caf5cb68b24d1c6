"""Splitting an accompaniment into drums, bass and other without a model.

Used when the separation model gives only vocals and accompaniment (Spleeter
2-stem). Harmonic/percussive separation (median filtering of the spectrogram,
Fitzgerald 2010; the same masks as ``librosa.decompose.hpss``, with a faster
median filter) gives the percussive part as "drums"; the harmonic part below a
crossover (a raised-cosine band edge between ``BASS_FULL_HZ`` and
``BASS_ZERO_HZ``: bass fundamentals, part of their second harmonics) is "bass";
everything else, including the residual of the masks, is "other". The result is
approximate and labelled so. On the benchmark's dev set a higher crossover
(200–400 Hz) scored better, but there the other instruments play above 260 Hz;
in real music guitars and pianos reach down to 80 Hz, so the crossover stays low.

Also here, only as a floor for the benchmark: a vocals estimate without a model
(REPET-SIM: the repeating background is what nearest-neighbour frames agree on,
the vocals are what they do not; ``librosa.decompose.nn_filter``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

BASS_FULL_HZ = 150.0
BASS_ZERO_HZ = 300.0
HPSS_KERNEL = 31
HPSS_MARGIN = 1.0
VERSION = "hpss31-m1-bass150-300"  # part of the stem cache key


def _frame(rate: int) -> tuple[int, int]:
    """FFT size about 46 ms (2048 at 44.1/48 kHz) and a quarter hop."""
    n_fft = 1 << int(round(np.log2(rate * 0.046)))
    return n_fft, n_fft // 4


def _stft(x: np.ndarray, n_fft: int, hop: int) -> np.ndarray:
    import librosa

    return librosa.stft(x, n_fft=n_fft, hop_length=hop, center=True)


def _istft(spec: np.ndarray, hop: int, n: int) -> np.ndarray:
    import librosa

    return librosa.istft(spec, hop_length=hop, length=n).astype(np.float32)


def bass_weights(rate: int, n_fft: int) -> np.ndarray:
    """Per-bin weight of the bass band: 1 below BASS_FULL_HZ, 0 above BASS_ZERO_HZ."""
    f = np.fft.rfftfreq(n_fft, 1.0 / rate)
    t = np.clip((f - BASS_FULL_HZ) / (BASS_ZERO_HZ - BASS_FULL_HZ), 0.0, 1.0)
    return (np.cos(t * np.pi / 2.0) ** 2).astype(np.float32)


def median_filter(x: np.ndarray, size: int, axis: int, block: int = 128,
                  check: Callable[[], None] | None = None) -> np.ndarray:
    """Running median of ``x`` along ``axis`` (odd ``size``, edges mirrored as scipy's "reflect").

    The same values as ``scipy.ndimage.median_filter`` with a 1-D footprint (what
    ``librosa.decompose.hpss`` uses), about four times faster: a partial sort of
    sliding windows, a block of rows at a time to bound memory.
    """
    from numpy.lib.stride_tricks import sliding_window_view

    x = np.moveaxis(np.asarray(x, dtype=np.float32), axis, -1)
    half = size // 2
    pad = np.pad(x, [(0, 0)] * (x.ndim - 1) + [(half, half)], mode="symmetric")
    rows = pad.reshape(-1, pad.shape[-1])
    out = np.empty((rows.shape[0], x.shape[-1]), np.float32)
    for a in range(0, rows.shape[0], block):
        if check is not None:
            check()  # cancel between blocks (a few ms each)
        w = sliding_window_view(rows[a:a + block], size, axis=-1)
        out[a:a + block] = np.partition(w, half, axis=-1)[..., half]
    return np.moveaxis(out.reshape(x.shape), -1, axis)


def hpss_masks(mag: np.ndarray, kernel: int = HPSS_KERNEL, margin: float = HPSS_MARGIN,
               check: Callable[[], None] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Soft harmonic and percussive masks of a magnitude spectrogram (..., bins, frames),
    as ``librosa.decompose.hpss`` computes them (power 2)."""
    import librosa

    harm = median_filter(mag, kernel, axis=-1, check=check)  # smooth along time: sustained partials
    perc = median_filter(mag, kernel, axis=-2, check=check)  # smooth along frequency: broadband hits
    mask_h = librosa.util.softmask(harm, perc * margin, power=2.0, split_zeros=False)
    mask_p = librosa.util.softmask(perc, harm * margin, power=2.0, split_zeros=False)
    return mask_h.astype(np.float32), mask_p.astype(np.float32)


def split_accompaniment(acc: np.ndarray, rate: int, check: Callable[[], None] | None = None) -> dict[str, np.ndarray]:
    """Drums, bass and other of ``acc`` (planar float32); they sum to ``acc``.

    ``check`` is called every few milliseconds; it may raise to cancel."""
    acc = np.asarray(acc, dtype=np.float32)
    n = acc.shape[1]
    n_fft, hop = _frame(rate)
    if n < n_fft:  # too short for a spectrogram: call it all "other"
        z = np.zeros_like(acc)
        return {"drums": z, "bass": z.copy(), "other": acc.copy()}
    spec = _stft(acc, n_fft, hop)
    mask_h, mask_p = hpss_masks(np.abs(spec), check=check)
    harmonic = spec * mask_h
    percussive = spec * mask_p
    w = bass_weights(rate, n_fft)[:, None]
    drums = _istft(percussive, hop, n)
    bass = _istft(harmonic * w, hop, n)
    other = (acc.astype(np.float64) - drums - bass).astype(np.float32)
    return {"drums": drums, "bass": bass, "other": other}


def repet_sim_vocals(mix: np.ndarray, rate: int) -> np.ndarray:
    """A model-free vocals estimate (REPET-SIM with soft masks), for benchmarks."""
    import librosa

    mix = np.asarray(mix, dtype=np.float32)
    n = mix.shape[1]
    n_fft, hop = _frame(rate)
    spec = _stft(mix, n_fft, hop)
    mag = np.abs(spec)
    mono = mag.mean(axis=0)
    width = max(3, int(round(2.0 * rate / hop)))
    background = librosa.decompose.nn_filter(mono, aggregate=np.median, metric="cosine", width=width)
    background = np.minimum(mono, background)
    foreground = mono - background
    mask = librosa.util.softmask(foreground, 2.0 * background, power=2)
    return _istft(spec * mask[None], hop, n)
