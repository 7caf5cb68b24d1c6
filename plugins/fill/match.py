"""Context match: fill a gap with the stretch of the clip that best continues both edges.

1. Frame features (log-mel, chroma, onset strength; :mod:`.features`) of the mono
   mix of the clip, plus any wider material the caller provides.
2. For every candidate source position, the weighted squared feature distance
   between the context before and after the gap and the context around the
   candidate (frames next to the gap weigh most), computed for all positions at
   once by FFT correlation.
3. A beat prior: when the clip has a clear pulse, offsets that are not a whole
   number of beats cost extra, so the rhythm carries on through the fill.
4. The best distinct positions (non-maximum suppression, at least half a gap or
   half a beat apart) become takes; each is aligned to the sample by
   cross-correlation at both edges, matched in level (a dB ramp from the left
   edge's ratio to the right edge's) and spectral envelope (a gentle linear-phase
   EQ), then spliced in with cross-fades placed where old and new agree best.

Stereo: one position and one alignment for all channels, so the image stays whole.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import signal

from editor.core.task import TaskContext

from . import splice
from .features import Beat, Frames, clean_frames, compute_frames, estimate_beat, frame_params, sliding_distance
from .take import Take

BEAT_WEIGHT = 0.5


@dataclass(frozen=True)
class MatchSettings:
    """Context length (s, 0 = automatic), cross-fade and splice search (s), beat prior weight."""

    context: float = 0.0
    xfade: float = 0.0
    splice_search: float = 0.02
    beat_weight: float = BEAT_WEIGHT

    def context_for(self, gap_seconds: float) -> float:
        if self.context > 0:
            return self.context
        return float(np.clip(1.5 * gap_seconds, 1.0, 2.0))

    def xfade_for(self, gap_seconds: float) -> float:
        if self.xfade > 0:
            return self.xfade
        return float(np.clip(0.25 * gap_seconds, 0.005, 0.03))


@dataclass
class _Search:
    material: np.ndarray  # (channels, M): the clip, then a silent guard, then any extra material
    mono: np.ndarray
    bad: np.ndarray  # (M,) samples no source may touch: the gap, the guard
    n: int  # frames of the clip itself
    extra_start: int  # where the extra material begins in ``material``
    frames: Frames
    beat: Beat


def _prepare(x: np.ndarray, rate: int, a: int, b: int, extra: np.ndarray | None) -> _Search:
    hop, n_fft = frame_params(rate)
    parts = [np.asarray(x, np.float64)]
    bad = [np.zeros(x.shape[1], bool)]
    bad[0][a:b] = True
    if extra is not None and extra.shape[1] > 0:
        if extra.shape[0] != x.shape[0]:
            raise ValueError("the extra material must have as many channels as the audio")
        guard = n_fft + 2 * hop
        parts += [np.zeros((x.shape[0], guard)), np.asarray(extra, np.float64)]
        bad += [np.ones(guard, bool), np.zeros(extra.shape[1], bool)]
    material = np.concatenate(parts, axis=1)
    mono = material.mean(axis=0)
    mono_clean = mono.copy()
    bad_s = np.concatenate(bad)
    mono_clean[bad_s] = 0.0
    n_frames = 1 + material.shape[1] // hop
    cum = np.concatenate([[0], np.cumsum(bad_s)])
    t = np.arange(n_frames) * hop
    lo = np.clip(t - n_fft // 2, 0, material.shape[1])
    hi = np.clip(t + n_fft // 2, 0, material.shape[1])
    bad_f = (cum[hi] - cum[lo]) > 0
    frames = compute_frames(mono_clean, rate, valid=~bad_f)
    beat = estimate_beat(frames.onset, hop, rate, valid=~bad_f)
    extra_start = material.shape[1] - (extra.shape[1] if extra is not None else 0)
    return _Search(material, mono, bad_s, x.shape[1], extra_start, frames, beat)


@dataclass(frozen=True)
class _Candidate:
    pos: int  # material sample aligned with the gap's first sample
    cost: float
    feature: float
    beat: float


def _rank(s: _Search, a: int, b: int, ctx_seconds: float, margin: int, beat_weight: float) -> list[_Candidate]:
    """Source positions on the frame grid, cheapest first, after non-maximum suppression.

    A candidate's context may run off the material or into the gap; those frames
    simply do not count (the distance is a weighted mean over the frames that
    exist), and candidates judged on little context are trusted less.
    """
    fr = s.frames
    hop, half = fr.hop, fr.n_fft // 2
    n_frames = fr.feat.shape[0]
    wf = max(3, int(round(ctx_seconds * fr.rate / hop)))
    tp1 = (a - half) // hop  # last frame wholly before the gap
    tq0 = -(-(b + half) // hop)  # first frame wholly after it
    last_full = (s.n - half) // hop  # last frame wholly inside the clip
    has_pre = tp1 >= 1 and a > 0
    has_post = tq0 <= last_full - 1 and b < s.n
    if not has_pre and not has_post:
        return []
    tp0 = max(0, tp1 - wf + 1) if has_pre else max(0, a // hop)
    tq1 = min(last_full, tq0 + wf - 1) if has_post else max(tp0, b // hop)
    span = tq1 - tp0 + 1
    w = np.zeros(span)
    if has_pre:
        t = np.arange(tp0, tp1 + 1)
        w[t - tp0] = np.exp(-(tp1 - t) / (0.5 * wf))
    if has_post:
        t = np.arange(tq0, tq1 + 1)
        w[t - tp0] = np.exp(-(t - tq0) / (0.5 * wf))
    # Frames a candidate may be judged on: wholly on clean material.
    mask = clean_frames(s.bad, n_frames, hop, fr.n_fft)
    dist, coverage = sliding_distance(fr.feat, mask, fr.feat[tp0:tp0 + span], w)
    starts = np.arange(dist.size) - span  # frame where the candidate's template span begins
    shift = (tp0 - starts) * hop  # gap start minus source start, in samples
    pos = a - shift
    m_len = s.material.shape[1]
    cum = np.concatenate([[0], np.cumsum(s.bad)])
    # The copied stretch itself (with cross-fade room) must lie on clean material.
    c_lo = pos - margin
    c_hi = pos + (b - a) + margin
    inside = (c_lo >= 0) & (c_hi <= m_len)
    clean_copy = inside & ((cum[np.clip(c_hi, 0, m_len)] - cum[np.clip(c_lo, 0, m_len)]) == 0)
    valid = clean_copy & (coverage >= 0.3)
    if not valid.any():
        return []
    feat_cost = dist / (np.median(dist[valid]) + 1e-12) * (2.0 - coverage)
    beat_cost = np.zeros_like(feat_cost)
    if s.beat.period > 0 and beat_weight > 0:
        phase = shift / s.beat.period
        beat_cost = beat_weight * s.beat.strength * 0.5 * (1.0 - np.cos(2 * np.pi * phase))
    cost = np.where(valid, feat_cost + beat_cost, np.inf)
    # Non-maximum suppression: distinct takes come from distinct places.
    sep = max(5, int(0.5 * (b - a) / hop), int(0.5 * s.beat.period / hop) if s.beat.strength > 0.2 else 0)
    order = np.argsort(cost, kind="stable")
    taken = np.zeros(cost.size, bool)
    out: list[_Candidate] = []
    for i in order:
        if not np.isfinite(cost[i]) or len(out) >= 64:
            break
        if taken[i]:
            continue
        out.append(_Candidate(int(pos[i]), float(cost[i]), float(feat_cost[i]), float(beat_cost[i])))
        taken[max(0, i - sep): i + sep + 1] = True
    return out


def _align(s: _Search, a: int, b: int, pos: int, reach: int, window: int, n_clip: int) -> int:
    """Shift ``pos`` by up to ``reach`` samples to maximise the waveform correlation at both edges."""
    mono, m = s.mono, s.material.shape[1]
    score = np.zeros(2 * reach + 1)
    used = False
    if a - window >= 0:
        ref = mono[a - window:a]
        lo = pos - reach - window
        if lo >= 0 and pos + reach <= m:
            seg = mono[lo:pos + reach]
            score += _ncc(seg, ref)
            used = True
    if b + window <= n_clip:
        ref = mono[b:b + window]
        lo = pos + (b - a) - reach
        if lo >= 0 and lo + 2 * reach + window <= m:
            seg = mono[lo:lo + 2 * reach + window]
            score += _ncc(seg, ref)
            used = True
    if not used:
        return pos
    return pos + int(np.argmax(score)) - reach


def _ncc(seg: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Normalised cross-correlation of ``ref`` against every position of ``seg`` ('valid')."""
    num = signal.correlate(seg, ref, mode="valid", method="fft")
    c = np.concatenate([[0.0], np.cumsum(seg * seg)])
    k = ref.size
    den = np.sqrt((c[k:] - c[:-k]) * float(np.dot(ref, ref))) + 1e-12
    return num / den


def _build(s: _Search, x: np.ndarray, rate: int, a: int, b: int, pos: int, xf: int, search: int,
           level_len: int) -> tuple[int, int, np.ndarray] | None:
    """The take's span and audio for source ``pos`` (aligned to the gap start), or None if out of range."""
    n = x.shape[1]
    has_pre, has_post = a >= xf, n - b >= xf  # room for a cross-fade outside the gap
    start = max(0, a - xf - search) if has_pre else 0
    stop = min(n, b + xf + search) if has_post else n
    m = s.material.shape[1]
    fir_margin = int(0.01 * rate)
    s0, s1 = pos - (a - start), pos + (stop - a)
    if s0 < 0 or s1 > m:
        return None
    gap = b - a

    def clean(sig: np.ndarray, lo: int, hi: int, off: int = 0) -> np.ndarray:
        lo, hi = max(0, lo), min(m, hi)
        return sig[lo - off:hi - off][~s.bad[lo:hi]]

    src_mono_pre = clean(s.mono, pos - level_len, pos)
    src_mono_post = clean(s.mono, pos + gap, pos + gap + level_len)
    tgt_pre = x[:, max(0, a - level_len):a].mean(axis=0)
    tgt_post = x[:, b:b + level_len].mean(axis=0)
    e0, e1 = max(0, s0 - fir_margin), min(m, s1 + fir_margin)
    src = s.material[:, e0:e1]
    fir = splice.tone_match_filter(np.concatenate([tgt_pre, tgt_post]),
                                   np.concatenate([src_mono_pre, src_mono_post]), rate)
    if fir is not None:
        src = splice.apply_fir(src, fir)
        # Level is judged after the EQ, on the same material.
        off = max(0, pos - level_len - fir_margin)
        filt = splice.apply_fir(s.mono[None, off:pos + gap + level_len + fir_margin], fir)[0]
        src_mono_pre = clean(filt, pos - level_len, pos, off)
        src_mono_post = clean(filt, pos + gap, pos + gap + level_len, off)
    src = src[:, s0 - e0: s1 - e0]
    g_pre = splice.level_gain(tgt_pre, src_mono_pre) if has_pre else None
    g_post = splice.level_gain(tgt_post, src_mono_post) if has_post else None
    g_l = g_pre if g_pre is not None else g_post
    g_r = g_post if g_post is not None else g_pre
    src = src * splice.gain_ramp(stop - start, a - start, b - start, g_l or 1.0, g_r or 1.0)[None, :]
    orig = np.asarray(x[:, start:stop], np.float64)
    mo, ms = orig.mean(axis=0), src.mean(axis=0)
    left = right = None
    if has_pre:
        left = splice.best_xfade_start(mo, ms, 0, max(0, a - start - xf), xf, prefer_late=True)
    if has_post:
        right = splice.best_xfade_start(mo, ms, b - start, max(b - start, stop - start - xf), xf,
                                        prefer_late=False)
    out = splice.splice(orig, src, left, right, xf)
    return start, stop, out.astype(np.float32)


def match_takes(x: np.ndarray, rate: int, a: int, b: int, n_takes: int = 5, ctx: TaskContext | None = None,
                settings: MatchSettings | None = None, extra: np.ndarray | None = None) -> list[Take]:
    """Up to ``n_takes`` ranked, distinct context-match fills of ``[a, b)`` of planar ``x``."""
    ctx = ctx or TaskContext()
    st = settings or MatchSettings()
    gap_s = (b - a) / rate
    xf = max(8, int(st.xfade_for(gap_s) * rate))
    search = int(st.splice_search * rate)
    ctx.progress(0.05, "Fill: analysing the material")
    s = _prepare(x, rate, a, b, extra)
    ctx.check()
    ctx.progress(0.5, "Fill: searching for matching material")
    margin = xf + search + int(0.011 * rate) + s.frames.hop
    context = st.context_for(gap_s)
    cands = _rank(s, a, b, context, margin, st.beat_weight)
    takes: list[Take] = []
    hop = s.frames.hop
    level_len = int(min(0.25, context) * rate)
    gap_audio: list[np.ndarray] = []
    for c in cands:
        ctx.check()
        pos = _align(s, a, b, c.pos, hop, max(xf + search, int(0.01 * rate)), s.n)
        built = _build(s, x, rate, a, b, pos, xf, search, level_len)
        if built is None:
            continue
        start, stop, audio = built
        g = audio[:, a - start: b - start].astype(np.float64)
        if any(_same(g, h) for h in gap_audio):
            continue
        gap_audio.append(g)
        in_clip = pos < s.n
        where = (pos if in_clip else pos - s.extra_start) / rate  # seconds into the clip or into ``extra``
        src_name = "clip" if in_clip else "wider range"
        takes.append(Take(
            index=len(takes), engine="match", start=start, stop=stop, audio=audio, score=c.cost,
            label=f"Material from {where:.3f} s ({src_name})",
            params={"source_seconds": round(where, 4), "source": src_name, "feature_cost": round(c.feature, 4),
                    "beat_cost": round(c.beat, 4), "beat_period_s": round(s.beat.period / rate, 4),
                    "beat_strength": round(s.beat.strength, 3), "xfade_s": round(xf / rate, 4)},
        ))
        ctx.progress(0.5 + 0.5 * len(takes) / n_takes, "Fill: building takes")
        if len(takes) >= n_takes:
            break
    return takes


def _same(u: np.ndarray, v: np.ndarray) -> bool:
    """Two fills are the same take if they differ by less than -23 dB (relative energy)."""
    num = float(np.sum((u - v) ** 2))
    den = float(np.sum(u * u) + np.sum(v * v)) + 1e-20
    return num / den < 0.005
