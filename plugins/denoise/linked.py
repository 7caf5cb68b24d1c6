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
from scipy.signal import istft, stft

from .segments import denoise

N_FFT = 960  # DeepFilterNet3's frame at 48 kHz
HOP = 480
#: Channels whose normalised correlation reaches this carry one scene.
COHERENCE = 0.5


def coherent(audio: np.ndarray, max_frames: int = 48000 * 60) -> bool:
    """Whether every pair of channels correlates (one scene heard by several microphones).

    Measured on evenly spread excerpts of at most ``max_frames`` in all."""
    frames = audio.shape[1]
    if frames > max_frames:
        starts = np.linspace(0, frames - max_frames // 20, 20).astype(int)
        audio = np.concatenate([audio[:, s : s + max_frames // 20] for s in starts], axis=1)
    x = audio.astype(np.float64)
    x -= x.mean(axis=1, keepdims=True)
    energy = np.sqrt((x**2).sum(axis=1))
    if (energy < 1e-9).any():
        return True  # a silent channel: the mask of the others does it no harm
    norm = x / energy[:, None]
    corr = norm @ norm.T
    return bool(corr[np.triu_indices(len(x), 1)].min() >= COHERENCE)


def denoise_linked(engine, audio: np.ndarray, rate: int,  # noqa: ANN001 - an engine of .engines
                   progress: Callable[[float], None]) -> np.ndarray:
    """Denoise the channels' mean once, then apply its per-bin gains to each channel."""
    frames = audio.shape[1]
    mono = audio.mean(axis=0, keepdims=True).astype(np.float32)
    wet = denoise(engine, mono, rate, progress)[0]
    _, _, noisy = stft(mono[0], nperseg=N_FFT, noverlap=N_FFT - HOP, window="hann")
    _, _, clean = stft(wet, nperseg=N_FFT, noverlap=N_FFT - HOP, window="hann")
    mag = np.abs(noisy)
    gain = np.divide(np.abs(clean), mag, out=np.zeros_like(mag), where=mag > 1e-9)
    np.clip(gain, 0.0, 1.0, out=gain)
    del noisy, clean, mag
    out = np.empty_like(audio, dtype=np.float32)
    for c in range(audio.shape[0]):
        _, _, spec = stft(audio[c], nperseg=N_FFT, noverlap=N_FFT - HOP, window="hann")
        spec *= gain
        _, y = istft(spec, nperseg=N_FFT, noverlap=N_FFT - HOP, window="hann")
        out[c] = y[:frames]
    return out
