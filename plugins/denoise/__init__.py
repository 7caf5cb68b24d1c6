"""Denoise: DeepFilterNet3 (default), RNNoise or spectral gating, all offline.

Only the effect's declaration is imported here; engines load on first use.
"""

from .effect import DenoiseEffect

__all__ = ["DenoiseEffect"]
