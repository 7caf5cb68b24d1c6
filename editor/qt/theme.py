"""A clean dark theme, or a light one, following the system preference."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication


def system_prefers_dark() -> bool:
    hints = QGuiApplication.styleHints()
    scheme = getattr(hints, "colorScheme", None)
    if scheme is None:
        return True
    return scheme() != Qt.ColorScheme.Light


def dark_palette() -> QPalette:
    p = QPalette()
    c = {
        QPalette.ColorRole.Window: "#26282c",
        QPalette.ColorRole.WindowText: "#e6e6e6",
        QPalette.ColorRole.Base: "#1d1f22",
        QPalette.ColorRole.AlternateBase: "#222428",
        QPalette.ColorRole.ToolTipBase: "#33363b",
        QPalette.ColorRole.ToolTipText: "#f0f0f0",
        QPalette.ColorRole.Text: "#e6e6e6",
        QPalette.ColorRole.Button: "#303338",
        QPalette.ColorRole.ButtonText: "#e6e6e6",
        QPalette.ColorRole.BrightText: "#ff5050",
        QPalette.ColorRole.Highlight: "#3d6fb6",
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.Link: "#6fa8ff",
        QPalette.ColorRole.Mid: "#3a3d42",
        QPalette.ColorRole.PlaceholderText: "#8a8d93",
    }
    for role, col in c.items():
        p.setColor(role, QColor(col))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6c6f75"))
    return p


def light_palette() -> QPalette:
    p = QApplication.style().standardPalette()
    p.setColor(QPalette.ColorRole.AlternateBase, QColor("#f2f3f5"))
    p.setColor(QPalette.ColorRole.Highlight, QColor("#3d6fb6"))
    return p


def apply_theme(app: QApplication, choice: str = "system") -> str:
    """Apply 'dark', 'light' or 'system'; returns the theme applied."""
    app.setStyle("Fusion")
    dark = system_prefers_dark() if choice == "system" else choice == "dark"
    app.setPalette(dark_palette() if dark else light_palette())
    return "dark" if dark else "light"


def focus_colour(palette: QPalette) -> QColor:
    """The keyboard-focus ring's colour: the theme's highlight, made brighter on dark
    themes and darker on light ones so it stands out from a selected control's fill."""
    c = QColor(palette.color(QPalette.ColorRole.Highlight))
    dark = palette.color(QPalette.ColorRole.Window).lightness() < 128
    return c.lighter(140) if dark else c.darker(130)
