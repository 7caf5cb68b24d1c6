"""First-run tips: a short tour in a banner above the timeline.

The banner takes its own row of the window (the timeline gets shorter while it is
open), so it covers nothing: no track, clip or button is hidden under it.

Shown by ``window.tips_panel.open()`` (the first start calls it, see ``app._first_run``)
and from Help > Tips. Not modal: the user can play and edit while it is open;
Close (or Escape while it has focus) dismisses it.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

TIPS: tuple[tuple[str, str], ...] = (
    ("Welcome to Seedwave",
     "This is the demo project: a short song on four tracks and a noisy speech recording. "
     "Press <b>Space</b> to play and again to pause."),
    ("Select and edit",
     "Drag across a track to select; <b>Shift+click</b> extends the selection. Cut, copy, paste and "
     "delete work as everywhere (<b>Ctrl+X</b>, <b>Ctrl+C</b>, <b>Ctrl+V</b>, <b>Delete</b>), and "
     "<b>Ctrl+Z</b> undoes anything, AI effects included. Your source files are never changed."),
    ("Zoom and look closer",
     "<b>Ctrl+wheel</b> zooms around the mouse, <b>Ctrl+F</b> fits the whole project, <b>Ctrl+E</b> "
     "zooms to the selection. Right-click a track to show it as a waveform, a spectrogram, or both."),
    ("Offline AI effects",
     "Select the speech track and open the <b>Effects</b> menu to denoise it; the <b>Remix</b> panel "
     "rebalances the song's vocals, drums and bass, and <b>Audio &gt; Fill Selection</b> patches a gap. "
     "All of it runs on this computer, and you can preview before applying."),
    ("Export",
     "<b>File &gt; Export</b> (<b>Ctrl+Shift+E</b>) renders the mix to WAV, FLAC, MP3, Ogg or Opus, "
     "with loudness normalisation if you want it."),
    ("Help is near",
     "<b>F1</b> lists every keyboard shortcut; <b>Help &gt; User Guide</b> explains the rest, and "
     "<b>Help &gt; Tips</b> brings this tour back. <b>Edit &gt; Settings</b> (<b>Ctrl+,</b>) chooses "
     "the audio device, the AI device and the theme."),
)


class TipsPanel(QFrame):
    """The tour banner: title and text, then step counter, Back / Next / Close on the right."""

    def __init__(self, host: QWidget | None = None, tips: tuple[tuple[str, str], ...] = TIPS) -> None:
        super().__init__(host)
        self.tips = tips
        self.index = 0
        self.setObjectName("TipsPanel")
        self.setAccessibleName("Tips")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.setStyleSheet(
            "#TipsPanel { background: palette(window); border: 1px solid palette(highlight); border-radius: 8px; }"
        )
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        outer = QHBoxLayout(self)
        outer.setContentsMargins(14, 8, 14, 8)
        lay = QVBoxLayout()
        outer.addLayout(lay, 1)
        self.title = QLabel()
        self.title.setAccessibleName("Tip title")
        self.title.setStyleSheet("font-weight: bold; font-size: 14px;")
        self.text = QLabel()
        self.text.setAccessibleName("Tip")
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.RichText)
        lay.addWidget(self.title)
        lay.addWidget(self.text)
        row = QHBoxLayout()
        row.setAlignment(Qt.AlignmentFlag.AlignBottom)
        self.counter = QLabel()
        self.counter.setAccessibleName("Tip number")
        row.addWidget(self.counter, 1)
        self.back = QPushButton("Back")
        self.back.clicked.connect(lambda: self.show_tip(self.index - 1))
        self.next = QPushButton("Next")
        self.next.setDefault(True)
        self.next.clicked.connect(self._next)
        self.close_button = QPushButton("Close")
        self.close_button.setAccessibleName("Close tips")
        self.close_button.clicked.connect(self.dismiss)
        for b in (self.back, self.next, self.close_button):
            b.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            row.addWidget(b)
        outer.addLayout(row)
        esc = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        esc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        esc.activated.connect(self.dismiss)
        self.hide()
        self.show_tip(0)

    def show_tip(self, index: int) -> None:
        self.index = max(0, min(index, len(self.tips) - 1))
        title, text = self.tips[self.index]
        self.title.setText(title)
        self.text.setText(text)
        self.counter.setText(f"{self.index + 1} of {len(self.tips)}")
        self.back.setEnabled(self.index > 0)
        last = self.index == len(self.tips) - 1
        self.next.setText("Done" if last else "Next")

    def _next(self) -> None:
        if self.index >= len(self.tips) - 1:
            self.dismiss()
        else:
            self.show_tip(self.index + 1)

    def open(self, index: int = 0) -> None:
        self.show_tip(index)
        self.show()

    def dismiss(self) -> None:
        self.hide()


def install(window: Any) -> None:
    """``window.tips_panel`` (opened on the first start) and Help > Tips."""
    panel = TipsPanel()
    # A row of its own above the timeline: it pushes the tracks down instead of covering them.
    window.centralWidget().layout().insertWidget(0, panel)
    window.tips_panel = panel
    window.act_tips = window.action("&Tips", lambda: panel.open(0), None, "A short tour of Seedwave")
    menu = window.menu_help
    before = window.act_shortcuts
    if before in menu.actions():
        menu.insertAction(before, window.act_tips)
    else:
        menu.addAction(window.act_tips)
