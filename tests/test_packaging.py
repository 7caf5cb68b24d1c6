"""Packaging: the wheel installs and runs in a fresh virtual environment; the Linux desktop
integration (desktop file, MIME types, icons, install script, self-extracting file) is sound;
the Windows and macOS recipes point at files that exist."""

from __future__ import annotations

import configparser
import os
import re
import shutil
import stat
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
import zipfile
from importlib.util import module_from_spec, spec_from_file_location
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "packaging"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
MIME_PROJECT = "application/x-seedwave-project"


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _load(path: Path):
    spec = spec_from_file_location(path.stem, path)
    mod = module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# ------------------------------------------------------------------------------------------ pyproject
def test_package_list_names_every_package_folder():
    tool = _pyproject()["tool"]["setuptools"]
    listed = set(tool["packages"])
    dirs = tool["package-dir"]
    found = set()
    for top, folder in (("editor", "editor"), ("seedwave_plugins", "plugins")):
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder)
            if "__pycache__" in rel.parts:
                continue
            found.add(".".join((top, *rel.parts)))
    found.add("editor.resources")
    assert found == listed, f"missing: {sorted(found - listed)}, stale: {sorted(listed - found)}"
    assert dirs["seedwave_plugins"] == "plugins" and dirs["editor.resources"] == "resources"


# ------------------------------------------------------------------------------------------ the wheel
def _source_copy(dest: Path) -> Path:
    """What a clean checkout holds for building (symbolic links kept, caches left out)."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in ("editor", "plugins", "resources"):
        shutil.copytree(ROOT / name, dest / name, symlinks=True, ignore=ignore)
    (dest / "docs").mkdir()
    shutil.copy2(ROOT / "docs" / "USER_GUIDE.md", dest / "docs" / "USER_GUIDE.md")
    if (ROOT / "docs" / "images").is_dir():  # the guide's pictures (resources/docs/images links there)
        shutil.copytree(ROOT / "docs" / "images", dest / "docs" / "images")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, dest / name)
    return dest


def _site_packages_of(prefix: Path) -> Path:
    return next(prefix.glob("lib/python3*/site-packages"))


@pytest.mark.slow
def test_wheel_installs_into_a_fresh_venv_and_runs(tmp_path):
    src = _source_copy(tmp_path / "src")
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "-w", str(dist), str(src)], check=True, cwd=tmp_path, timeout=300)
    (wheel,) = dist.glob("seedwave-*.whl")

    # What the wheel holds.
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        info = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        entry_points = z.read(info).decode()
        guide = z.read("editor/resources/docs/USER_GUIDE.md").decode()
    assert {"editor/resources/icons/seedwave.svg", "editor/resources/demo/speech.ogg",
            "seedwave_plugins/denoise/plugin.toml", "seedwave_plugins/stems/plugin.toml",
            "editor/qt/main_window.py", "editor/cli.py"} <= names
    assert {f"editor/resources/demo/{n}.ogg" for n in ("bass", "drums", "flute", "keys", "speech")} <= names
    assert not any(n.startswith("plugins/") for n in names), "a top-level 'plugins' package was shipped"
    assert guide == (ROOT / "docs" / "USER_GUIDE.md").read_text(), "the guide must ship as text, not a link"
    for img in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", guide):  # every picture the guide shows
        assert f"editor/resources/docs/{img}" in names, img
    groups = _pyproject()["project"]["entry-points"]
    assert "[seedwave.manifest]" in entry_points  # plugins are found through their manifests
    for group in ("seedwave.manifest", "seedwave.effects"):
        for name, target in groups.get(group, {}).items():
            assert re.search(rf"^{name}\s*=\s*{re.escape(target)}$", entry_points, re.M), name
    assert re.search(r"^seedwave\s*=\s*editor\.cli:main$", entry_points, re.M)

    # A fresh venv; its dependencies come from this environment, the editable install hidden.
    overlay = _load(PKG / "overlay_venv.py")
    venv = tmp_path / "venv"
    py = overlay.make_overlay_venv(venv, Path(sys.prefix), exclude=("seedwave",))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    run = dict(cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    out = subprocess.run([str(py), "-c", "import editor"], **run)
    assert out.returncode != 0, "the editable checkout leaks into the fresh venv"
    out = subprocess.run([str(py), "-m", "pip", "install", "--no-index", "--find-links", str(dist), "seedwave"], **run)
    assert out.returncode == 0 and "Successfully installed seedwave" in out.stdout, out.stdout + out.stderr

    exe = venv / "bin" / "seedwave"
    assert exe.is_file()
    out = subprocess.run([str(exe), "--version"], **dict(run, env=dict(env, PYTHONVERBOSE="1")))
    assert out.returncode == 0 and out.stdout.strip() == f"seedwave {_version()}", out.stderr[-2000:]
    site = _site_packages_of(venv)
    loaded = re.findall(r"(?:matches |code object from ')(\S*/editor/[^\s']*\.py)", out.stderr)
    assert loaded and all(Path(p).is_relative_to(site) for p in loaded), loaded[:5]

    wav = tmp_path / "tone.wav"
    t = np.arange(48000) / 48000
    sf.write(wav, (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), 48000, subtype="PCM_24")
    out = subprocess.run([str(exe), "info", str(wav)], **run)
    assert out.returncode == 0, out.stderr
    assert "sample rate: 48000 Hz" in out.stdout and "duration:    00:00:01.000" in out.stdout
    assert "peak:        -6.02 dBFS" in out.stdout

    code = ("import editor, seedwave_plugins; from editor.effects.registry import registry; r = registry(); "
            "print(editor.__file__); print(seedwave_plugins.__file__); print(sorted(r.ids()))")
    out = subprocess.run([str(py), "-c", code], **run)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert Path(lines[0]).is_relative_to(site) and Path(lines[1]).is_relative_to(site)
    assert {"denoise", "stems", "remix"} <= set(eval(lines[2]))  # noqa: S307 - our own printed list


def _version() -> str:
    text = (ROOT / "editor" / "__init__.py").read_text()
    return re.search(r'__version__ = "(.+?)"', text)[1]


# ------------------------------------------------------------------------------------------ Linux desktop
def _desktop() -> configparser.SectionProxy:
    cp = configparser.ConfigParser(interpolation=None)
    cp.optionxform = str
    cp.read(PKG / "linux" / "seedwave.desktop")
    return cp["Desktop Entry"]


def test_desktop_file_declares_the_project_and_audio_types():
    d = _desktop()
    assert d["Type"] == "Application" and d["Name"] == "Seedwave" and d["Icon"] == "seedwave"
    assert d["Exec"] == "seedwave %F" and d["Terminal"] == "false"
    assert "AudioVideo" in d["Categories"].split(";")
    types = set(filter(None, d["MimeType"].split(";")))
    assert MIME_PROJECT in types
    if shutil.which("desktop-file-validate"):  # Debian desktop-file-utils
        r = subprocess.run(["desktop-file-validate", str(PKG / "linux" / "seedwave.desktop")], capture_output=True,
                           text=True)
        assert r.returncode == 0 and not r.stdout.strip(), r.stdout + r.stderr
    globs2 = Path("/usr/share/mime/globs2")
    if not globs2.is_file():
        pytest.skip("shared-mime-info is not installed")
    from editor.core.audio_io import AUDIO_EXTENSIONS

    known: dict[str, set[str]] = {}
    for line in globs2.read_text().splitlines():
        parts = line.split(":")
        if len(parts) >= 3 and parts[2].startswith("*."):
            known.setdefault(parts[2][1:].lower(), set()).add(parts[1])
    checked = 0
    for ext in AUDIO_EXTENSIONS:
        audio = {t for t in known.get(ext, set()) if t.startswith("audio/")}
        if audio:
            checked += 1
            assert audio & types, f"{ext} ({sorted(audio)}) is missing from MimeType"
    assert checked >= 8


def test_mime_xml_defines_seedwave_projects():
    from editor.core.projectfile import EXTENSION

    ns = {"m": "http://www.freedesktop.org/standards/shared-mime-info"}
    root = ET.parse(PKG / "linux" / "seedwave-mime.xml").getroot()
    (mt,) = root.findall("m:mime-type", ns)
    assert mt.get("type") == MIME_PROJECT
    assert [g.get("pattern") for g in mt.findall("m:glob", ns)] == [f"*{EXTENSION}"]
    assert mt.find("m:icon", ns).get("name") == MIME_PROJECT.replace("/", "-")


def test_icons_at_the_usual_sizes(qapp):
    from PySide6.QtGui import QImage

    for n in ICON_SIZES:
        img = QImage(str(PKG / "icons" / "hicolor" / f"{n}x{n}" / "apps" / "seedwave.png"))
        assert (img.width(), img.height()) == (n, n)
        assert img.hasAlphaChannel() and img.pixelColor(0, 0).alpha() == 0  # rounded, transparent corners
        assert img.pixelColor(n // 2, n // 4).alpha() == 255
    svg = PKG / "icons" / "hicolor" / "scalable" / "apps" / "seedwave.svg"
    assert svg.read_bytes() == (ROOT / "resources" / "icons" / "seedwave.svg").read_bytes()
    assert (PKG / "icons" / "seedwave.ico").read_bytes()[:4] == b"\0\0\1\0"
    assert (PKG / "icons" / "seedwave.icns").read_bytes()[:4] == b"icns"


def test_make_icons_renders_from_the_svg(tmp_path, qapp):
    mod = _load(PKG / "make_icons.py")
    written = mod.make_icons(tmp_path)
    from PySide6.QtGui import QImage

    fresh = QImage(str(tmp_path / "hicolor" / "64x64" / "apps" / "seedwave.png"))
    committed = QImage(str(PKG / "icons" / "hicolor" / "64x64" / "apps" / "seedwave.png"))
    assert fresh.size() == committed.size()
    a = np.array([[fresh.pixelColor(x, y).getRgb() for x in range(0, 64, 4)] for y in range(0, 64, 4)])
    b = np.array([[committed.pixelColor(x, y).getRgb() for x in range(0, 64, 4)] for y in range(0, 64, 4)])
    assert np.abs(a - b).max() <= 8, "packaging/icons is out of date: run python packaging/make_icons.py"
    assert len([p for p in written if p.suffix == ".png"]) == len(ICON_SIZES)


def _fake_app(folder: Path) -> Path:
    """A stand-in for the PyInstaller folder: a `seedwave` that reports its version and arguments."""
    folder.mkdir(parents=True)
    exe = folder / "seedwave"
    exe.write_text(f'#!/bin/sh\necho "seedwave {_version()} $*"\n')
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    (folder / "_internal").mkdir()
    (folder / "_internal" / "payload.bin").write_bytes(os.urandom(4096))
    return folder


@pytest.fixture(scope="module")
def artefacts(tmp_path_factory):
    """assemble.sh run on a fake program folder: stage folder, tarball and .run file."""
    tmp = tmp_path_factory.mktemp("linux-artefacts")
    name = f"seedwave-{_version()}-linux-test"
    subprocess.run([str(PKG / "linux" / "assemble.sh"), str(_fake_app(tmp / "app")), str(PKG / "icons"), name,
                    _version(), str(tmp / "out")], check=True, timeout=120)
    return tmp / "out", name


def test_install_script_adds_and_removes_the_desktop_integration(artefacts, tmp_path):
    out, name = artefacts
    prefix = tmp_path / "prefix"
    env = dict(os.environ, HOME=str(tmp_path / "home"))
    r = subprocess.run([str(out / name / "install.sh"), "--prefix", str(prefix)], env=env, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, (r.stdout, r.stderr)
    exe = prefix / "bin" / "seedwave"
    assert subprocess.run([str(exe), "--version"], capture_output=True, text=True).stdout.startswith("seedwave ")
    share = prefix / "share"
    desktop = (share / "applications" / "seedwave.desktop").read_text()
    assert f"Exec={exe} %F" in desktop and f"TryExec={exe}" in desktop
    assert (share / "mime" / "packages" / "seedwave.xml").is_file()
    for n in ICON_SIZES:
        assert (share / "icons" / "hicolor" / f"{n}x{n}" / "apps" / "seedwave.png").is_file()
        assert (share / "icons" / "hicolor" / f"{n}x{n}" / "mimetypes" / "application-x-seedwave-project.png").is_file()
    assert (share / "icons" / "hicolor" / "scalable" / "apps" / "seedwave.svg").is_file()
    if shutil.which("update-mime-database"):  # the MIME database now knows *.seedwave
        assert re.search(rf":{re.escape(MIME_PROJECT)}:\*\.seedwave", (share / "mime" / "globs2").read_text())
    r = subprocess.run([str(out / name / "install.sh"), "--uninstall", "--prefix", str(prefix)], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert not exe.exists() and not (prefix / "lib" / "seedwave").exists()
    assert not (share / "applications" / "seedwave.desktop").exists()
    assert not list(share.glob("icons/hicolor/*/*/seedwave.*"))


def test_self_extracting_file_unpacks_once_and_runs(artefacts, tmp_path):
    out, name = artefacts
    run_file = out / f"{name}.run"
    assert run_file.stat().st_mode & stat.S_IXUSR
    with open(out / f"{name}.tar.gz", "rb") as fh:
        assert run_file.read_bytes().endswith(fh.read())
    env = dict(os.environ, XDG_DATA_HOME=str(tmp_path / "data"), HOME=str(tmp_path / "home"))
    r = subprocess.run([str(run_file), "song.seedwave"], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == f"seedwave {_version()} song.seedwave", r.stderr
    assert "unpacking" in r.stderr
    unpacked = tmp_path / "data" / "seedwave" / "runtime" / name / "seedwave" / "seedwave"
    assert unpacked.is_file()
    r = subprocess.run([str(run_file), "--version"], env=env, capture_output=True, text=True, timeout=60)
    assert r.stdout.strip() == f"seedwave {_version()} --version" and "unpacking" not in r.stderr
    r = subprocess.run([str(run_file), "--extract", str(tmp_path / "x")], env=env, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0 and (tmp_path / "x" / name / "install.sh").is_file()
    prefix = tmp_path / "prefix"
    r = subprocess.run([str(run_file), "--install", "--prefix", str(prefix)], env=env, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, (r.stdout, r.stderr)
    out = subprocess.run([str(prefix / "bin" / "seedwave"), "x.wav"], capture_output=True, text=True).stdout
    assert out.strip() == f"seedwave {_version()} x.wav"
    assert (prefix / "share" / "applications" / "seedwave.desktop").is_file()
    assert not list((tmp_path / "data" / "seedwave" / "runtime").glob(".install.*")), "temporary files left"
    r = subprocess.run([str(run_file), "--uninstall", "--prefix", str(prefix)], env=env, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0 and not (prefix / "bin" / "seedwave").exists()


# ------------------------------------------------------------------------------------------ other systems
@pytest.mark.parametrize("spec", ["seedwave.spec", "windows/seedwave-windows.spec", "macos/seedwave-macos.spec"])
def test_pyinstaller_specs_compile_and_name_existing_files(spec):
    text = (PKG / spec).read_text()
    compile(text, spec, "exec")
    for rel in re.findall(r"[\"']((?:\.\./)*[\w./-]+\.(?:py|ico|icns|png|svg|txt|plist))[\"']", text):
        base = (PKG / spec).parent
        assert any((d / rel).exists() for d in (base, PKG, PKG / "icons", ROOT)), f"{spec}: {rel}"
    assert "from spec_common import" in text and "analysis_options()" in text
    common = (PKG / "spec_common.py").read_text()
    assert '"seedwave_launcher.py"' in common and (PKG / "seedwave_launcher.py").is_file()


def test_launcher_probes_the_ai_device(tmp_path):
    r = subprocess.run([sys.executable, str(PKG / "seedwave_launcher.py"), "--seedwave-probe-device"],
                       capture_output=True, text=True, timeout=240, cwd=tmp_path)
    assert r.returncode == 0, (r.stdout, r.stderr)
    import json
    from importlib.metadata import version

    from editor.effects.device import DeviceReport

    report = DeviceReport(**json.loads(r.stdout.strip().splitlines()[-1]))
    assert report.torch_version == version("torch")
    assert report.describe()
