"""Audacity-style noise reduction with a captured noise profile, on ``noisereduce``.

The profile is what noisereduce's stationary spectral gate learns from a
noise-only stretch: the mean and spread (in dB) of every frequency bin. It is
kept as a short text (``nr1:<rate>:<n_fft>:<base64 float16 data>``, about 5 KB),
so it can live in an effect parameter, a preset, a chain file and a history
entry like any other value. The editor's "Get noise profile" calls
:func:`capture_profile` on the selected audio and puts the text into the
``profile`` parameter; on the command line ``profile_start``/``profile_end`` (or
``noise_file``) name the noise-only stretch instead.

The gate itself is noisereduce's ``SpectralGateStationary``, given the captured
statistics in place of ones it would compute from a noise clip.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import numpy as np

from editor.effects.base import EffectError

N_FFT = 2048
PREFIX = "nr1"


@dataclass(frozen=True)
class NoiseProfile:
    sample_rate: int
    n_fft: int
    mean_db: np.ndarray
    std_db: np.ndarray

    def encode(self) -> str:
        data = np.concatenate([self.mean_db, self.std_db]).astype(np.float16).tobytes()
        return f"{PREFIX}:{self.sample_rate}:{self.n_fft}:{base64.b64encode(data).decode('ascii')}"

    @classmethod
    def decode(cls, text: str) -> NoiseProfile:
        try:
            prefix, rate, n_fft, data = text.strip().split(":", 3)
            if prefix != PREFIX:
                raise ValueError
            values = np.frombuffer(base64.b64decode(data, validate=True), dtype=np.float16).astype(np.float64)
            bins = int(n_fft) // 2 + 1
            if values.size != 2 * bins or not np.isfinite(values).all():
                raise ValueError
        except ValueError:
            raise EffectError("profile: not a noise profile (capture one with Get noise profile)") from None
        return cls(int(rate), int(n_fft), values[:bins], values[bins:])

    def for_rate(self, sample_rate: int, n_fft: int) -> tuple[np.ndarray, np.ndarray]:
        """(mean, std) in dB per bin of an STFT at ``sample_rate`` with ``n_fft``
        (interpolated over frequency when the profile was captured at another rate)."""
        if sample_rate == self.sample_rate and n_fft == self.n_fft:
            return self.mean_db, self.std_db
        src = np.fft.rfftfreq(self.n_fft, 1.0 / self.sample_rate)
        dst = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
        # the STFT's magnitude scale follows the window length: keep the level per Hz
        offset = 10.0 * np.log10((n_fft / sample_rate) / (self.n_fft / self.sample_rate))
        mean = np.interp(dst, src, self.mean_db) + offset
        return mean, np.interp(dst, src, self.std_db)


def _stft_db(mono: np.ndarray, n_fft: int) -> np.ndarray:
    from noisereduce.spectralgate.utils import _amp_to_db
    from scipy.signal import stft

    _, _, spec = stft(mono, nfft=n_fft, noverlap=n_fft - n_fft // 4, nperseg=n_fft, padded=False)
    return _amp_to_db(spec)


def capture_profile(audio: np.ndarray, sample_rate: int) -> str:
    """The noise profile of planar (or mono 1-D) noise-only ``audio``, as profile text."""
    a = np.asarray(audio, dtype=np.float64)
    mono = a if a.ndim == 1 else np.mean(a, axis=0)
    n_fft = N_FFT if sample_rate > 32000 else N_FFT // 2
    if len(mono) < n_fft * 2:
        raise EffectError(f"the noise sample is too short: select at least {2 * n_fft / sample_rate:.2f} s "
                          "of noise only")
    db = _stft_db(mono, n_fft)
    return NoiseProfile(int(sample_rate), n_fft, np.mean(db, axis=1), np.std(db, axis=1)).encode()


def reduce(audio: np.ndarray, sample_rate: int, profile: NoiseProfile, reduction_db: float,
           sensitivity: float, freq_smooth_hz: float, time_smooth_ms: float) -> np.ndarray:
    """noisereduce's stationary gate over planar ``audio`` with the captured ``profile``."""
    from noisereduce.spectralgate.stationary import SpectralGateStationary

    n_fft = N_FFT if sample_rate > 32000 else N_FFT // 2
    prop = 1.0 - 10.0 ** (-reduction_db / 20.0)
    hop = n_fft // 4
    min_freq = sample_rate / (n_fft / 2)
    min_time = 1000.0 * hop / sample_rate
    gate = SpectralGateStationary(
        y=np.asarray(audio, dtype=np.float32), sr=sample_rate, y_noise=np.zeros(n_fft * 2, np.float32),
        n_std_thresh_stationary=sensitivity, chunk_size=600000, clip_noise_stationary=True, padding=30000,
        n_fft=n_fft, win_length=None, hop_length=None, time_constant_s=2.0,
        freq_mask_smooth_hz=max(freq_smooth_hz, min_freq), time_mask_smooth_ms=max(time_smooth_ms, min_time),
        tmp_folder=None, prop_decrease=prop, use_tqdm=False, n_jobs=1)
    mean, std = profile.for_rate(sample_rate, n_fft)
    gate.mean_freq_noise = mean
    gate.std_freq_noise = std
    gate.noise_thresh = mean + std * sensitivity
    out = gate.get_traces()
    return np.asarray(out, dtype=np.float32).reshape(audio.shape)
