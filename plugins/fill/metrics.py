"""How good a fill is: measures shared by the tests and the benchmark.

All take planar float32 audio (channels, frames) and the gap ``[a, b)`` in frames.
``ref`` is the true audio (what was there before the gap was made), ``est`` the
filled result; both have the same shape.

* :func:`gap_snr` — waveform SNR inside the gap (dB, higher is better). Only
  meaningful for short gaps, where a fill can follow the true waveform.
* :func:`log_spectral_distance` — RMS over frequency of the dB difference between
  power spectra, averaged over STFT frames centred in the gap (dB, lower is better).
* :func:`mel_l1` — mean absolute difference of log-mel spectrograms (dB) over the
  same frames (lower is better).
* :func:`boundary_discontinuity` — the largest sample-to-sample step where the fill
  meets the original, relative to the 99.9th percentile of the steps the signal
  itself takes around there. Above 1 means a step larger than the signal's own
  variation: an audible click.
"""

from __future__ import annotations

import numpy as np

FLOOR_DB = -100.0


def gap_snr(ref: np.ndarray, est: np.ndarray, a: int, b: int) -> float:
    """SNR of ``est`` against ``ref`` inside ``[a, b)``, in dB."""
    r = np.asarray(ref, np.float64)[:, a:b]
    e = np.asarray(est, np.float64)[:, a:b]
    num = float(np.sum(r * r))
    den = float(np.sum((r - e) ** 2))
    if den <= 0:
        return float("inf")
    return 10.0 * np.log10(max(num, 1e-20) / den)


def _frames_in_gap(n_frames: int, hop: int, a: int, b: int) -> np.ndarray:
    centres = np.arange(n_frames) * hop
    idx = np.nonzero((centres >= a) & (centres < b))[0]
    if idx.size == 0:  # gap shorter than a hop: the frame nearest its middle
        idx = np.array([min(n_frames - 1, int(round((a + b) / 2 / hop)))])
    return idx


def _power_db(x: np.ndarray, n_fft: int, hop: int) -> np.ndarray:
    """Power spectrogram in dB per channel: (channels, bins, frames); a full-scale sine reads about 0 dB."""
    win = np.hanning(n_fft + 1)[:-1]
    pad = n_fft // 2
    xp = np.pad(np.asarray(x, np.float64), ((0, 0), (pad, pad)))
    n_frames = 1 + (xp.shape[1] - n_fft) // hop
    idx = np.arange(n_fft)[None, :] + hop * np.arange(n_frames)[:, None]
    spec = np.fft.rfft(xp[:, idx] * win, axis=-1) * (2.0 / win.sum())
    p = np.abs(spec) ** 2
    return np.transpose(10.0 * np.log10(np.maximum(p, 10 ** (FLOOR_DB / 10))), (0, 2, 1))


def stft_size(rate: int) -> tuple[int, int]:
    """FFT size (about 21 ms) and hop (a quarter of it) used by the spectral measures."""
    n_fft = 1 << int(round(np.log2(0.0213 * rate)))
    return n_fft, n_fft // 4


def log_spectral_distance(ref: np.ndarray, est: np.ndarray, rate: int, a: int, b: int) -> float:
    """Log-spectral distance in dB over STFT frames centred in the gap."""
    n_fft, hop = stft_size(rate)
    lo, hi = max(0, a - n_fft), min(ref.shape[1], b + n_fft)
    pr = _power_db(ref[:, lo:hi], n_fft, hop)
    pe = _power_db(est[:, lo:hi], n_fft, hop)
    idx = _frames_in_gap(pr.shape[2], hop, a - lo, b - lo)
    d = pr[:, :, idx] - pe[:, :, idx]
    return float(np.mean(np.sqrt(np.mean(d * d, axis=1))))


def _mel_matrix(rate: int, n_fft: int, n_mels: int = 64) -> np.ndarray:
    import librosa

    return librosa.filters.mel(sr=rate, n_fft=n_fft, n_mels=n_mels, fmin=20.0, fmax=rate / 2)


def mel_l1(ref: np.ndarray, est: np.ndarray, rate: int, a: int, b: int) -> float:
    """Mean absolute log-mel difference in dB over STFT frames centred in the gap."""
    n_fft, hop = stft_size(rate)
    lo, hi = max(0, a - n_fft), min(ref.shape[1], b + n_fft)
    mel = _mel_matrix(rate, n_fft)
    floor = 10 ** (FLOOR_DB / 10)

    def logmel(x: np.ndarray) -> np.ndarray:
        p = 10 ** (_power_db(x[:, lo:hi], n_fft, hop) / 10)
        return 10.0 * np.log10(np.maximum(np.einsum("mf,cft->cmt", mel, p), floor))

    mr, me = logmel(ref), logmel(est)
    idx = _frames_in_gap(mr.shape[2], hop, a - lo, b - lo)
    return float(np.mean(np.abs(mr[:, :, idx] - me[:, :, idx])))


def changed_span(before: np.ndarray, after: np.ndarray) -> tuple[int, int]:
    """First and one-past-last frame where ``after`` differs from ``before`` (``(0, 0)`` if none)."""
    diff = np.any(np.asarray(before) != np.asarray(after), axis=0)
    idx = np.nonzero(diff)[0]
    if idx.size == 0:
        return 0, 0
    return int(idx[0]), int(idx[-1]) + 1


def boundary_discontinuity(before: np.ndarray, after: np.ndarray, rate: int, a: int, b: int,
                           context_seconds: float = 0.5, reference: np.ndarray | None = None) -> float:
    """Largest step at a join, over the 99.9th percentile of the signal's own steps.

    ``before`` is the input to the fill (its gap content does not matter), ``after``
    the filled result. The joins are the gap edges ``a`` and ``b`` and the edges of
    the span the fill actually changed (cross-fades may reach into the context).
    The signal's own steps are taken over ``context_seconds`` on each side: from
    ``before``, outside the changed span and the gap; or, when the true audio is
    known (``reference``, as in the benchmark), from it over the context and the
    gap together, so a drum attack that belongs at a join is not counted as a
    click. Returns the worst ratio over channels.
    """
    n = after.shape[1]
    c0, c1 = changed_span(before, after)
    lo_edge, hi_edge = min(a, c0) if c1 > c0 else a, max(b, c1)
    joins = sorted({j for j in (a, b, c0, c1) if 0 < j < n})
    ctx = int(context_seconds * rate)
    d_before = np.abs(np.diff(np.asarray(before, np.float64), axis=1))
    d_after = np.abs(np.diff(np.asarray(after, np.float64), axis=1))
    d_ref = None if reference is None else np.abs(np.diff(np.asarray(reference, np.float64), axis=1))
    worst = 0.0
    for ch in range(after.shape[0]):
        if d_ref is not None:
            ref_d = d_ref[ch, max(0, lo_edge - ctx):min(n - 1, hi_edge + ctx)]
        else:
            ref_d = np.concatenate([d_before[ch, max(0, lo_edge - ctx):max(0, lo_edge - 1)],
                                    d_before[ch, min(n - 1, hi_edge + 1):min(n - 1, hi_edge + ctx)]])
        if ref_d.size == 0:
            continue
        scale = max(float(np.percentile(ref_d, 99.9)), 1e-12)
        steps = [d_after[ch, j - 1] for j in joins]
        if steps:
            worst = max(worst, max(steps) / scale)
    return float(worst)


def joins_of(before: np.ndarray, after: np.ndarray, start: int, stop: int) -> list[int]:
    """Where a fill meets the original: the replaced span's edges and the edges of what actually changed."""
    n = after.shape[1]
    c0, c1 = changed_span(before, after)
    cand = {start, stop} | ({c0, c1} if c1 > c0 else set())
    return sorted(j for j in cand if 0 < j < n)


def _highpass(x: np.ndarray, rate: int, cutoff: float) -> np.ndarray:
    from scipy import signal

    sos = signal.butter(4, cutoff, "highpass", fs=rate, output="sos")
    return signal.sosfiltfilt(sos, np.asarray(x, np.float64), axis=-1)


def edge_hf_excess(ref: np.ndarray, est: np.ndarray, rate: int, joins: list[int], window_ms: float = 2.0,
                   cutoff: float = 4000.0) -> float:
    """Largest excess (dB) of high-frequency energy in a short window around each join over the original's.

    ``ref`` is the true audio, ``est`` the filled result. Energy above ``cutoff``
    in ``±window_ms`` around each join; the original's energy is floored at 40 dB
    below its average high-frequency power, so digital silence in the original
    does not make the ratio infinite. A click shows as 20 dB or more; a fill that
    continues the material reads near 0 (it may be negative).
    """
    hr, he = _highpass(ref, rate, cutoff), _highpass(est, rate, cutoff)
    floor = float(np.mean(hr ** 2)) * 1e-4 + 1e-20
    w = max(1, int(window_ms * 1e-3 * rate))
    worst = -np.inf
    for j in joins:
        lo, hi = max(0, j - w), min(est.shape[1], j + w)
        er = float(np.mean(hr[:, lo:hi] ** 2)) + floor
        ee = float(np.mean(he[:, lo:hi] ** 2)) + floor
        worst = max(worst, 10 * np.log10(ee / er))
    return float(worst)


def join_hf_peak(est: np.ndarray, rate: int, joins: list[int], window_ms: float = 2.0, cutoff: float = 4000.0) -> float:
    """Largest local high-frequency peak at a join (dB): energy in ``±window_ms`` around the join over
    the louder of the two windows next to it (``window_ms`` to 5 × ``window_ms`` away on each side).

    Reads near 0 or below when the join is smooth whatever the material does; a click
    (a broadband burst at the join) reads several dB to tens of dB above.
    """
    he = _highpass(est, rate, cutoff) ** 2
    w = max(1, int(window_ms * 1e-3 * rate))
    floor = float(np.mean(he)) * 1e-6 + 1e-20
    worst = -np.inf
    for j in joins:
        centre = float(np.mean(he[:, max(0, j - w):j + w])) + floor
        left = float(np.mean(he[:, max(0, j - 5 * w):max(0, j - w)])) if j - w > 0 else 0.0
        right = float(np.mean(he[:, j + w:j + 5 * w])) if j + w < est.shape[1] else 0.0
        worst = max(worst, 10 * np.log10(centre / (max(left, right) + floor)))
    return float(worst)


def slope_discontinuity(reference: np.ndarray, est: np.ndarray, rate: int, joins: list[int],
                        context_seconds: float = 0.25) -> float:
    """Largest change of slope (second difference) at a join, over the 99.9th percentile of the
    true signal's own second differences around it. Above 1: a kink sharper than the material makes.

    The scale is floored at 1 % of the clip's own 99.9th percentile, so a join inside digital
    silence (a speech pause) is judged against the clip, not against zero.
    """
    d2 = np.abs(np.diff(np.asarray(est, np.float64), n=2, axis=1))
    r2 = np.abs(np.diff(np.asarray(reference, np.float64), n=2, axis=1))
    ctx = int(context_seconds * rate)
    worst = 0.0
    for ch in range(est.shape[0]):
        floor = 0.01 * float(np.percentile(r2[ch], 99.9)) if r2.shape[1] else 0.0
        for j in joins:
            ref_d = r2[ch, max(0, j - ctx):min(r2.shape[1], j + ctx)]
            if ref_d.size == 0 or not 1 <= j < d2.shape[1] + 1:
                continue
            scale = max(float(np.percentile(ref_d, 99.9)), floor, 1e-12)
            worst = max(worst, float(d2[ch, max(0, j - 2):j + 1].max()) / scale)
    return worst
