"""Make a virtual environment that reuses another environment's installed packages.

Used by tests/test_packaging.py (a fast, offline "pip install seedwave" check) and
by packaging/build_linux.sh --deps-from (a standalone build without downloading
every dependency again). The new environment is a plain venv; a ``.pth`` file
adds a folder of symbolic links to the other environment's site-packages, minus
the distributions named in ``exclude`` and every editable-install hook, so an
editable checkout can never shadow what gets installed into the new venv::

    python packaging/overlay_venv.py NEW_VENV --deps-from .venv [--exclude seedwave] [--link hard]

Then ``NEW_VENV/bin/python -m pip install --no-index --find-links dist seedwave``
installs the wheel, with its dependencies already satisfied.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

PTH_NAME = "_overlay_deps.pth"


def site_packages(venv: Path) -> Path:
    """The purelib folder of the environment at ``venv`` (POSIX or Windows layout)."""
    for cand in sorted(venv.glob("lib/python3*/site-packages")) + [venv / "Lib" / "site-packages"]:
        if cand.is_dir():
            return cand
    raise FileNotFoundError(f"no site-packages under {venv}")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _top_levels(dist_info: Path) -> set[str]:
    """Top-level names a distribution installed, from top_level.txt or RECORD."""
    names: set[str] = set()
    top = dist_info / "top_level.txt"
    if top.is_file():
        names.update(x.strip() for x in top.read_text().splitlines() if x.strip())
    record = dist_info / "RECORD"
    if record.is_file():
        for line in record.read_text().splitlines():
            first = line.split(",", 1)[0].split("/", 1)[0]
            if first and not first.endswith((".dist-info", ".data")) and first != "..":
                names.add(first.removesuffix(".py"))
    return names


def skipped_entries(deps_site: Path, exclude: tuple[str, ...]) -> set[str]:
    """Names in ``deps_site`` that must not be visible: excluded distributions,
    their files, editable-install hooks and every .pth file (processed below
    only where they are kept)."""
    wanted = {_norm(e) for e in exclude}
    skip: set[str] = set()
    for entry in deps_site.iterdir():
        name = entry.name
        if name.startswith(("__editable__", "__pycache__")) or "_editable_" in name:
            skip.add(name)
        elif name.endswith((".dist-info", ".egg-info")):
            dist = _norm(name.split("-", 1)[0])
            if dist in wanted:
                skip.add(name)
                skip.update(_top_levels(entry))
        elif name.endswith(".egg-link"):
            skip.add(name)
    return skip


def _hard_link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:  # another file system
        shutil.copy2(src, dst)


def make_overlay_venv(target: Path, deps_from: Path, exclude: tuple[str, ...] = ("seedwave",),
                      base_python: str | None = None, link: str = "symlink") -> Path:
    """Create ``target`` (a venv without pip of its own) seeing ``deps_from``'s packages; returns its python.

    ``link="symlink"`` links each top-level entry (instant). ``link="hard"`` rebuilds the
    tree with hard links (seconds; no extra disk space on the same file system): tools
    that resolve symbolic links, such as PyInstaller, then see one consistent location
    for each package and its libraries instead of collecting some files twice."""
    target = Path(target).resolve()
    deps_site = site_packages(Path(deps_from).resolve())
    py = base_python or getattr(sys, "_base_executable", sys.executable)
    subprocess.run([py, "-m", "venv", "--without-pip", str(target)], check=True)
    links = target / "overlay-deps"
    links.mkdir()
    skip = skipped_entries(deps_site, exclude)
    for entry in deps_site.iterdir():
        if entry.name in skip:
            continue
        if link == "symlink":
            os.symlink(entry, links / entry.name)
        elif entry.is_dir() and not entry.is_symlink():
            shutil.copytree(entry, links / entry.name, symlinks=True, copy_function=_hard_link_or_copy)
        else:
            _hard_link_or_copy(str(entry), str(links / entry.name))
    # site.addsitedir also runs the kept .pth files of the other environment.
    (site_packages(target) / PTH_NAME).write_text(f"import site; site.addsitedir({str(links)!r})\n")
    return target / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("target", type=Path)
    ap.add_argument("--deps-from", type=Path, default=Path(sysconfig.get_paths()["data"]))
    ap.add_argument("--exclude", action="append", default=None, help="distribution to hide (default: seedwave)")
    ap.add_argument("--link", choices=("symlink", "hard"), default="symlink")
    args = ap.parse_args(argv)
    py = make_overlay_venv(args.target, args.deps_from, tuple(args.exclude or ["seedwave"]), link=args.link)
    print(py)
    return 0


if __name__ == "__main__":
    sys.exit(main())
