"""Classic effects: EQ, filters, dynamics, space, pitch and time on pedalboard,
and the repair tools (de-click, de-clip, de-hum, noise reduction).

Only the effects' declarations are imported here; pedalboard, scipy and
noisereduce load when an effect first runs.
"""

from .dynamics import CompressorEffect, GateEffect, LimiterEffect
from .eq import EqEffect, eq_response, response_curve
from .filters import HighpassEffect, LowpassEffect
from .pitch import PitchEffect, TempoEffect
from .repair import DeclickEffect, DeclipEffect, DehumEffect, NoiseReduceEffect
from .space import ChorusEffect, DelayEffect, ReverbEffect


def capture_noise_profile(audio, sample_rate: int) -> str:  # noqa: ANN001 - planar numpy array
    """The ``profile`` value for Noise reduction, from noise-only audio (planar or 1-D)."""
    from .noiseprofile import capture_profile

    return capture_profile(audio, sample_rate)


__all__ = [
    "ChorusEffect", "CompressorEffect", "DeclickEffect", "DeclipEffect", "DehumEffect", "DelayEffect",
    "EqEffect", "GateEffect", "HighpassEffect", "LimiterEffect", "LowpassEffect", "NoiseReduceEffect",
    "PitchEffect", "ReverbEffect", "TempoEffect", "capture_noise_profile", "eq_response", "response_curve",
]
