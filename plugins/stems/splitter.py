"""Seedwave's own four-stem splitter: a compact mask network trained on rendered stems.

The network (1.2 M parameters) looks at the magnitude spectrogram of both
channels (2048-point STFT, 512 hop, at 44.1 kHz) in 192 bands (single bins up to
1.4 kHz, log-spaced above), one frame at a time through a linear projection, then
along time through dilated 1-D convolutions (receptive field about ±1.5 s); it
gives, per source, band and frame, a softmax mask over vocals, drums, bass and
other, which every bin of the band takes. The masks sum to one, so the four estimates
(mask × the mixture's complex STFT, per channel) sum to the mixture.

Training (data, objective, steps, timings) is in ``training/`` and the model card
in ``weights/splitter.md``; the weights ship in ``weights/splitter.safetensors``
and load with safetensors (no pickled objects). This module imports torch lazily
and is used by :mod:`.engine`.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

SOURCES = ("vocals", "drums", "bass", "other")
RATE = 44100
N_FFT = 2048
HOP = 512
WEIGHTS = Path(__file__).parent / "weights" / "splitter.safetensors"
CARD = Path(__file__).parent / "weights" / "splitter.md"

DEFAULT_CONFIG: dict[str, Any] = {"hidden": 160, "dilations": [1, 2, 4, 8, 16, 32, 1, 4, 16, 2],
                                  "linear_bins": 64, "log_bands": 128, "sources": len(SOURCES)}


def band_edges(linear_bins: int, log_bands: int, n_bins: int = N_FFT // 2 + 1) -> np.ndarray:
    """Bin edges of the network's frequency bands: single bins up to ``linear_bins``
    (1.4 kHz: bass notes and low harmonics one by one), then ``log_bands`` log-spaced bands."""
    hi = np.unique(np.round(np.geomspace(linear_bins, n_bins, log_bands + 1)).astype(int))
    return np.concatenate([np.arange(linear_bins), hi])


def band_matrix(edges: np.ndarray, n_bins: int = N_FFT // 2 + 1) -> np.ndarray:
    """(bands, bins) 0/1 membership: each bin belongs to exactly one band."""
    m = np.zeros((len(edges) - 1, n_bins), np.float32)
    for i, (lo, hi) in enumerate(zip(edges[:-1], edges[1:])):
        m[i, lo:hi] = 1.0
    return m


def build(config: dict[str, Any] | None = None):
    """The network (a torch ``nn.Module``) for ``config`` (defaults: the shipped model's)."""
    import torch
    from torch import nn

    cfg = {**DEFAULT_CONFIG, **(config or {})}
    h, s = int(cfg["hidden"]), int(cfg["sources"])
    member = torch.from_numpy(band_matrix(band_edges(int(cfg["linear_bins"]), int(cfg["log_bands"]))))
    nb = member.shape[0]

    class Block(nn.Module):
        def __init__(self, d: int) -> None:
            super().__init__()
            self.conv = nn.Conv1d(h, h, 3, padding=d, dilation=d)
            self.norm = nn.GroupNorm(8, h)
            self.proj = nn.Conv1d(h, h, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x + self.proj(nn.functional.gelu(self.norm(self.conv(x))))

    class SplitNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("band_of", member.argmax(dim=0), persistent=False)  # (bins,) band index
            self.register_buffer("count", member.sum(dim=1)[:, None], persistent=False)  # (bands, 1)
            self.inp = nn.Conv1d(2 * nb, h, 1)
            self.inp_norm = nn.GroupNorm(8, h)
            self.blocks = nn.Sequential(*[Block(int(d)) for d in cfg["dilations"]])
            self.out = nn.Conv1d(h, s * nb, 1)
            self.band_scale = nn.Parameter(torch.zeros(s, nb, 1))  # per source and band: weight of the input level
            self.band_bias = nn.Parameter(torch.zeros(s, nb, 1))

        def forward(self, mag: torch.Tensor) -> torch.Tensor:
            """Masks (B, S, F, T) summing to one over S, for stereo magnitudes ``mag`` (B, 2, F, T)."""
            b, _, f, t = mag.shape
            bands = mag.new_zeros(b, 2, nb, t).index_add_(2, self.band_of, mag) / self.count  # band means
            ref = bands.mean(dim=(1, 2, 3), keepdim=True) + 1e-8
            feat = torch.log1p(bands / ref)  # level-independent
            x = nn.functional.gelu(self.inp_norm(self.inp(feat.reshape(b, 2 * nb, t))))
            x = self.blocks(x)
            logits = self.out(nn.functional.gelu(x)).reshape(b, s, nb, t)
            logits = logits + self.band_scale * feat.mean(dim=1, keepdim=True) + self.band_bias
            masks = torch.softmax(logits, dim=1)  # (B, S, bands, T)
            return masks.index_select(2, self.band_of)  # each bin takes its band's mask

    return SplitNet()


_sha: dict[str, str] = {}


def sha256(path: Path = WEIGHTS) -> str:
    """SHA-256 of the weights file (computed once per process)."""
    key = str(path)
    if key not in _sha:
        _sha[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return _sha[key]


def available() -> bool:
    return WEIGHTS.is_file()


def provenance() -> dict[str, Any]:
    """What the history records about the splitter: file, SHA-256, training step and commit, model card."""
    from safetensors import safe_open

    with safe_open(str(WEIGHTS), "pt") as fh:
        meta = fh.metadata() or {}
    return {"weights": WEIGHTS.name, "sha256": sha256(), "step": int(meta.get("step", 0) or 0),
            "training_commit": meta.get("training_commit", ""),
            "model_card": f"seedwave_plugins/stems/weights/{CARD.name}"}


_lock = threading.Lock()
_model: dict[str, Any] = {}


def load(path: Path = WEIGHTS):
    """The shipped network, ready for inference (cached). Raises FileNotFoundError when absent."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    key = str(path)
    with _lock:
        if key in _model:
            return _model[key]
        with safe_open(str(path), "pt") as fh:
            meta = fh.metadata() or {}
        cfg = json.loads(meta.get("config", "{}"))
        net = build(cfg)
        net.load_state_dict(load_file(str(path)))
        net.eval()
        _model.clear()
        _model[key] = net
        return net


def _stft(x, window):
    import torch

    return torch.stft(x, N_FFT, HOP, window=window, center=True, return_complex=True)


def separate(x44: np.ndarray, net=None, check: Callable[[], None] | None = None,
             progress: Callable[[float], None] | None = None, block_frames: int = 2048,
             context_frames: int = 160, targets: tuple[str, ...] = SOURCES,
             apply_to: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Stems ``targets`` of planar stereo float32 ``x44`` (44.1 kHz).

    With all four targets the stems sum to ``x44`` (to rounding). ``apply_to``
    (same shape, e.g. the accompaniment left when another model took the vocals):
    the masks of ``targets``, renormalised to sum to one, split ``apply_to``
    instead, so those stems sum to it. Runs in blocks of ``block_frames`` STFT
    frames with ``context_frames`` of context each side (discarded), so memory
    stays bounded for any length; calls ``check`` between blocks (it may raise to
    cancel) and ``progress`` with the fraction done.
    """
    import torch

    net = net if net is not None else load()
    x = torch.from_numpy(np.ascontiguousarray(x44, dtype=np.float32))
    n = x.shape[1]
    window = torch.hann_window(N_FFT)
    spec = _stft(x, window)  # (2, F, T)
    frames = spec.shape[-1]
    mag = spec.abs()
    idx = [SOURCES.index(t) for t in targets]
    masks = torch.empty((len(idx), spec.shape[1], frames), dtype=torch.float32)
    with torch.inference_mode():
        for a in range(0, frames, block_frames):
            if check is not None:
                check()
            lo, hi = max(0, a - context_frames), min(frames, a + block_frames + context_frames)
            m = net(mag[None, :, :, lo:hi])[0][idx]  # (targets, F, t)
            k = min(block_frames, frames - a)
            masks[:, :, a:a + k] = m[:, :, a - lo:a - lo + k]
            if progress is not None:
                progress(min(1.0, (a + k) / frames))
        if apply_to is not None:
            masks = masks / masks.sum(dim=0, keepdim=True).clamp_min(1e-6)
            spec = _stft(torch.from_numpy(np.ascontiguousarray(apply_to, dtype=np.float32)), window)
        out = {}
        for i, name in enumerate(targets):
            out[name] = torch.istft(spec * masks[i][None], N_FFT, HOP, window=window, center=True,
                                    length=n).numpy()
    return out
