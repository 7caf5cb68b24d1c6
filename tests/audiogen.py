"""Test signals, generated on the fly (nothing downloaded)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf


def sines(freqs=(220.0, 330.0, 495.0), seconds: float = 1.0, rate: int = 48000, channels: int = 1,
          amp: float = 0.2) -> np.ndarray:
    """Planar sum of sinusoids."""
    t = np.arange(int(seconds * rate)) / rate
    x = sum(amp * np.sin(2 * np.pi * f * t + i) for i, f in enumerate(freqs)).astype(np.float32)
    return np.tile(x, (channels, 1))


def noise(seconds: float = 1.0, rate: int = 48000, channels: int = 2, amp: float = 0.1, seed: int = 0) -> np.ndarray:
    return (amp * np.random.default_rng(seed).standard_normal((channels, int(seconds * rate)))).astype(np.float32)


def write(path: Path, planar: np.ndarray, rate: int = 48000, subtype: str | None = None,
          fmt: str | None = None) -> Path:
    sf.write(str(path), planar.T, rate, subtype=subtype, format=fmt)
    return path


def have_espeak() -> bool:
    return shutil.which("espeak-ng") is not None


def speech(text: str = "The quick brown fox jumps over the lazy dog. Seedwave edits sound quickly.",
           rate: int = 48000, voice: str = "en-us", speed: int = 150) -> np.ndarray:
    """Synthetic speech from espeak-ng, mono planar at ``rate``."""
    import soxr

    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "s.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(out), text], check=True,
                       capture_output=True)
        x, r = sf.read(str(out), dtype="float32")
    if r != rate:
        x = soxr.resample(x, r, rate)
    x = x / (np.abs(x).max() + 1e-9) * 0.5
    return x[None, :].astype(np.float32)
