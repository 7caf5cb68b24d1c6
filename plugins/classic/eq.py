"""Parametric EQ: six bands (peak or shelf, each with frequency, gain and Q) plus
low cut and high cut, all pedalboard filters.

``eq_response(params, freqs, sample_rate)`` is the pure, Qt-free curve the EQ
panel draws: the magnitude response in dB of exactly the filters
:meth:`EqEffect.make_board` builds (JUCE's RBJ biquads and bilinear first-order
stages, as pedalboard runs them). The tests check it against a sweep measured
through the effect.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from editor.effects.base import Param

from .board import BoardEffect, db_to_gain
from .filters import SLOPE_LABELS, SLOPES, cut_plugins, safe_frequency, stage_coefficients, stage_corner, stages

BANDS = 6
BAND_TYPES = ("peak", "low_shelf", "high_shelf", "off")
BAND_TYPE_LABELS = ("Peak", "Low shelf", "High shelf", "Off")
DEFAULT_BANDS = (("low_shelf", 80.0), ("peak", 250.0), ("peak", 800.0),
                 ("peak", 2500.0), ("peak", 6000.0), ("high_shelf", 12000.0))
CUT_SLOPES = ("off", *SLOPES)
CUT_SLOPE_LABELS = ("Off", *SLOPE_LABELS)


def _band_params(i: int, kind: str, freq: float) -> tuple[Param, ...]:
    n = i + 1
    return (
        Param(f"band{n}_type", "choice", kind, choices=BAND_TYPES, choice_labels=BAND_TYPE_LABELS,
              label=f"Band {n} type", help="peak: a bell around the frequency; shelves: everything below/above"),
        Param(f"band{n}_freq", "float", freq, 20.0, 20000.0, step=1.0, unit="Hz", label=f"Band {n} frequency",
              help="centre (peak) or corner (shelf) frequency"),
        Param(f"band{n}_gain", "float", 0.0, -24.0, 24.0, step=0.5, unit="dB", label=f"Band {n} gain",
              help="boost (positive) or cut (negative)"),
        Param(f"band{n}_q", "float", 1.0, 0.1, 18.0, step=0.1, label=f"Band {n} Q",
              help="bandwidth: higher is narrower (shelves: steepness, 0.71 is smooth)"),
    )


PARAMS: tuple[Param, ...] = (
    Param("low_cut", "float", 30.0, 10.0, 2000.0, step=1.0, unit="Hz", label="Low cut",
          help="high-pass filter below this frequency (when its slope is not off)"),
    Param("low_cut_slope", "choice", "off", choices=CUT_SLOPES, choice_labels=CUT_SLOPE_LABELS,
          label="Low cut slope", help="off, or how steeply frequencies below the low cut fall"),
    *(p for i, (kind, freq) in enumerate(DEFAULT_BANDS) for p in _band_params(i, kind, freq)),
    Param("high_cut", "float", 18000.0, 1000.0, 22000.0, step=10.0, unit="Hz", label="High cut",
          help="low-pass filter above this frequency (when its slope is not off)"),
    Param("high_cut_slope", "choice", "off", choices=CUT_SLOPES, choice_labels=CUT_SLOPE_LABELS,
          label="High cut slope", help="off, or how steeply frequencies above the high cut fall"),
    Param("output_gain", "float", 0.0, -24.0, 24.0, step=0.5, unit="dB", label="Output gain",
          help="overall level after the EQ"),
)


def band(params: dict[str, Any], i: int) -> tuple[str, float, float, float]:
    """(type, frequency, gain dB, Q) of band ``i`` (1-based)."""
    return (params[f"band{i}_type"], params[f"band{i}_freq"], params[f"band{i}_gain"], params[f"band{i}_q"])


def biquad(kind: str, freq: float, gain_db: float, q: float, sample_rate: int) -> tuple[list[float], list[float]]:
    """(b, a) of a peak or shelf band as pedalboard (JUCE ``IIR::Coefficients``) computes it."""
    freq = safe_frequency(freq, sample_rate)
    A = math.sqrt(max(db_to_gain(gain_db), 1e-6))
    w = 2.0 * math.pi * freq / sample_rate
    cw, sw = math.cos(w), math.sin(w)
    if kind == "peak":
        alpha = sw / (2.0 * q)
        return [1 + alpha * A, -2 * cw, 1 - alpha * A], [1 + alpha / A, -2 * cw, 1 - alpha / A]
    am1, ap1 = A - 1.0, A + 1.0
    beta = sw * math.sqrt(A) / q
    if kind == "low_shelf":
        b = [A * (ap1 - am1 * cw + beta), A * 2 * (am1 - ap1 * cw), A * (ap1 - am1 * cw - beta)]
        a = [ap1 + am1 * cw + beta, -2 * (am1 + ap1 * cw), ap1 + am1 * cw - beta]
        return b, a
    if kind == "high_shelf":
        b = [A * (ap1 + am1 * cw + beta), A * -2 * (am1 + ap1 * cw), A * (ap1 + am1 * cw - beta)]
        a = [ap1 - am1 * cw + beta, 2 * (am1 - ap1 * cw), ap1 - am1 * cw - beta]
        return b, a
    raise ValueError(f"unknown band type {kind!r}")


def _mag_db(b: list[float], a: list[float], z: np.ndarray) -> np.ndarray:
    num = np.polyval(b[::-1], z)  # b0 + b1 z^-1 + ... evaluated with z = e^{-jw}
    den = np.polyval(a[::-1], z)
    return 20.0 * np.log10(np.maximum(np.abs(num) / np.maximum(np.abs(den), 1e-300), 1e-12))


def filter_sections(params: dict[str, Any], sample_rate: int) -> list[tuple[list[float], list[float]]]:
    """Every filter of the EQ in processing order, as (b, a)."""
    out: list[tuple[list[float], list[float]]] = []
    n = stages(params["low_cut_slope"])
    if n:
        corner = stage_corner(params["low_cut"], n, sample_rate, "highpass")
        out += [stage_coefficients("highpass", corner, sample_rate)] * n
    for i in range(1, BANDS + 1):
        kind, freq, gain, q = band(params, i)
        if kind != "off" and gain != 0.0:
            out.append(biquad(kind, freq, gain, q, sample_rate))
    n = stages(params["high_cut_slope"])
    if n:
        corner = stage_corner(params["high_cut"], n, sample_rate, "lowpass")
        out += [stage_coefficients("lowpass", corner, sample_rate)] * n
    return out


def eq_response(params: dict[str, Any], freqs: np.ndarray, sample_rate: int) -> np.ndarray:
    """Magnitude response in dB of the EQ with ``params`` at ``freqs`` (Hz).

    ``params`` may be partial (missing values take their defaults); it is
    validated like any effect parameters. Pure and cheap (a few hundred points
    in well under a millisecond per band), for the panel's response curve.
    """
    p = EqEffect.resolve_params(params)
    f = np.asarray(freqs, dtype=np.float64)
    z = np.exp(-2j * np.pi * np.clip(f, 0.0, sample_rate / 2) / sample_rate)
    total = np.full(f.shape, p["output_gain"], dtype=np.float64)
    for b, a in filter_sections(p, sample_rate):
        total += _mag_db(b, a, z)
    return total


def response_curve(params: dict[str, Any], sample_rate: int, points: int = 256,
                   f_min: float = 20.0, f_max: float = 20000.0) -> tuple[np.ndarray, np.ndarray]:
    """(frequencies, dB) on a log-spaced axis, ready to plot."""
    f = np.geomspace(f_min, min(f_max, 0.5 * sample_rate), points)
    return f, eq_response(params, f, sample_rate)


class EqEffect(BoardEffect):
    """Six-band parametric EQ with low and high cut."""

    id: ClassVar[str] = "eq"
    title: ClassVar[str] = "Equalizer"
    category: ClassVar[str] = "Filter"
    description: ClassVar[str] = ("Parametric EQ: six peak/shelf bands (frequency, gain, Q) plus low cut "
                                  "and high cut.")
    params: ClassVar[tuple[Param, ...]] = PARAMS
    factory_presets: ClassVar[dict[str, dict[str, Any]]] = {
        "Voice presence": {"low_cut_slope": "24", "low_cut": 80.0, "band2_gain": -2.0, "band2_freq": 300.0,
                           "band4_gain": 3.0, "band4_freq": 3000.0, "band4_q": 0.8},
        "Bass boost": {"band1_gain": 6.0, "band1_freq": 100.0},
        "Telephone": {"low_cut_slope": "48", "low_cut": 300.0, "high_cut_slope": "48", "high_cut": 3400.0},
        "Remove rumble": {"low_cut_slope": "24", "low_cut": 60.0},
    }

    @classmethod
    def curve(cls, params: dict[str, Any], sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
        """The response curve the host's parameter form draws: (Hz, dB)."""
        return response_curve(params, sample_rate)

    def plugins(self, params: dict[str, Any], sample_rate: int) -> list[Any]:
        import pedalboard

        cls = {"peak": pedalboard.PeakFilter, "low_shelf": pedalboard.LowShelfFilter,
               "high_shelf": pedalboard.HighShelfFilter}
        out: list[Any] = cut_plugins("highpass", params["low_cut"], params["low_cut_slope"], sample_rate)
        for i in range(1, BANDS + 1):
            kind, freq, gain, q = band(params, i)
            if kind != "off" and gain != 0.0:
                out.append(cls[kind](cutoff_frequency_hz=safe_frequency(freq, sample_rate), gain_db=gain, q=q))
        out += cut_plugins("lowpass", params["high_cut"], params["high_cut_slope"], sample_rate)
        if params["output_gain"] != 0.0:
            out.append(pedalboard.Gain(gain_db=params["output_gain"]))
        return out
