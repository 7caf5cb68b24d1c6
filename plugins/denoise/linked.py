"""Linked stereo denoising: one mask for every channel.

The engines denoise one channel at a time, so a stereo file costs twice a mono
one (DeepFilterNet3 spends about 0.12 CPU seconds per second of each channel).
Most stereo recordings are one scene heard by two microphones: for those the
engine runs once on the channels' mean, and the per-bin gain it applied there
(denoised magnitude over noisy magnitude, on the engine's own 20 ms frames) is
applied to each channel. That halves the time and keeps the stereo image where
it was, since both channels are lowered by the same amount in every bin. Two
unrelated channels (two talkers on two microphones) are better denoised apart;
:func:`coherent` tells them apart for the "auto" setting.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.fft

from .segments import denoise

N_FFT = 960  # DeepFilterNet3's frame at 48 kHz
HOP = 480
#: Channels whose normalised correlation reaches this carry one scene.
COHERENCE = 0.5


#: Microphones up to this far apart in time (5 ms, about 1.7 m) still count as one scene.
MAX_LAG_SECONDS = 0.005


def channel_lags(audio: np.ndarray, rate: int, max_frames: int | None = None) -> tuple[list[int], float]:
    """Each channel's delay after the first (frames; positive: later), and the weakest peak
    correlation.

    Spaced microphones hear one scene a little apart in time; the zero-lag correlation
    of such channels is low although they carry the same sound, so the peak of the
    cross-correlation within :data:`MAX_LAG_SECONDS` is what tells one scene from two.
    Measured on evenly spread excerpts of at most ``max_frames`` (20 s) in all."""
    frames = audio.shape[1]
    max_frames = max_frames or 20 * rate
    if frames > max_frames:
        piece = max_frames // 20
        starts = np.linspace(0, frames - piece, 20).astype(int)
        audio = np.concatenate([audio[:, s : s + piece] for s in starts], axis=1)
    x = audio.astype(np.float64)
    x -= x.mean(axis=1, keepdims=True)
    energy = np.sqrt((x**2).sum(axis=1))
    n = x.shape[1]
    size = 1 << int(np.ceil(np.log2(max(2, 2 * n))))
    ref = scipy.fft.rfft(x[0], size, workers=-1)
    span = min(int(MAX_LAG_SECONDS * rate), n - 1)
    lags, weakest = [0], 1.0
    for c in range(1, len(x)):
        if energy[0] < 1e-9 or energy[c] < 1e-9:
            lags.append(0)  # a silent channel: the mask of the others does it no harm
            continue
        corr = scipy.fft.irfft(ref * np.conj(scipy.fft.rfft(x[c], size, workers=-1)), size, workers=-1)
        window = np.concatenate([corr[-span:], corr[: span + 1]]) if span > 0 else corr[:1]
        k = int(np.argmax(window))
        lags.append(span - k)  # positive: this channel hears it later than the first
        weakest = min(weakest, float(window[k] / (energy[0] * energy[c])))
    return lags, weakest


def coherent(audio: np.ndarray, rate: int = 48000) -> bool:
    """Whether the channels carry one scene (peak correlation within a few ms at least 0.5)."""
    return channel_lags(audio, rate)[1] >= COHERENCE


#: Square-root periodic Hann: analysis and synthesis windows whose product sums to one at
#: 50 % overlap, so an unchanged spectrum gives back the signal exactly.
_WINDOW = np.sqrt(0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)


def stft(x: np.ndarray) -> np.ndarray:
    """Frames × bins of a mono signal (float32 in, complex64 out; both cores)."""
    pad = np.pad(np.asarray(x, np.float32), (HOP, HOP + (-len(x)) % HOP))
    frames = np.lib.stride_tricks.sliding_window_view(pad, N_FFT)[::HOP]
    return scipy.fft.rfft(frames * _WINDOW, axis=1, workers=-1)


def istft(spec: np.ndarray, length: int) -> np.ndarray:
    """Overlap-add back to ``length`` samples (the inverse of :func:`stft`)."""
    frames = scipy.fft.irfft(spec, n=N_FFT, axis=1, workers=-1).astype(np.float32, copy=False)
    frames *= _WINDOW
    y = np.zeros((len(frames) + 1) * HOP, np.float32)
    y[:-HOP].reshape(-1, HOP)[:] += frames[:, :HOP]
    y[HOP:].reshape(-1, HOP)[:] += frames[:, HOP:]
    return y[HOP : HOP + length]


def _shift(x: np.ndarray, s: int) -> np.ndarray:
    """``y[n] = x[n + s]``, zeros past the ends."""
    if s == 0:
        return x
    y = np.zeros_like(x)
    if s > 0:
        y[:-s] = x[s:]
    else:
        y[-s:] = x[:s]
    return y


def denoise_linked(engine, audio: np.ndarray, rate: int,  # noqa: ANN001 - an engine of .engines
                   progress: Callable[[float], None], lags: list[int] | None = None) -> np.ndarray:
    """Denoise the channels' mean once, then apply its per-bin gains to each channel.

    The channels are lined up (their delay against the first) before they are averaged,
    so spaced microphones give no comb-filter notches in the mean; the gains, on 10 ms
    frames, then fit each channel as it is."""
    frames = audio.shape[1]
    if lags is None:
        lags, _ = channel_lags(audio, rate)
    mono = np.mean([_shift(audio[c], delay) for c, delay in enumerate(lags)], axis=0)[None].astype(np.float32)
    wet = denoise(engine, mono, rate, progress)[0]
    noisy = stft(mono[0])
    clean = stft(wet)
    mag = np.abs(noisy)
    gain = np.divide(np.abs(clean), mag, out=np.zeros_like(mag), where=mag > 1e-9)
    np.clip(gain, 0.0, 1.0, out=gain)
    del noisy, clean, mag
    out = np.empty_like(audio, dtype=np.float32)
    for c in range(audio.shape[0]):
        spec = stft(audio[c])
        spec *= gain
        out[c] = istft(spec, frames)
    return out
