"""Neural fill: the shipped fill prior fine-tuned on the clip, or a network trained on the clip alone.

By default (``NeuralSettings.prior``) the engine starts from Seedwave's own
pretrained fill prior (:mod:`.prior`: one set of weights for any channel count
and sample rate), resamples each channel of the context to the prior's rate,
fine-tunes a copy of the network for a few steps on random masked spans of the
clip's own context, and predicts the frames that touch the gap; phase
reconstruction and the joins are as below. The network is retrieval-augmented:
for the gap (and for every training span) it is also given the stretch of the
context whose surroundings match the gap's best (:func:`.prior.retrieval`, shared
by all channels) and learns how far to trust that copy, so a repeating groove or
loop is continued from its own material while speech, where nothing repeats, leans
on the network. Without the prior's weights (or with ``prior=False``) it falls
back to the original "deep prior" engine.

From scratch: for each fill, a small dilated 1-D
convolutional network over STFT frames (log magnitudes of every channel stacked
as input channels) learns, from random masked spans of the clip's own context,
to predict masked frames from the frames around them. It then predicts the
frames that touch the gap. Phases for those frames start from the left edge's
phase advanced at each bin's instantaneous frequency and are refined by
Griffin-Lim iterations in which every frame outside the gap keeps its true
complex value, so the waveform joins the context consistently; a short
cross-fade at each edge finishes the join.

Runs on ``settings.device`` (CUDA when the job runner picks it), reports progress
and honours cancel between training steps.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

from editor.core.task import TaskContext

from . import splice
from .prior import SCRATCH_STEPS
from .take import Take

#: Phase reconstruction starts from the copied stretch's phases when its match ratio is below this.
COPY_PHASE_BELOW = 0.6
#: Distinct masked spans fine-tuning draws its batches from (each span's copy is searched for once).
FINE_TUNE_SPANS = 64


@dataclass(frozen=True)
class NeuralSettings:
    """Training steps, device, width, batch (at most, and frames per step), learning rate, context (s each side),
    Griffin-Lim iterations, seed; ``prior``: start from the shipped prior and fine-tune (``steps`` of
    fine-tuning, ``prior_frames_per_step`` frames each, ``prior_lr``, ``prior_seconds`` of context each side)."""

    steps: int = 200
    device: str = "cpu"
    hidden: int = 64
    batch: int = 6
    frames_per_step: int = 1200
    lr: float = 2e-3
    train_seconds: float = 20.0
    gla_iterations: int = 64
    seed: int = 0
    prior: bool = True
    prior_frames_per_step: int = 640
    prior_lr: float = 1e-3
    prior_seconds: float = 6.0
    match_level: bool = True


def stft_params(rate: int) -> tuple[int, int]:
    """FFT size (about 43 ms) and hop (a quarter of it)."""
    n_fft = 1 << int(round(math.log2(0.043 * rate)))
    return n_fft, n_fft // 4


def _model(torch, in_ch: int, out_ch: int, hidden: int):
    from .prior import dilated_block

    nn = torch.nn

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inp = nn.Conv1d(in_ch, hidden, 1)
            self.blocks = nn.Sequential(*[dilated_block(hidden, d) for d in (1, 2, 4, 8, 16, 32, 1, 2, 4, 8, 16, 32)])
            self.out = nn.Conv1d(hidden, out_ch, 1)

        def forward(self, x):
            return self.out(self.blocks(self.inp(x)))

    return Net()


def neural_fill(x: np.ndarray, rate: int, a: int, b: int, ctx: TaskContext | None = None,
                settings: NeuralSettings | None = None) -> Take:
    """One take filling ``[a, b)`` of planar ``x`` with the self-trained network."""
    ctx = ctx or TaskContext()
    ctx.check()
    import torch  # seconds on a cold start: check for cancel on both sides

    ctx.check()
    st = settings or NeuralSettings()
    threads = torch.get_num_threads()
    try:
        if st.device == "cpu":
            # The scratch network is small: one thread is as fast on an idle machine and many times
            # faster on a busy one (OpenMP threads spin-waiting for a shared core). The prior is
            # larger: up to four threads (two on a two-core machine) cut a fill from 6 s to 3.6 s here.
            # The result does not depend on the thread count.
            torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)) if st.prior else 1)
        with torch.inference_mode(False), torch.enable_grad(), torch.random.fork_rng(devices=[]):
            torch.manual_seed(st.seed)
            if st.prior:
                from . import prior

                if prior.available():
                    return _fill_prior(torch, np.asarray(x, np.float32), rate, a, b, ctx, st)
                ctx.warn("Fill (neural): the fill prior's weights are missing from this installation "
                         f"({prior.WEIGHTS.name}); training a network on the clip from scratch instead (slower)")
                st = NeuralSettings(**{**st.__dict__, "prior": False, "steps": max(st.steps, SCRATCH_STEPS)})
            return _fill(torch, np.asarray(x, np.float32), rate, a, b, ctx, st)
    finally:
        torch.set_num_threads(threads)


def _fill(torch, x: np.ndarray, rate: int, a: int, b: int, ctx: TaskContext, st: NeuralSettings) -> Take:
    device = torch.device(st.device)
    n_fft, hop = stft_params(rate)
    channels = x.shape[0]
    # Work on a window of the clip around the gap (training context both sides).
    seg, w0, ga, gb = _gapped_window(x, a, b, int(st.train_seconds * rate))
    window = torch.hann_window(n_fft, device=device)
    sig = torch.from_numpy(seg).to(device)
    spec = torch.stft(sig, n_fft, hop, window=window, center=True, return_complex=True)  # (C, F, T)
    n_bins, n_frames = spec.shape[1], spec.shape[2]
    centres = np.arange(n_frames) * hop
    unknown = (centres + n_fft // 2 > ga) & (centres - n_fft // 2 < gb)
    u_idx = np.nonzero(unknown)[0]
    u0, u1 = int(u_idx[0]), int(u_idx[-1]) + 1
    gap_frames = u1 - u0
    logmag = torch.log(spec.abs() + 1e-5)
    known_t = torch.from_numpy(~unknown).to(device)
    mu = logmag[:, :, known_t].mean()
    sd = logmag[:, :, known_t].std() + 1e-6
    feat = ((logmag - mu) / sd).reshape(channels * n_bins, n_frames)
    ctx.check()
    net = _model(torch, channels * n_bins + 1, channels * n_bins, st.hidden).to(device)
    opt = torch.optim.AdamW(net.parameters(), lr=st.lr, weight_decay=1e-4)
    ctx_frames = min(max(16, gap_frames), 64)
    crop = min(n_frames, gap_frames + 2 * ctx_frames)
    batch = int(np.clip(st.frames_per_step // max(1, crop), 1, st.batch))  # bounded work per step
    rng = np.random.default_rng(st.seed)
    ctx.progress(0.02, "Fill (neural): training on the clip")
    for step in range(st.steps):
        ctx.check()
        lr = st.lr * 0.5 * (1 + math.cos(math.pi * step / max(1, st.steps)))
        for g in opt.param_groups:
            g["lr"] = lr
        inputs, targets, weights = [], [], []
        for _ in range(batch):
            c0 = int(rng.integers(0, max(1, n_frames - crop + 1)))
            span = int(np.clip(round(gap_frames * rng.uniform(0.6, 1.4)), 1, max(1, crop - 4)))
            s0 = int(np.clip(c0 + (crop - span) // 2 + rng.integers(-ctx_frames // 2, ctx_frames // 2 + 1),
                             c0, c0 + crop - span))
            m = np.zeros(crop, bool)
            m[s0 - c0: s0 - c0 + span] = True
            hole = unknown[c0:c0 + crop]
            inp_mask = torch.from_numpy((m | hole).astype(np.float32)).to(device)
            f = feat[:, c0:c0 + crop]
            inputs.append(torch.cat([f * (1 - inp_mask), inp_mask[None]], dim=0))
            targets.append(f)
            loss_w = np.where(hole, 0.0, np.where(m, 1.0, 0.05)).astype(np.float32)
            weights.append(torch.from_numpy(loss_w).to(device))
        inp = torch.stack(inputs)
        pred = net(inp)
        wt = torch.stack(weights)[:, None, :]
        loss = ((pred - torch.stack(targets)).abs() * wt).sum() / (wt.sum() * pred.shape[1] + 1e-9)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        # Every step costs the same, so progress by steps is progress by time: the job's
        # throughput-based ETA is right after a few steps.
        ctx.progress(0.02 + 0.85 * (step + 1) / st.steps, f"Fill (neural): training on the clip, step {step + 1}")
    ctx.check()
    with torch.no_grad():
        c0 = max(0, min(n_frames - crop, u0 - (crop - gap_frames) // 2))
        m = torch.from_numpy(unknown[c0:c0 + crop].astype(np.float32)).to(device)
        f = feat[:, c0:c0 + crop]
        pred = net(torch.cat([f * (1 - m), m[None]], dim=0)[None])[0]
        logp = pred.reshape(channels, n_bins, -1)[:, :, u0 - c0:u1 - c0] * sd + mu
        mag = torch.exp(logp).clamp_min(0) - 1e-5
        ctx.progress(0.9, "Fill (neural): phase reconstruction")
        y = _phase(torch, spec, mag.clamp_min(0), u0, u1, n_fft, hop, window, st.gla_iterations, ctx,
                   seg.shape[1])
    gen = y.cpu().numpy().astype(np.float64)
    if st.match_level:
        gen = _level_matched(gen, seg, ga, gb, rate)
    start, stop, out = _spliced(x, gen, w0, a, b, rate)
    return Take(0, "neural", start, stop, out, float(loss.detach().cpu()),
                f"Neural (trained {st.steps} steps on the clip, no prior)",
                {"steps": st.steps, "prior": False, "hidden": st.hidden, "device": str(device), "n_fft": n_fft,
                 "final_loss": round(float(loss.detach().cpu()), 4)})


def _gapped_window(x: np.ndarray, a: int, b: int, keep: int) -> tuple[np.ndarray, int, int, int]:
    """``(seg, w0, ga, gb)``: a copy of ``x`` from ``w0`` with ``keep`` frames of context each side of the
    gap ``[a, b)``, the gap (``[ga, gb)`` in the copy) zeroed."""
    w0, w1 = max(0, a - keep), min(x.shape[1], b + keep)
    seg = x[:, w0:w1].copy()
    ga, gb = a - w0, b - w0
    seg[:, ga:gb] = 0.0
    return seg, w0, ga, gb


def _spliced(x: np.ndarray, gen: np.ndarray, w0: int, a: int, b: int, rate: int) -> tuple[int, int, np.ndarray]:
    """``(start, stop, audio)``: the generated window ``gen`` (starting at frame ``w0`` of ``x``) cross-faded
    into ``x`` over short joins either side of the gap ``[a, b)``."""
    n = x.shape[1]
    xf = int(np.clip(0.25 * (b - a), 0.004 * rate, 0.02 * rate))
    start, stop = max(0, a - xf), min(n, b + xf)
    orig = x[:, start:stop].astype(np.float64)
    src = gen[:, start - w0: stop - w0]
    left = (a - start - xf) if a - start >= xf else None
    right = (b - start) if stop - b >= xf else None
    return start, stop, splice.splice(orig, src, left, right, xf).astype(np.float32)


def _phase(torch, spec, mag, u0: int, u1: int, n_fft: int, hop: int, window, iterations: int,
           ctx: TaskContext, length: int, source: int | None = None):
    """Waveform whose STFT has ``mag`` on frames ``[u0, u1)`` and ``spec`` elsewhere (Griffin-Lim).

    Phases start from ``spec``'s frames at ``source`` when given (the stretch the fill copies),
    otherwise from the left edge's phase advanced at each bin's instantaneous frequency.
    """
    n_bins = spec.shape[1]
    omega = torch.arange(n_bins, device=spec.device, dtype=torch.float32) * 2 * math.pi * hop / n_fft
    if u0 >= 2:
        last, prev = spec[:, :, u0 - 1], spec[:, :, u0 - 2]
        dev = torch.angle(last) - torch.angle(prev) - omega
        inst = omega + torch.remainder(dev + math.pi, 2 * math.pi) - math.pi
        phase0 = torch.angle(last)
    else:
        inst = omega.expand(spec.shape[0], -1)
        phase0 = torch.zeros_like(inst)
    steps = torch.arange(1, u1 - u0 + 1, device=spec.device, dtype=torch.float32)
    phase = phase0[:, :, None] + inst[:, :, None] * steps[None, None, :]
    if source is not None:
        phase = torch.angle(spec[:, :, source:source + u1 - u0])
    z = spec.clone()
    z[:, :, u0:u1] = torch.polar(mag, phase)
    # Refine only around the gap: a local window of frames keeps each iteration cheap.
    pad = n_fft // hop + 2
    f0, f1 = max(0, u0 - pad), min(spec.shape[2], u1 + pad)
    for i in range(iterations):
        if i % 8 == 0:
            ctx.progress(0.9 + 0.09 * i / max(1, iterations), "Fill (neural): phase reconstruction")
        local = z[:, :, f0:f1]
        wav = torch.istft(local, n_fft, hop, window=window, center=True, length=(f1 - f0 - 1) * hop)
        re = torch.stft(wav, n_fft, hop, window=window, center=True, return_complex=True)
        ang = torch.angle(re[:, :, u0 - f0:u1 - f0])
        z[:, :, u0:u1] = torch.polar(mag, ang)
    return torch.istft(z, n_fft, hop, window=window, center=True, length=length)


def _training_spans(torch, rng: np.random.Generator, count: int, n_frames: int, crop: int, gap_frames: int,
                    ctx_frames: int, channels: int, device) -> list[tuple]:
    """The spans fine-tuning masks, drawn once: ``(channel, crop start, crop mask, mask on the whole window,
    (span start, span end), retrieval cache)`` each."""
    pool = []
    for _ in range(count):
        c0 = int(rng.integers(0, max(1, n_frames - crop + 1)))
        span = int(np.clip(round(gap_frames * rng.uniform(0.6, 1.4)), 1, max(1, crop - 4)))
        lo = c0 + (crop - span) // 2 + int(rng.integers(-ctx_frames // 2, ctx_frames // 2 + 1))
        s0 = int(np.clip(lo, c0, c0 + crop - span))
        m = np.zeros(crop, np.float32)
        m[s0 - c0: s0 - c0 + span] = 1.0
        full = torch.zeros(n_frames, device=device)
        full[s0:s0 + span] = 1.0
        pool.append((int(rng.integers(channels)), c0, m, full, (s0, s0 + span), {}))
    return pool


def _with_top_band(gen: np.ndarray, seg: np.ndarray, ga: int, gb: int, shift: int, rate: int) -> np.ndarray:
    """``gen`` with the band above the prior's Nyquist frequency (which the round trip through
    44.1 kHz removes) put back in the gap ``[ga, gb)``, copied from the same stretch of ``seg``
    ``shift`` samples away that the network's copy came from."""
    from . import prior

    lo, hi = ga + shift, gb + shift
    if lo < 0 or hi > seg.shape[1]:
        return gen
    pad = int(0.05 * rate)  # the resampler's filters settle within this
    a0, b0 = max(0, lo - pad), min(seg.shape[1], hi + pad)
    part = seg[:, a0:b0].astype(np.float32)
    round_trip = _resample(_resample(part, rate, prior.RATE), prior.RATE, rate)[:, :part.shape[1]]
    if round_trip.shape[1] < part.shape[1]:
        round_trip = np.pad(round_trip, ((0, 0), (0, part.shape[1] - round_trip.shape[1])))
    top = (part - round_trip)[:, lo - a0:hi - a0].astype(np.float64)
    out = gen.copy()
    out[:, ga:gb] += top * _ramped(gb - ga, int(0.002 * rate))[None, :]
    return out


def _ramped(n: int, ramp: int) -> np.ndarray:
    """``n`` ones with linear ramps of ``ramp`` samples (at most a quarter of ``n``) in and out."""
    ramp = max(1, min(ramp, n // 4))
    shape = np.ones(n)
    shape[:ramp] = np.linspace(0.0, 1.0, ramp, endpoint=False)
    shape[n - ramp:] = np.minimum(shape[n - ramp:], shape[:ramp][::-1])
    return shape


def _resample(x: np.ndarray, src: int, dst: int) -> np.ndarray:
    """Planar float32 ``x`` from ``src`` Hz to ``dst`` Hz (soxr, high quality)."""
    if src == dst:
        return np.ascontiguousarray(x, np.float32)
    import soxr

    return np.ascontiguousarray(soxr.resample(np.ascontiguousarray(x.T), src, dst, quality="HQ").T, np.float32)


def _level_matched(gen: np.ndarray, seg: np.ndarray, ga: int, gb: int, rate: int) -> np.ndarray:
    """``gen`` with its gap ``[ga, gb)`` raised (at most 6 dB per channel) towards the level of the
    audio just around the gap.

    Magnitudes predicted in the log domain sit at the median, below the mean power, and phase
    reconstruction loses a little more; a fill well below its surroundings is heard as a dropout.
    The reference is the power of the known audio within the gap's length (0.25-1 s) of each
    edge; the fill is never made quieter.
    """
    span = int(np.clip(gb - ga, 0.25 * rate, 1.0 * rate))
    around = np.concatenate([seg[:, max(0, ga - span):ga], seg[:, gb:gb + span]], axis=1).astype(np.float64)
    if around.shape[1] == 0:
        return gen
    ref = np.mean(around ** 2, axis=1)
    have = np.mean(gen[:, ga:gb] ** 2, axis=1)
    gain = np.clip(np.sqrt(ref / np.maximum(have, 1e-20)), 1.0, 2.0)
    # Ramp the gain in and out over 10 ms (at most a quarter of the gap): no step at the edges,
    # where the fill continues the original.
    shape = _ramped(gb - ga, int(0.01 * rate))
    out = gen.copy()
    out[:, ga:gb] *= 1.0 + (gain[:, None] - 1.0) * shape[None, :]
    return out


def _fill_prior(torch, x: np.ndarray, rate: int, a: int, b: int, ctx: TaskContext, st: NeuralSettings) -> Take:
    """One take from the shipped prior, fine-tuned for ``st.steps`` steps on the clip's context."""
    from . import prior

    device = torch.device(st.device)
    channels = x.shape[0]
    seg, w0, ga, gb = _gapped_window(x, a, b, int(st.prior_seconds * rate))
    # Every channel at the prior's rate: one set of weights for any clip.
    seg44 = _resample(seg, rate, prior.RATE)
    scale = prior.RATE / rate
    margin = 0 if rate == prior.RATE else 48  # the resampler's ringing at the gap's edges counts as unknown
    ga44, gb44 = max(0, int(ga * scale) - margin), min(seg44.shape[1], int(math.ceil(gb * scale)) + margin)
    window = torch.hann_window(prior.N_FFT, device=device)
    sig = torch.from_numpy(seg44).to(device)
    spec = torch.stft(sig, prior.N_FFT, prior.HOP, window=window, center=True, return_complex=True)  # (C, F, T)
    n_frames = spec.shape[2]
    centres = np.arange(n_frames) * prior.HOP
    unknown = (centres + prior.N_FFT // 2 > ga44) & (centres - prior.N_FFT // 2 < gb44)
    u_idx = np.nonzero(unknown)[0]
    u0, u1 = int(u_idx[0]), int(u_idx[-1]) + 1
    gap_frames = u1 - u0
    known_t = torch.from_numpy(~unknown).to(device)
    feat, mu, sd = prior.features(spec.abs(), known_t)
    ctx.check()
    cfg, state = prior.load()
    net = prior.build(cfg).to(device)
    net.load_state_dict(state)
    ctx_frames = min(max(16, gap_frames), 64)
    crop = min(n_frames, gap_frames + 2 * ctx_frames)
    hole_all = torch.from_numpy(unknown.astype(np.float32)).to(device)
    unknown_t = ~known_t
    sources: dict = {}
    retr_gap = prior.retrieval(feat, unknown_t, cache=sources) if net.retrieve else None
    bands = [prior.pooled_bands(feat[c:c + 1]) for c in range(channels)] if net.retrieve else []
    if st.steps > 0:
        opt = torch.optim.AdamW(net.parameters(), lr=st.prior_lr, weight_decay=0.0)
        batch = int(np.clip(st.prior_frames_per_step // max(1, crop), 1, st.batch))
        rng = np.random.default_rng(st.seed)
        pool = _training_spans(torch, rng, FINE_TUNE_SPANS, n_frames, crop, gap_frames, ctx_frames, channels, device)
        ctx.progress(0.02, "Fill (neural): training on the clip, starting from the fill prior")
        net.train()
        for step in range(st.steps):
            ctx.check()
            for g in opt.param_groups:
                g["lr"] = st.prior_lr * 0.5 * (1 + math.cos(math.pi * step / max(1, st.steps)))
            picks = rng.integers(len(pool), size=batch)
            chans = [pool[i][0] for i in picks]
            starts = [pool[i][1] for i in picks]
            masks = [pool[i][2] for i in picks]
            f = torch.stack([feat[c, :, c0:c0 + crop] for c, c0 in zip(chans, starts)])
            m = torch.from_numpy(np.stack(masks)).to(device)
            hole = torch.stack([hole_all[c0:c0 + crop] for c0 in starts])
            inp_mask = torch.clamp(m + hole, 0, 1)
            retr = None
            if net.retrieve:
                # Each training span gets its copy from the context as the gap does (never from itself);
                # a span's copy is searched for once, the first time the span is drawn.
                retr = torch.stack([
                    prior.retrieval(feat[pool[i][0]:pool[i][0] + 1], unknown_t | (pool[i][3] > 0), span=pool[i][4],
                                    pooled=bands[pool[i][0]], cache=pool[i][5])[0, :, pool[i][1]:pool[i][1] + crop]
                    for i in picks])
            pred = net(prior.net_input(f, inp_mask), retr)
            w = torch.where(hole > 0, torch.zeros_like(m), m + 0.05 * (1 - m))
            err = (pred - f).abs().mean(dim=1)
            loss = (err * w).sum() / w.sum().clamp_min(1e-6)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            ctx.progress(0.02 + 0.8 * (step + 1) / st.steps,
                         f"Fill (neural): training on the clip from the fill prior, step {step + 1}")
    ctx.check()
    net.eval()
    with torch.no_grad():
        c0 = max(0, min(n_frames - crop, u0 - (crop - gap_frames) // 2))
        m = hole_all[c0:c0 + crop][None].expand(channels, -1)
        retr = retr_gap[:, :, c0:c0 + crop] if retr_gap is not None else None
        pred = net(prior.net_input(feat[:, :, c0:c0 + crop], m), retr)
        logp = pred[:, :, u0 - c0:u1 - c0] * sd[:, None, None] + mu[:, None, None]
        # No bin of the fill louder than that bin ever is in the context (nor quieter than its
        # quietest): a network's overshoot in a few bins would be a loud whistle.
        logmag = torch.log(spec.abs() + prior.FLOOR)
        known_log = logmag[:, :, known_t]
        logp = torch.minimum(torch.maximum(logp, known_log.min(dim=2, keepdim=True).values),
                             known_log.max(dim=2, keepdim=True).values)
        mag = (torch.exp(logp) - prior.FLOOR).clamp_min(0)
        ctx.progress(0.85, "Fill (neural): phase reconstruction")
        # A close match's own phases are a coherent start (transients stay sharp); otherwise the
        # phases continue the left edge's.
        hit = sources.get((u0, u1))
        source = hit[0] if hit is not None and hit[1] < COPY_PHASE_BELOW else None
        y44 = _phase(torch, spec, mag, u0, u1, prior.N_FFT, prior.HOP, window, st.gla_iterations, ctx,
                     seg44.shape[1], source)
    gen44 = y44.cpu().numpy().astype(np.float32)
    gen = _resample(gen44, prior.RATE, rate)
    if gen.shape[1] < seg.shape[1]:
        gen = np.pad(gen, ((0, 0), (0, seg.shape[1] - gen.shape[1])))
    gen = gen[:, :seg.shape[1]].astype(np.float64)
    if rate > prior.RATE and hit is not None:
        gen = _with_top_band(gen, seg, ga, gb, int(round((hit[0] - u0) * prior.HOP / scale)), rate)
    if st.match_level:
        gen = _level_matched(gen, seg, ga, gb, rate)
    start, stop, out = _spliced(x, gen, w0, a, b, rate)
    final = float(loss.detach().cpu()) if st.steps > 0 else 0.0
    model = prior.provenance()
    params = {"steps": st.steps, "prior": True, "device": str(device), "n_fft": prior.N_FFT,
              "internal_rate": prior.RATE, "final_loss": round(final, 4),
              "model": {"name": "Seedwave fill prior", **model}}
    label = f"Neural (fill prior, fine-tuned {st.steps} steps on the clip)"
    if hit is not None:
        # Where the copy the network started from begins, on the clip's timeline, and how well it matched.
        params["retrieved_from_s"] = round((a + (hit[0] - u0) * prior.HOP / scale) / rate, 3)
        params["match_ratio"] = round(hit[1], 3)
        label = f"Neural (fill prior, fine-tuned {st.steps} steps; copy from {params['retrieved_from_s']:.2f} s)"
    return Take(0, "neural", start, stop, out, final, label, params)
