"""Architecture rules: layer contracts, packaging of every package folder, lint."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())

# Source folder -> installed package name (see [tool.setuptools.package-dir]).
PACKAGE_ROOTS = {"editor": "editor", "plugins": "seedwave_plugins", "resources": "editor.resources"}


def _tool(name: str) -> str:
    """A checker from the test extra; missing is a failure (CI must not skip a contract)."""
    path = BIN / name
    assert path.exists(), f"{name} is not installed: pip install -e '.[test]'"
    return str(path)


def test_import_contracts_hold():
    """editor.core has no Qt, layers import only downward, the host knows no plugin and
    plugins use only the public host API (config in pyproject.toml)."""
    config = PYPROJECT["tool"]["importlinter"]
    assert set(config["root_packages"]) == {"editor", "seedwave_plugins"}
    contracts = config["contracts"]
    core = next(c for c in contracts if c.get("source_modules") == ["editor.core"])
    assert "PySide6" in core["forbidden_modules"] and "editor.qt" in core["forbidden_modules"]
    host = next(c for c in contracts if c.get("source_modules") == ["editor"])
    assert host["forbidden_modules"] == ["seedwave_plugins"]
    plugins = next(c for c in contracts if c.get("source_modules") == ["seedwave_plugins"])
    assert "editor.qt" in plugins["forbidden_modules"]
    layers = next(c for c in contracts if c["type"] == "layers")["layers"]
    assert layers.index("editor.qt") < layers.index("editor.host") < layers.index("editor.jobs")
    proc = subprocess.run([_tool("lint-imports")], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert f"{len(contracts)} kept, 0 broken" in proc.stdout, proc.stdout[-2000:]


def test_every_plugin_folder_has_a_manifest_entry_point():
    """Each built-in plugin is found through its manifest (or, effect-only, the first API)."""
    manifests = PYPROJECT["project"]["entry-points"]["seedwave.manifest"]
    legacy = PYPROJECT["project"]["entry-points"].get("seedwave.effects", {})
    for folder in sorted(p for p in (ROOT / "plugins").iterdir() if (p / "__init__.py").is_file()):
        named = {v.split(":")[0] for v in manifests.values()} | {v.split(":")[0] for v in legacy.values()}
        assert f"seedwave_plugins.{folder.name}" in named, f"plugins/{folder.name} has no entry point"
        if f"seedwave_plugins.{folder.name}" in {v.split(":")[0] for v in manifests.values()}:
            assert (folder / "plugin.toml").is_file()


def test_host_module_sizes_stay_small():
    """No module of the app's host (window, panels, host API) over about 600 lines
    without a reason written at its top."""
    for path in sorted([*(ROOT / "editor" / "qt").rglob("*.py"), *(ROOT / "editor" / "host").rglob("*.py")]):
        text = path.read_text()
        lines = text.count("\n")
        if lines > 650:
            assert "Why this module is long:" in text[:3000], f"{path.relative_to(ROOT)} has {lines} lines"


def test_core_imports_without_qt_at_run_time():
    """Importing every core module (and the engine) loads no Qt at all."""
    code = (
        "import importlib, pkgutil, sys\n"
        "import editor.core, editor.engine\n"
        "for pkg in (editor.core, editor.engine):\n"
        "    for m in pkgutil.iter_modules(pkg.__path__):\n"
        "        importlib.import_module(f'{pkg.__name__}.{m.name}')\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'shiboken6'))\n"
        "print(','.join(bad))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**env, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "", f"Qt imported by the core or engine: {proc.stdout.strip()}"


def _package_folders() -> set[str]:
    found = set()
    for folder, package in PACKAGE_ROOTS.items():
        base = ROOT / folder
        for init in base.rglob("__init__.py"):
            rel = init.parent.relative_to(base)
            if any(part.startswith(".") or part == "__pycache__" for part in rel.parts):
                continue
            found.add(".".join((package, *rel.parts)) if rel.parts else package)
    return found


def test_every_package_folder_is_packaged():
    """A folder with __init__.py that pyproject does not list would be missing from
    the installed app (the editable install used in development hides this)."""
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    folders = _package_folders()
    assert {"editor", "editor.core", "seedwave_plugins", "editor.resources"} <= folders
    missing = sorted(folders - listed)
    assert not missing, f"add these to [tool.setuptools] packages in pyproject.toml: {missing}"
    stale = sorted(listed - folders)
    assert not stale, f"pyproject.toml lists packages with no folder: {stale}"


def test_package_dirs_map_plugins_and_resources():
    dirs = PYPROJECT["tool"]["setuptools"]["package-dir"]
    assert dirs["seedwave_plugins"] == "plugins" and dirs["editor.resources"] == "resources"
    assert not any(p == "plugins" or p.startswith("plugins.") for p in PYPROJECT["tool"]["setuptools"]["packages"])


def test_ruff_passes_on_the_repository():
    proc = subprocess.run([_tool("ruff"), "check", "--no-cache", "."], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
