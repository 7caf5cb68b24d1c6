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
is continued unchanged); a stack of dilated 1-D convolutions over time
(bins as channels, about ±1.5 s) then predicts the correction to that baseline:
onsets, rhythm, the movement of the spectrum. The last layer starts at zero, so an
untrained network is the interpolation itself.

It is pretrained by ``training/train_fill.py`` with a masked-span objective on a
corpus the project generates (training/corpus.py: FluidSynth renders of
procedurally written MIDI with two soundfonts, espeak-ng speech in 24
languages, noises and room tones); the weights ship in
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
PRIOR_STEPS = 48
SCRATCH_STEPS = 200

DEFAULT_CONFIG: dict[str, Any] = {"hidden": 128, "dilations": [1, 2, 4, 8, 16, 32, 1, 2, 4, 8, 16, 32],
                                  "bins": N_BINS, "settle_frames": 16.0}


def build(config: dict[str, Any] | None = None):
    """The network (a torch ``nn.Module``) for ``config`` (defaults: the shipped model's).

    ``net(x)`` maps ``(batch, bins + 1, frames)`` (masked normalised log magnitudes,
    then the mask row) to ``(batch, bins, frames)``.
    """
    import torch
    from torch import nn

    cfg = {**DEFAULT_CONFIG, **(config or {})}
    hidden, bins = int(cfg["hidden"]), int(cfg["bins"])

    class FillPrior(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inp = nn.Conv1d(bins + 1, hidden, 1)
            self.blocks = nn.Sequential(*[dilated_block(hidden, int(d)) for d in cfg["dilations"]])
            self.out = nn.Conv1d(hidden, bins, 1)
            nn.init.zeros_(self.out.weight)
            nn.init.zeros_(self.out.bias)

        def forward(self, x):
            feat, mask = x[:, :-1], x[:, -1]
            base = baseline(feat, mask, float(cfg.get("settle_frames", 0.0)))
            h = torch.cat([base, mask[:, None]], dim=1)
            return base + self.out(self.blocks(self.inp(h)))

    return FillPrior()


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
            cfg = {**DEFAULT_CONFIG, **json.loads(metadata(path).get("config", "{}"))}
            state = {k: v.float() for k, v in load_file(str(path)).items()}
            _state.clear()
            _state[key] = (cfg, state)
        return _state[key]
