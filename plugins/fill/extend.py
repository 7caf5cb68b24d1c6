"""Extend: continue a clip past its end (or before its start) with its own material.

The clip's last seconds are compared (log-mel, chroma and onset features, frames
near the end weighing most) with every earlier position; the best position ``q``
becomes a loop point: after the end, the audio carries on from ``q`` as if the
clip had jumped back there, and for extensions longer than the loop the loop
``[q, end)`` repeats. The loop length is favoured to be a whole number of beats
(and of four-beat bars) when the clip has a clear pulse, and longer loops are
favoured over short ones (less audible repetition). The seam is aligned to the
sample by cross-correlation and cross-faded where the two sides agree best, and
every repetition reuses the same seam, so all joins are as clean as the first.

Extending before the start is the same problem in reversed time: the clip is
reversed, extended at its end, and reversed back (so the new material plays
forwards).
"""

from __future__ import annotations

import numpy as np

from editor.core.task import TaskContext
from editor.effects.base import EffectError

from . import splice
from .features import clean_frames, compute_frames, estimate_beat, frame_params, sliding_distance
from .take import Take


def extend_candidates(audio: np.ndarray, rate: int, seconds: float, direction: str = "end", n_takes: int = 3,
                      ctx: TaskContext | None = None, context: float = 1.0) -> list[Take]:
    """Ranked extensions of planar ``audio`` by ``seconds``; apply one with ``take.apply(audio)``.

    Each take replaces frames ``[start, stop)`` of the input (the seam's cross-fade)
    with ``take.audio``, which is longer by the extension.
    """
    ctx = ctx or TaskContext()
    if direction not in ("end", "start"):
        raise EffectError(f"direction must be 'end' or 'start' (got {direction!r})")
    x = np.asarray(audio, np.float64)
    k = int(round(seconds * rate))
    if k <= 0:
        raise EffectError("the extension must be longer than zero seconds")
    if x.shape[1] < int(0.05 * rate):
        raise EffectError("the clip is too short to extend (at least 50 ms)")
    rev = direction == "start"
    if rev:
        x = x[:, ::-1]
    takes = _extend_end(np.ascontiguousarray(x), rate, k, n_takes, ctx, context, rev)
    if rev:
        n = x.shape[1]
        takes = [_reversed(t, n, rate) for t in takes]
    ctx.progress(1.0, "Extend: done")
    return takes


def _reversed(t: Take, n: int, rate: int) -> Take:
    """A take made on the reversed clip, in the clip's own time: the loop is ``[0, loop_end)``."""
    params = dict(t.params)
    if t.engine == "silence":
        return Take(t.index, t.engine, n - t.stop, n - t.start, np.ascontiguousarray(t.audio[:, ::-1]), t.score,
                    "Silence (the clip starts in silence)", {**params, "direction": "start"})
    start_s = params.pop("loop_start_s")
    params["loop_end_s"] = round(n / rate - start_s, 4)
    params["direction"] = "start"
    label = f"Loop up to {params['loop_end_s']:.3f} s ({params['loop_seconds']:.3f} s long)"
    return Take(t.index, t.engine, n - t.stop, n - t.start, np.ascontiguousarray(t.audio[:, ::-1]), t.score,
                label, params)


def extend(audio: np.ndarray, rate: int, seconds: float, direction: str = "end", take: int = 0,
           ctx: TaskContext | None = None) -> tuple[np.ndarray, Take]:
    """``audio`` extended by ``seconds`` at its end or start with take number ``take``."""
    ctx = ctx or TaskContext()
    takes = extend_candidates(audio, rate, seconds, direction, take + 1, ctx)
    chosen = takes[min(take, len(takes) - 1)]
    if take >= len(takes):
        ctx.warn(f"Extend: only {len(takes)} take(s); using take {chosen.index}")
    return chosen.apply(np.asarray(audio, np.float32)), chosen


def _extend_end(x: np.ndarray, rate: int, k: int, n_takes: int, ctx: TaskContext, context: float,
                reverse: bool = False) -> list[Take]:
    n = x.shape[1]
    mono = x.mean(axis=0)
    hop, n_fft = frame_params(rate)
    xf = int(min(0.03 * rate, 0.1 * n))
    search = int(min(0.02 * rate, 0.05 * n))
    ctx.progress(0.05, "Extend: analysing the clip")
    tail = _tail_state(mono, rate)
    if tail == "silent":
        where = "starts" if reverse else "ends"
        ctx.warn(f"Extend: the clip {where} in silence; the extension continues the silence")
        return [_silence_take(x, rate, k)]
    ceiling = _level_ceiling(mono, rate) if tail == "faded" else None
    ends = _loop_points(mono, rate, n, hop, n_fft, xf + search, context, ceiling)
    if tail == "faded" and not ends:
        what = "starts with a fade-in and its quiet lead-in" if reverse else "ends in a fade-out and its quiet tail"
        raise EffectError(f"the clip {what} is too short to continue (Extend would repeat louder material); "
                          "there is nothing to continue")
    ctx.check()
    takes: list[Take] = []
    seen: list[np.ndarray] = []
    for q, cost, beat_info in ends:
        q = _align_seam(mono, n, q, hop, max(xf + search, int(0.01 * rate)))
        period = n - q
        if period < xf + search + 1 or q - xf - search < 0:
            continue
        lo = n - xf - search
        # The continuation is the clip delayed by one loop period: src(t) = x(t - period).
        src = x[:, lo - period: n - period]
        c = lo + splice.best_xfade_start(mono[lo:n], src.mean(axis=0), 0, search, xf, prefer_late=True)
        seam_o = x[:, c:c + xf]
        seam_s = x[:, c - period:c - period + xf]
        g_out, g_in = splice.xfade_curves(xf, splice.correlation(seam_o.mean(axis=0), seam_s.mean(axis=0)))
        seam = seam_o * g_out + seam_s * g_in
        body = np.concatenate([x[:, c + xf - period:c], seam], axis=1)  # one period ending at c + xf
        need = n + k - (c + xf)
        reps = int(np.ceil(need / period)) if need > 0 else 0
        tail = np.tile(body, (1, reps))[:, :need] if reps else np.zeros((x.shape[0], 0))
        audio = np.concatenate([seam, tail], axis=1).astype(np.float32)
        probe = audio[:, xf: xf + min(need, int(0.5 * rate))].astype(np.float64)
        if any(p.shape == probe.shape and _same(p, probe) for p in seen):
            continue
        seen.append(probe)
        takes.append(Take(
            index=len(takes), engine="loop", start=c, stop=n, audio=audio, score=cost,
            label=f"Loop from {q / rate:.3f} s ({period / rate:.3f} s long)",
            params={"loop_start_s": round(q / rate, 4), "loop_seconds": round(period / rate, 4),
                    "repeats": round(max(0, need) / period, 2), **beat_info},
        ))
        ctx.progress(0.5 + 0.5 * len(takes) / n_takes, "Extend: building takes")
        if len(takes) >= n_takes:
            break
    if not takes:
        raise EffectError("the clip is too short to find a loop to extend it with")
    return takes


#: A clip whose last half second is this far below its body (dB) ends in a fade-out.
FADE_DB = 20.0
#: ... and in silence below this level (dBFS), or when its last half second is digital silence.
SILENT_DBFS = -70.0
_ENV_S = 0.05


def _envelope_db(mono: np.ndarray, rate: int) -> np.ndarray:
    """RMS level in dBFS of consecutive 50 ms blocks."""
    w = max(1, int(_ENV_S * rate))
    m = mono[: mono.size // w * w].reshape(-1, w) if mono.size >= w else mono[None, :]
    return 10 * np.log10(np.mean(m.astype(np.float64) ** 2, axis=1) + 1e-20)


def _tail_state(mono: np.ndarray, rate: int) -> str:
    """``"silent"``, ``"faded"`` (much quieter than the body) or ``"playing"``: how the clip ends."""
    env = _envelope_db(mono, rate)
    last = env[-max(1, int(0.5 / _ENV_S)):]
    end_db = 10 * np.log10(np.mean(10 ** (last / 10)))
    if end_db < SILENT_DBFS:
        return "silent"
    body_db = float(np.percentile(env, 90))
    return "faded" if end_db < body_db - FADE_DB else "playing"


def _level_ceiling(mono: np.ndarray, rate: int) -> tuple[np.ndarray, float, int]:
    """For a faded ending: per 50 ms block, the loudest block from there to the end (dB), the
    allowed maximum (the last half second's loudest block + 6 dB) and the block length."""
    env = _envelope_db(mono, rate)
    after = np.maximum.accumulate(env[::-1])[::-1]
    limit = float(env[-max(1, int(0.5 / _ENV_S)):].max()) + 6.0
    return after, limit, max(1, int(_ENV_S * rate))


def _silence_take(x: np.ndarray, rate: int, k: int) -> Take:
    """The clip's end followed by ``k`` samples of silence (its last samples fade to zero over 5 ms)."""
    n = x.shape[1]
    f = min(n, int(0.005 * rate))
    seg = x[:, n - f:] * np.linspace(1.0, 0.0, f)[None, :] if f else x[:, n:]
    audio = np.concatenate([seg, np.zeros((x.shape[0], k))], axis=1).astype(np.float32)
    return Take(0, "silence", n - f, n, audio, 0.0, "Silence (the clip ends in silence)",
                {"tail": "silent"})


def _loop_points(mono: np.ndarray, rate: int, n: int, hop: int, n_fft: int, room: int,
                 context: float, ceiling: tuple[np.ndarray, float, int] | None = None
                 ) -> list[tuple[int, float, dict]]:
    """Candidate loop starts ``q`` (the clip resumes at ``q`` after its end), cheapest first.

    ``ceiling`` (a faded ending): only loops whose material stays within 6 dB of the
    quiet tail's level qualify, so the extension never brings back louder material.
    """
    frames = compute_frames(mono, rate)
    beat = estimate_beat(frames.onset, hop, rate)
    n_frames = frames.feat.shape[0]
    last = (n - n_fft // 2) // hop  # last frame wholly inside the clip
    wf = int(np.clip(context * rate / hop, 3, max(3, last // 3)))
    t0 = max(0, last - wf + 1)
    span = last - t0 + 1
    w = np.exp(-(last - np.arange(t0, last + 1)) / (0.5 * span))
    mask = clean_frames(np.zeros(n, bool), n_frames, hop, n_fft)
    dist, coverage = sliding_distance(frames.feat, mask, frames.feat[t0:last + 1], w)
    starts = np.arange(dist.size) - span
    # A template starting at frame s ends at s + span - 1, whose next frame plays next: q = (s + span) * hop + offset.
    q = (starts + span) * hop + (n - (last + 1) * hop)
    period = n - q
    min_period = max(room + 1, int(0.25 * rate), int(2 * beat.period) if beat.strength > 0.2 else 0)
    min_period = min(min_period, int(0.6 * n))
    valid = (q - room >= 0) & (period >= min_period) & (coverage >= 0.5)
    if ceiling is not None:
        after, limit, block = ceiling
        lvl = after[np.clip((q - room) // block, 0, after.size - 1)]
        valid &= lvl <= limit
        min_len = int(0.25 * rate)
        if not valid.any():
            # A short quiet tail: loops shorter than two beats are still better than louder material.
            short = (q - room >= 0) & (period >= min(min_len, int(0.6 * n))) & (coverage >= 0.5)
            valid = short & (lvl <= limit)
        if not valid.any():
            return []
    if not valid.any():
        q_all = max(room, n // 10)
        return [(q_all, 0.0, {"beat_period_s": 0.0})]
    cost = dist / (np.median(dist[valid]) + 1e-12) * (2.0 - coverage)
    beat_cost = np.zeros_like(cost)
    if beat.period > 0 and beat.strength > 0.2:
        ph = period / beat.period
        beat_cost = 0.5 * beat.strength * (0.5 * (1 - np.cos(2 * np.pi * ph)) + 0.25 * (1 - np.cos(np.pi * ph / 2)))
    length_cost = 0.1 * min_period / np.maximum(period, 1)
    total = np.where(valid, cost + beat_cost + length_cost, np.inf)
    sep = max(5, int(0.5 * beat.period / hop) if beat.strength > 0.2 else int(0.25 * rate / hop))
    order = np.argsort(total, kind="stable")
    taken = np.zeros(total.size, bool)
    out = []
    for i in order:
        if not np.isfinite(total[i]) or len(out) >= 32:
            break
        if taken[i]:
            continue
        taken[max(0, i - sep): i + sep + 1] = True
        out.append((int(q[i]), float(total[i]), {"beat_period_s": round(beat.period / rate, 4),
                                                  "beat_strength": round(beat.strength, 3)}))
    return out


def _align_seam(mono: np.ndarray, n: int, q: int, reach: int, window: int) -> int:
    """Move ``q`` by up to ``reach`` so that the audio before it best matches the clip's last ``window`` samples."""
    ref = mono[n - window:n]
    lo = q - reach - window
    hi = min(q + reach, n - window)
    if lo < 0 or hi - lo < window + 1:
        return q
    seg = mono[lo:hi]
    num = np.correlate(seg, ref, "valid")
    c = np.concatenate([[0.0], np.cumsum(seg * seg)])
    den = np.sqrt((c[window:] - c[:-window]) * float(np.dot(ref, ref))) + 1e-12
    score = num / den
    return lo + window + int(np.argmax(score))


def _same(u: np.ndarray, v: np.ndarray) -> bool:
    num = float(np.sum((u - v) ** 2))
    den = float(np.sum(u * u) + np.sum(v * v)) + 1e-20
    return num / den < 0.005
