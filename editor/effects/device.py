"""Choosing where torch work runs: CUDA, then Apple MPS, then CPU.

torch is imported only when a device is actually needed, so start-up stays fast.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

POLICIES = ("auto", "cuda", "cpu")
T = TypeVar("T")


@dataclass(frozen=True)
class DeviceReport:
    cuda: bool
    mps: bool
    cuda_name: str = ""
    torch_version: str = ""

    def describe(self) -> str:
        if self.cuda:
            return f"GPU: {self.cuda_name} (CUDA)"
        if self.mps:
            return "GPU: Apple Metal (MPS)"
        return "CPU (no GPU found)"


_last_report: DeviceReport | None = None


def detect() -> DeviceReport:
    """What this machine offers (imports torch)."""
    global _last_report
    try:
        import torch
    except Exception:  # noqa: BLE001 - torch missing or broken: CPU only
        _last_report = DeviceReport(False, False)
        return _last_report
    cuda = bool(torch.cuda.is_available())
    mps = bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
    name = torch.cuda.get_device_name(0) if cuda else ""
    _last_report = DeviceReport(cuda, mps, name, torch.__version__)
    return _last_report


def last_report() -> DeviceReport | None:
    """The last :func:`detect` result, or None if torch was never asked (so the GUI
    thread can make guesses without importing torch)."""
    return _last_report


def remember_report(report: DeviceReport) -> None:
    """Take a :func:`detect` result made in another process (the GUI's device probe)
    as the last one, unless this process has detected the device itself."""
    global _last_report
    if _last_report is None:
        _last_report = report


def pick_device(policy: str = "auto", report: DeviceReport | None = None) -> str:
    """A torch device string for ``policy`` ("auto", "cuda" or "cpu")."""
    if policy not in POLICIES:
        raise ValueError(f"device must be one of {', '.join(POLICIES)}")
    if policy == "cpu":
        return "cpu"
    report = report or detect()
    if report.cuda:
        return "cuda"
    if policy == "auto" and report.mps:
        return "mps"
    return "cpu"


def is_out_of_memory(exc: BaseException) -> bool:
    """True for a GPU out-of-memory error (torch's OutOfMemoryError or its message)."""
    if type(exc).__name__ == "OutOfMemoryError":
        return True
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and "out of memory" in text and ("cuda" in text or "mps" in text)


def free_gpu_memory() -> None:
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()


# -- the one device policy for every torch run (effects, fill takes, the command line) ---------------
def resolve_device(uses_gpu: bool, policy: str, warn: Callable[[str], None], what: str = "") -> str:
    """The torch device for a run under the user's ``policy`` (may import torch: call it on
    a worker thread). A CUDA request on a machine without CUDA warns and runs on the CPU."""
    if not uses_gpu:
        return "cpu"
    try:
        dev = pick_device(policy)
    except ValueError:
        dev = pick_device("auto")
    if policy == "cuda" and dev != "cuda":
        warn(f"{what or 'This run'}: no CUDA GPU was found; running on the CPU")
    return dev


def uses_gpu_slot(uses_gpu: bool, policy: str) -> bool:
    """Whether a run queues for the single GPU slot (decided on the GUI thread without
    importing torch: unknown hardware counts as a GPU)."""
    if not uses_gpu or policy == "cpu":
        return False
    report = last_report()
    return report is None or report.cuda or report.mps


def run_with_cpu_fallback(run: Callable[[str], T], device: str, warn: Callable[[str], None], what: str = "") -> T:
    """``run(device)``; when the GPU runs out of memory, free it, warn, and run on the CPU."""
    try:
        return run(device)
    except Exception as exc:
        if device == "cpu" or not is_out_of_memory(exc):
            raise
    free_gpu_memory()
    warn(f"{what or 'This run'}: the GPU ran out of memory; finishing on the CPU")
    return run("cpu")
