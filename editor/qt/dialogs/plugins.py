"""Help > Plugins…: every installed plugin, what it contributes, and what failed to load."""

from __future__ import annotations

from html import escape

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from ...effects.plugins import PluginManifest, Plugins
from ...effects.registry import Registry


def _contributions(man: PluginManifest) -> str:
    parts = []
    for what, items in (("effect", man.effects), ("panel", man.panels), ("command", man.commands),
                        ("settings page", man.settings), ("command-line verb", man.cli)):
        if items:
            parts.append(f"{len(items)} {what}{'s' if len(items) != 1 else ''}")
    return ", ".join(parts) or "nothing"


def plugins_html(found: Plugins, reg: Registry) -> str:
    """The dialog's text: one entry per plugin, problems first."""
    problems: dict[str, list[str]] = {}
    for p in found.problems:
        problems.setdefault(p.plugin, []).append(p.message)
    for name, message in reg.errors.items():
        if message not in problems.get(name, []):
            problems.setdefault(name, []).append(message)
    rows = []
    for name in sorted(problems):
        msgs = "".join(f"<li>{escape(m)}</li>" for m in problems[name])
        rows.append(f"<p><b style='color:#d04040'>⚠ {escape(name)}: failed to load</b><ul>{msgs}</ul></p>")
    for man in sorted(found.manifests, key=lambda m: m.title.casefold()):
        version = f" {escape(man.version)}" if man.version else ""
        rows.append(f"<p><b>{escape(man.title)}</b>{version} <small>({escape(man.name)})</small><br>"
                    f"{escape(man.description)}<br><small>Contributes {_contributions(man)}.</small></p>")
    return "".join(rows) or "<p>No plugins are installed.</p>"


class PluginsDialog(QDialog):
    def __init__(self, found: Plugins, reg: Registry, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Plugins")
        self.setObjectName("PluginsDialog")
        self.resize(560, 420)
        lay = QVBoxLayout(self)
        self.text = QTextBrowser()
        self.text.setAccessibleName("Installed plugins")
        self.text.setHtml(plugins_html(found, reg))
        lay.addWidget(self.text)
        bb = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        bb.rejected.connect(self.reject)
        lay.addWidget(bb)
