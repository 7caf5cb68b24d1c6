"""The echo panel: a dock that shows the selection and applies the echo to it.

Everything it needs comes from the :class:`editor.host.Host` it is given; it
never touches the main window.
"""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from editor.core.timefmt import format_hms
from editor.host import Host
from editor.host.widgets.param_form import ParamForm
from editor.jobs.runner import Job

from .effect import Echo


class EchoPanel(QWidget):
    def __init__(self, host: Host, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.host = host
        self.setAccessibleName("Echo")
        lay = QVBoxLayout(self)
        self.selection = QLabel()
        self.selection.setAccessibleName("Echo target")
        lay.addWidget(self.selection)
        self.form = ParamForm(Echo.params)
        lay.addWidget(self.form)
        self.apply_button = QPushButton("Add echo")
        self.apply_button.setAccessibleName("Add echo")
        self.apply_button.clicked.connect(self.apply)
        lay.addWidget(self.apply_button)
        lay.addStretch(1)
        self.job: Job | None = None
        host.selection.changed.connect(self.refresh)
        host.document.changed.connect(self.refresh)
        self.refresh()

    def refresh(self, *_args: object) -> None:
        sel = self.host.selection.current()
        if sel.has_range and sel.track_ids:
            rate = self.host.document.project.sample_rate
            self.selection.setText(f"Selection: {format_hms(sel.length, rate)} on {len(sel.track_ids)} track(s)")
            self.apply_button.setEnabled(True)
        else:
            self.selection.setText("Select a time range on a track")
            self.apply_button.setEnabled(False)

    def apply(self) -> Job | None:
        """Run the echo on the selection: a job, then one undo step."""
        self.job = self.host.effects.apply(Echo.id, self.form.values(), scope="selection")
        return self.job


def quick_echo(host: Host) -> Job | None:
    """Audio > Quick Echo: the default echo on the selection."""
    if not host.selection.current().has_range:
        host.ui.message("Select a time range on a track first")
        return None
    return host.effects.apply(Echo.id, {}, scope="selection")
