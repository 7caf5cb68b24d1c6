"""The generative fill prior: one set of weights for any clip, fine-tuned briefly on each.

The network fills masked STFT frames of one audio channel from the frames around
them. It is channel-agnostic (each channel of a clip is one item of the batch)
and rate-agnostic (every clip is resampled to :data:`RATE` and analysed with a
fixed :data:`N_FFT` / :data:`HOP` STFT), so the same weights serve mono speech at
16 kHz and stereo music at 48 kHz. Its input is the log magnitude of the frames,
normalised by the mean and deviation of the known frames, with the unknown
frames zeroed and a mask row that marks them; its output is the normalised log
magnitude of every frame. The unknown frames are first given a baseline, each bin
interpolated between the nearest known frames on either side and, far from both
edges, settling towards the context's mean spectrum (so a steady tone or room tone
is continued unchanged). A second baseline comes from retrieval
(:func:`retrieval`): the stretch of the context, as long as the gap, whose
surroundings match the gap's surroundings best, copied in (an exemplar: music
repeats, and a network this size cannot memorise a groove on its own). A stack of
dilated 1-D convolutions over time (bins as channels, about ±1.5 s) sees both,
the mask and how good the match was, and predicts a gate (how far to trust the
copy over the interpolation) and a correction to the gated mix: onsets, rhythm,
the movement of the spectrum. The last layer starts at zero, so an untrained
network is the half-way mix of its two baselines.

It is pretrained by ``training/train_fill.py`` with a masked-span objective on a
corpus the project generates (training/corpus.py: FluidSynth renders of
procedurally written MIDI with two soundfonts, espeak-ng speech in 24
languages, noises and room tones), first without retrieval, then with it; the weights ship in
``weights/fill_prior.safetensors`` (loaded without pickle) with their model card
``weights/fill_prior.md``. :mod:`.neural` copies the network, fine-tunes it for a
few steps on the clip's own context, and predicts the gap.
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path
from typing import Any

RATE = 44100
N_FFT = 2048
HOP = 512
N_BINS = N_FFT // 2 + 1
FLOOR = 1e-5
WEIGHTS = Path(__file__).parent / "weights" / "fill_prior.safetensors"
CARD = Path(__file__).parent / "weights" / "fill_prior.md"
CARD_RESOURCE = f"seedwave_plugins/fill/weights/{CARD.name}"

#: Fine-tuning steps when the fill starts from the prior, and training steps without it.
PRIOR_STEPS = 32
SCRATCH_STEPS = 200

DEFAULT_CONFIG: dict[str, Any] = {"hidden": 128, "dilations": [1, 2, 4, 8, 16, 32, 1, 2, 4, 8, 16, 32],
                                  "bins": N_BINS, "settle_frames": 16.0, "retrieval": True}
#: Rows of the retrieval input (:func:`retrieval`) after the retrieved log magnitudes: found, match ratio.
RETRIEVAL_ROWS = 2


def build(config: dict[str, Any] | None = None):
    """The network (a torch ``nn.Module``) for ``config`` (defaults: the shipped model's).

    ``net(x, retr)`` maps ``x`` ``(batch, bins + 1, frames)`` (masked normalised log magnitudes, then
    the mask row; :func:`net_input`) and, when the config has ``retrieval``, ``retr``
    ``(batch, bins + 2, frames)`` (:func:`retrieval`: the log magnitudes copied from the best-matching
    stretch of the context, a row marking the frames that have them, and the match's cost ratio) to
    ``(batch, bins, frames)``.
    """
    import torch
    from torch import nn

    cfg = {**DEFAULT_CONFIG, **(config or {})}
    hidden, bins = int(cfg["hidden"]), int(cfg["bins"])
    retrieve = bool(cfg.get("retrieval", False))

    class FillPrior(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.retrieve = retrieve
            extra = bins + RETRIEVAL_ROWS if retrieve else 0
            self.inp = nn.Conv1d(bins + 1 + extra, hidden, 1)
            self.blocks = nn.Sequential(*[dilated_block(hidden, int(d)) for d in cfg["dilations"]])
            # With retrieval, one more output row: the gate between the baseline and the copy.
            self.out = nn.Conv1d(hidden, bins + (1 if retrieve else 0), 1)
            nn.init.zeros_(self.out.weight)
            nn.init.zeros_(self.out.bias)

        def forward(self, x, retr=None):
            feat, mask = x[:, :-1], x[:, -1]
            base = baseline(feat, mask, float(cfg.get("settle_frames", 0.0)))
            if not self.retrieve:
                h = torch.cat([base, mask[:, None]], dim=1)
                return base + self.out(self.blocks(self.inp(h)))
            if retr is None:
                retr = torch.zeros(feat.shape[0], bins + RETRIEVAL_ROWS, feat.shape[2], dtype=feat.dtype,
                                   device=feat.device)
            found = retr[:, bins:bins + 1] * mask[:, None]
            copy = torch.where(found > 0.5, retr[:, :bins], base)
            h = torch.cat([base, mask[:, None], copy, found, retr[:, bins + 1:] * found], dim=1)
            out = self.out(self.blocks(self.inp(h)))
            gate = torch.sigmoid(out[:, bins:]) * found
            return base + gate * (copy - base) + out[:, :bins]

    return FillPrior()


def upgraded(state: dict[str, Any], bins: int = N_BINS) -> dict[str, Any]:
    """A state dict of a network without retrieval, mapped onto one with it: the new inputs start
    unused and the gate at one half (a fresh start for what retrieval adds, nothing else lost)."""
    import torch

    new = dict(state)
    w = state["inp.weight"]
    new["inp.weight"] = torch.cat([w, torch.zeros(w.shape[0], bins + RETRIEVAL_ROWS, 1, dtype=w.dtype)], dim=1)
    new["out.weight"] = torch.cat([state["out.weight"], torch.zeros_like(state["out.weight"][:1])], dim=0)
    new["out.bias"] = torch.cat([state["out.bias"], torch.zeros_like(state["out.bias"][:1])], dim=0)
    return new


def dilated_block(hidden: int, dilation: int):
    """A residual block over time: dilated convolution, norm, GELU, pointwise mix (an ``nn.Module``)."""
    import torch
    from torch import nn

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv1d(hidden, hidden, 3, padding=dilation, dilation=dilation)
            self.mix = nn.Conv1d(hidden, hidden, 1)
            self.norm = nn.GroupNorm(1, hidden)

        def forward(self, x):
            return x + self.mix(torch.nn.functional.gelu(self.norm(self.conv(x))))

    return Block()


def baseline(feat, mask, settle_frames: float = 0.0):
    """``feat`` (batch, bins, frames) with every masked frame (``mask`` (batch, frames) > 0.5)
    replaced by a per-bin linear interpolation between the nearest known frames on either side
    (each smoothed over its known neighbours)
    (or a copy of the one side that exists; zeros where no frame is known)."""
    import torch

    b, _, t = feat.shape
    idx = torch.arange(t, device=feat.device).expand(b, -1)
    known = mask < 0.5
    # The edge values: each known frame averaged with its known neighbours (±2 frames), so that
    # one noisy frame does not set the level of the whole gap.
    k = known[:, None, :].to(feat.dtype)
    pool = torch.nn.functional.avg_pool1d
    weight = pool(k, 5, 1, 2, count_include_pad=False).clamp_min(1e-6)
    smooth = pool(feat * k, 5, 1, 2, count_include_pad=False) / weight
    prev = torch.cummax(torch.where(known, idx, torch.full_like(idx, -1)), dim=1).values
    nxt = torch.flip(torch.cummin(torch.flip(torch.where(known, idx, torch.full_like(idx, t)), [1]), dim=1).values,
                     [1])
    has_p, has_n = prev >= 0, nxt < t
    left = torch.gather(smooth, 2, prev.clamp(0, t - 1)[:, None, :].expand_as(feat))
    right = torch.gather(smooth, 2, nxt.clamp(0, t - 1)[:, None, :].expand_as(feat))
    span = (nxt - prev).clamp_min(1).to(feat.dtype)
    w = ((idx - prev).to(feat.dtype) / span)
    w = torch.where(has_p & has_n, w, torch.where(has_n, torch.ones_like(w), torch.zeros_like(w)))
    interp = left * (1 - w[:, None, :]) + right * w[:, None, :]
    interp = interp * (has_p | has_n)[:, None, :].to(feat.dtype)
    if settle_frames > 0:
        # Far from both edges nothing specific is known: settle towards the context's mean spectrum.
        dist = torch.minimum(torch.where(has_p, idx - prev, torch.full_like(idx, t)),
                             torch.where(has_n, nxt - idx, torch.full_like(idx, t))).to(feat.dtype)
        far = 1 - torch.exp(-(dist - 1).clamp_min(0) / settle_frames)
        mean = (feat * k).sum(dim=2, keepdim=True) / k.sum(dim=2, keepdim=True).clamp_min(1.0)
        interp = interp * (1 - far[:, None, :]) + mean * far[:, None, :]
    return torch.where(known[:, None, :], feat, interp)


_bands: dict[tuple[int, int], Any] = {}


def pooled_bands(feat, bands: int = 64):
    """``feat`` (channels, bins, frames) averaged over ``bands`` log-spaced bands (one bin wide at the
    bottom, so that bass notes a semitone apart still differ), channels stacked, as
    ``(frames, channels * bands)``: what :func:`retrieval` compares (compute it once per clip and pass
    it in)."""
    import numpy as np
    import torch

    c, bins, t = feat.shape
    key = (bins, bands)
    if key not in _bands:
        n = bands
        while True:  # log-spaced edges, as many distinct ones as there are bands
            edges = np.unique(np.concatenate([[0], np.round(np.geomspace(1, bins, n)).astype(int)]))
            if edges.size > bands or n > 8 * bands:
                break
            n += 1
        m = np.zeros((edges.size - 1, bins), np.float32)
        for i, (lo, hi) in enumerate(zip(edges[:-1], edges[1:])):
            m[i, lo:hi] = 1.0 / (hi - lo)
        _bands[key] = torch.from_numpy(m)
    m = _bands[key].to(feat.device, feat.dtype)
    return torch.einsum("kb,cbt->tck", m, feat).reshape(t, -1).contiguous()


def retrieval(feat, unknown, edge: int = 16, cache: dict | None = None, span: tuple[int, int] | None = None,
              pooled=None):
    """Copies for the unknown frames from the best-matching stretch of the context (an exemplar).

    ``feat`` (channels, bins, frames) normalised log magnitudes; ``unknown`` (frames,) bool tensor.
    For every run of unknown frames, the candidate sources are the stretches of the same length that
    are wholly known and whose ``edge`` frames either side are known too; the chosen one is the one
    whose surroundings match the run's (L1 over :func:`pooled_bands`, summed over channels, so
    every channel copies the same moment). Returns ``(channels, bins + 2, frames)``: the copied log
    magnitudes, a row that is 1 on the frames that have a copy, and the match's cost against the
    median candidate's (near 0 for a loop that repeats exactly, near 1 when nothing matches better
    than chance). ``cache`` (a dict) keeps each run's answer between calls on the same ``feat`` and
    ``unknown``; ``span`` ``(lo, hi)``: only the runs that overlap these frames.
    """
    import torch

    c, bins, t = feat.shape
    span = span or (0, t)
    out = torch.zeros(c, bins + RETRIEVAL_ROWS, t, dtype=feat.dtype, device=feat.device)
    unk = unknown.to(torch.bool)
    if not bool(unk.any()):
        return out
    idx = torch.nonzero(unk).flatten().tolist()
    runs, s0, prev = [], idx[0], idx[0]
    for i in idx[1:]:
        if i != prev + 1:
            runs.append((s0, prev + 1))
            s0 = i
        prev = i
    runs.append((s0, prev + 1))
    known = ~unk
    pooled = pooled_bands(feat) if pooled is None else pooled
    cum = torch.cat([torch.zeros(1, dtype=torch.long, device=feat.device), torch.cumsum(unk.long(), 0)])
    for s, e in runs:
        if e <= span[0] or s >= span[1]:
            continue
        if cache is not None and (s, e) in cache:
            hit = cache[(s, e)]
        else:
            hit = _best_source(pooled, known, cum, s, e, edge, t)
            if cache is not None:
                cache[(s, e)] = hit
        if hit is None:
            continue
        p, ratio = hit
        g = e - s
        out[:, :bins, s:e] = feat[:, :, p:p + g]
        out[:, bins, s:e] = 1.0
        out[:, bins + 1, s:e] = ratio
    return out


def _best_source(pooled, known, cum, s: int, e: int, edge: int, t: int):
    """``(start, cost ratio)`` of the best source for the run ``[s, e)``, or None."""
    import torch

    g = e - s
    dev = pooled.device
    edges = torch.cat([torch.arange(max(0, s - edge), s, device=dev), torch.arange(e, min(t, e + edge), device=dev)])
    edges = edges[known[edges]]
    if edges.numel() == 0 or t - g + 1 <= 0:
        return None
    starts = torch.arange(0, t - g + 1, device=dev)
    whole = (cum[starts + g] - cum[starts]) == 0
    pos = edges[None, :] + (starts - s)[:, None]
    inside = (pos >= 0) & (pos < t)
    ok = whole & inside.all(dim=1)
    ok &= known[pos.clamp(0, t - 1)].all(dim=1)
    if not bool(ok.any()):
        return None
    cand, pos = starts[ok], pos[ok]
    # Frames next to the run weigh most (L1 is linear in a positive weight, so scale both sides).
    near = torch.minimum((s - 1 - edges).abs(), (edges - e).abs()).to(pooled.dtype)
    w = torch.exp(-near / (0.5 * edge))[:, None]
    ref = (pooled[edges] * w).reshape(1, -1)                        # the run's surroundings, (1, E * bands)
    cost = torch.cdist((pooled[pos] * w).reshape(pos.shape[0], -1), ref, p=1)[:, 0]   # L1 per candidate
    best = int(torch.argmin(cost))
    ratio = float(cost[best] / cost.median().clamp_min(1e-6))
    return int(cand[best]), min(ratio, 2.0)


def features(mag, known):
    """Normalised log magnitudes of ``mag`` (batch, bins, frames) and their (mean, deviation) per item.

    ``known`` (frames,) or (batch, frames) bool tensor: the frames the statistics come from.
    """
    import torch

    logmag = torch.log(mag + FLOOR)
    k = known if known.dim() == 2 else known[None].expand(mag.shape[0], -1)
    w = k[:, None, :].to(logmag.dtype).expand_as(logmag)
    count = w.sum(dim=(1, 2)).clamp_min(1.0)
    mu = (logmag * w).sum(dim=(1, 2)) / count
    var = (((logmag - mu[:, None, None]) ** 2) * w).sum(dim=(1, 2)) / count
    sd = var.sqrt() + 1e-3
    return (logmag - mu[:, None, None]) / sd[:, None, None], mu, sd


def net_input(feat, mask):
    """The network's input: ``feat`` with the ``mask``ed frames zeroed, and the mask row.

    ``feat`` (batch, bins, frames); ``mask`` (batch, frames) float, 1 where unknown.
    """
    import torch

    return torch.cat([feat * (1 - mask[:, None, :]), mask[:, None, :]], dim=1)


_sha: dict[str, str] = {}


def sha256(path: Path | None = None) -> str:
    """SHA-256 of the weights file (computed once per process)."""
    path = path or WEIGHTS
    key = str(path)
    if key not in _sha:
        _sha[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return _sha[key]


def available(path: Path | None = None) -> bool:
    return (path or WEIGHTS).is_file()


def metadata(path: Path | None = None) -> dict[str, str]:
    from safetensors import safe_open

    path = path or WEIGHTS
    with safe_open(str(path), "pt") as fh:
        return dict(fh.metadata() or {})


def provenance(path: Path | None = None) -> dict[str, Any]:
    """What the history records about the prior: file, SHA-256, training step and commit, model card."""
    path = path or WEIGHTS
    meta = metadata(path)
    return {"weights": path.name, "sha256": sha256(path), "step": int(meta.get("step", 0) or 0),
            "training_commit": meta.get("training_commit", ""), "model_card": CARD_RESOURCE}


_lock = threading.Lock()
_state: dict[str, Any] = {}


def load(path: Path | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(config, state_dict)`` of the shipped prior (cached; tensors on the CPU, never modified).

    Raises FileNotFoundError when the weights are absent. Callers build their own
    network from these (:func:`build`) so that fine-tuning one clip never touches another's.
    """
    from safetensors.torch import load_file

    path = path or WEIGHTS
    key = str(path)
    with _lock:
        if key not in _state:
            if not path.is_file():
                raise FileNotFoundError(path)
            # Weights exported before retrieval existed say nothing of it: they have no retrieval inputs.
            cfg = {**DEFAULT_CONFIG, "retrieval": False, **json.loads(metadata(path).get("config", "{}"))}
            state = {k: v.float() for k, v in load_file(str(path)).items()}
            _state.clear()
            _state[key] = (cfg, state)
        return _state[key]
