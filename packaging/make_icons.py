"""Render the application icon (resources/icons/seedwave.svg) at the usual sizes.

Writes ``packaging/icons/hicolor/<N>x<N>/apps/seedwave.png`` for the freedesktop
icon theme (16 to 512 px) plus the SVG as ``scalable``, ``seedwave.ico``
(Windows: 16 to 256 px in one file) and ``seedwave.icns`` (macOS). (The Linux
install script also installs the PNGs as the icon of the Seedwave project MIME
type, ``application-x-seedwave-project``.) Qt renders the SVG; Pillow,
when installed, writes the .ico and .icns files::

    python packaging/make_icons.py [--out packaging/icons]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SVG = ROOT / "resources" / "icons" / "seedwave.svg"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
MIME_ICON = "application-x-seedwave-project"


def render_png(svg: Path, size: int, out: Path) -> None:
    """Draw ``svg`` into a transparent ``size``×``size`` PNG."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise ValueError(f"{svg}: not a valid SVG")
    img = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    img.fill(Qt.GlobalColor.transparent)
    p = QPainter(img)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(p)
    p.end()
    out.parent.mkdir(parents=True, exist_ok=True)
    if not img.save(str(out), "PNG"):
        raise OSError(f"cannot write {out}")


def make_icons(out: Path, svg: Path = SVG) -> list[Path]:
    """Write every icon file under ``out``; returns the paths written."""
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtWidgets import QApplication

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    # A QApplication (not a QGuiApplication), so a process that goes on to make widgets still can.
    _app = QCoreApplication.instance() or QApplication(sys.argv[:1])  # noqa: F841 - image plugins need one
    written: list[Path] = []
    for size in SIZES:
        folder = out / "hicolor" / f"{size}x{size}"
        png = folder / "apps" / "seedwave.png"
        render_png(svg, size, png)
        written.append(png)
    scalable = out / "hicolor" / "scalable" / "apps" / "seedwave.svg"
    scalable.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(svg, scalable)
    written.append(scalable)
    try:
        from PIL import Image
    except ImportError:  # the PNGs are enough on Linux; .ico/.icns need Pillow
        print("make_icons: Pillow not installed, skipping seedwave.ico and seedwave.icns", file=sys.stderr)
        return written
    big = Image.open(out / "hicolor" / "512x512" / "apps" / "seedwave.png").convert("RGBA")
    ico = out / "seedwave.ico"
    big.save(ico, sizes=[(s, s) for s in ICO_SIZES])
    icns = out / "seedwave.icns"
    big.save(icns)
    return written + [ico, icns]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Render Seedwave's icon at the usual sizes.")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "icons")
    ap.add_argument("--svg", type=Path, default=SVG)
    args = ap.parse_args(argv)
    for p in make_icons(args.out, args.svg):
        print(p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
