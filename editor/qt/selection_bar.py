"""The selection bar under the timeline: start, end and length of the selection, editable."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QLineEdit, QWidget

from ..core.errors import SeedwaveError
from ..core.timefmt import TIME_FORMATS, format_frames, format_span, parse_time

if TYPE_CHECKING:
    from .main_window import MainWindow


class SelectionBar(QWidget):
    """Editable start, end and length of the selection, in hh:mm:ss.mmm or samples."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__()
        self.w = window
        lay = QHBoxLayout(self)
        lay.setContentsMargins(4, 0, 4, 0)
        self.fields: dict[str, QLineEdit] = {}
        for key, label in (("start", "Start"), ("end", "End"), ("length", "Length")):
            lay.addWidget(QLabel(label))
            ed = QLineEdit()
            ed.setAccessibleName(f"Selection {label.lower()}")
            ed.setMaximumWidth(130)
            ed.editingFinished.connect(lambda k=key: self._edited(k))
            self.fields[key] = ed
            lay.addWidget(ed)
        self.unit = QComboBox()
        self.unit.setAccessibleName("Time format")
        self.unit.addItem("hh:mm:ss.mmm", "hms")
        self.unit.addItem("samples", "samples")
        chosen = window.settings.get("view/time_format")
        self.unit.setCurrentIndex(TIME_FORMATS.index(chosen) if chosen in TIME_FORMATS else 0)
        self.unit.currentIndexChanged.connect(self._unit_changed)
        lay.addWidget(self.unit)
        self.snap = QCheckBox("Snap to zero crossings")
        self.snap.setAccessibleName("Snap selection to zero crossings")
        self.snap.toggled.connect(self._snap)
        lay.addWidget(self.snap)
        lay.addStretch(1)
        window.state.selection_changed.connect(self.refresh)
        window.state.cursor_changed.connect(self._cursor_moved)
        self.refresh()

    def _fmt(self, frames: int) -> str:
        return format_frames(frames, self.w.state.rate, self.unit.currentData())

    def _cursor_moved(self, _frame: int) -> None:
        self.refresh()

    def _unit_changed(self, _i: int) -> None:
        """The time format is the app's: panels (Fill, …) read it from the settings."""
        self.w.settings.set("view/time_format", self.unit.currentData())
        self.refresh()

    def refresh(self, force: bool = False) -> None:
        st = self.w.state
        start, stop = (st.sel_start, st.sel_stop) if st.has_range else (st.cursor, st.cursor)
        # Start, end and length are rounded together, so the length is always end minus start as shown.
        for key, text in zip(("start", "end", "length"), format_span(start, stop, st.rate, self.unit.currentData()),
                             strict=True):
            ed = self.fields[key]
            if force or not ed.hasFocus() or not ed.isModified():
                ed.setText(text)

    def _edited(self, key: str) -> None:
        st = self.w.state
        try:
            v = parse_time(self.fields[key].text(), st.rate, self.unit.currentData())
        except SeedwaveError as exc:
            self.w.show_error(str(exc))
            self.refresh(force=True)
            return
        start, stop = (st.sel_start, st.sel_stop) if st.has_range else (st.cursor, st.cursor)
        if key == "start":
            start = v
            stop = max(stop, start)
        elif key == "end":
            stop = v
            start = min(start, stop)
        else:
            stop = start + v
        tids = st.track_ids or tuple(t.id for t in self.w.document.project.tracks[:1])
        st.set_selection(start, stop, tids)
        st.set_cursor(start)
        self.refresh(force=True)  # the typed field too: it shows the value as understood

    def _snap(self, on: bool) -> None:
        self.w.state.snap_zero_crossings = on
