"""The Recording tab of Edit > Settings: input device, channels, manual latency offset,
and an input level meter (Monitor) to check the level before recording.

While a take is being recorded the meter follows it (the transport's input meter
shows the same); otherwise Monitor opens the chosen input just for the meter and
closes it with the dialog.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QComboBox, QFormLayout, QHBoxLayout, QLabel, QPushButton, QSpinBox, QWidget

from ...engine.recorder import Recorder, RecordingError, input_devices
from ...host.widgets.meters import PeakMeter

METER_MS = 50


class RecordSettingsPage:
    """Widget, load() and store(), like a plugin's settings page."""

    def __init__(self, window: Any, dialog: QWidget) -> None:
        self.window = window
        self.settings = window.settings
        self.monitor: Recorder | None = None
        self.widget = page = QWidget()
        form = QFormLayout(page)
        self.device = QComboBox()
        self.device.setAccessibleName("Recording input device")
        self.device.addItem("System default input", "")
        for d in input_devices():
            self.device.addItem(d.name, d.name)
        form.addRow("Input &device:", self.device)
        self.channels = QComboBox()
        self.channels.setAccessibleName("Recording channels")
        self.channels.addItem("1 (mono)", 1)
        self.channels.addItem("2 (stereo)", 2)
        form.addRow("&Channels:", self.channels)
        self.latency = QSpinBox()
        self.latency.setAccessibleName("Manual latency offset")
        self.latency.setRange(-500, 500)
        self.latency.setSuffix(" ms")
        self.latency.setToolTip("Added to the latency the input device reports: raise it when takes land late "
                                "against what you heard, lower it when they land early")
        form.addRow("Latency &offset:", self.latency)
        row = QHBoxLayout()
        self.meter = PeakMeter()
        self.meter.setAccessibleName("Recording input level")
        self.monitor_button = QPushButton("&Monitor")
        self.monitor_button.setCheckable(True)
        self.monitor_button.setAccessibleName("Monitor input level")
        self.monitor_button.setToolTip("Open the input to show its level here (nothing is recorded)")
        self.monitor_button.toggled.connect(self.set_monitoring)
        row.addWidget(self.meter, 1)
        row.addWidget(self.monitor_button)
        form.addRow("Input level:", row)
        self.status = QLabel("" if self.device.count() > 1 else "No audio input device found")
        self.status.setAccessibleName("Recording input status")
        self.status.setWordWrap(True)
        form.addRow(self.status)
        self.timer = QTimer(page)
        self.timer.setInterval(METER_MS)
        self.timer.timeout.connect(self._meter)
        self.device.currentIndexChanged.connect(self._input_changed)
        self.channels.currentIndexChanged.connect(self._input_changed)
        dialog.finished.connect(lambda _r: self.set_monitoring(False))
        dialog.destroyed.connect(lambda *_a: self.set_monitoring(False))
        recording = getattr(window, "recording", None)
        if recording is not None and recording.active:
            self.timer.start()  # the take's level

    # -- values --------------------------------------------------------------------------------
    def load(self) -> None:
        s = self.settings
        value = s.get("record/device")
        i = self.device.findData(value)
        if i < 0 and value:
            self.device.addItem(f"{value} (not found)", value)
            i = self.device.count() - 1
        self.device.setCurrentIndex(max(0, i))
        self.channels.setCurrentIndex(max(0, self.channels.findData(s.get("record/channels"))))
        self.latency.setValue(s.get("record/latency_ms"))

    def store(self) -> None:
        self.settings.set("record/device", self.device.currentData() or "")
        self.settings.set("record/channels", int(self.channels.currentData()))
        self.settings.set("record/latency_ms", self.latency.value())

    # -- meter ---------------------------------------------------------------------------------
    def _input_changed(self, _i: int) -> None:
        if self.monitor is not None:
            self.set_monitoring(False)
            self.set_monitoring(True)

    def set_monitoring(self, on: bool) -> None:
        """Open (or close) the chosen input for the meter; a missing device is one line."""
        if not on:
            rec, self.monitor = self.monitor, None
            if rec is not None:
                from ..recording import close_in_background

                close_in_background(rec)
            recording = getattr(self.window, "recording", None)
            if not (recording is not None and recording.active):
                self.timer.stop()
            self.meter.reset()
            self._set_button(False)
            return
        if self.monitor is not None:
            return
        recording = getattr(self.window, "recording", None)
        if recording is not None and recording.active:  # the meter already follows the take
            self.timer.start()
            return
        rec = Recorder(self.device.currentData() or None, int(self.channels.currentData()),
                       self.window.project.sample_rate)
        try:
            rec.open()
        except RecordingError as exc:
            self.status.setText(f"Cannot open the input: {exc}")
            self._set_button(False)
            return
        self.monitor = rec
        self.status.setText(f"Monitoring (the device reports {rec.input_latency * 1000:.0f} ms input latency)")
        self._set_button(True)
        self.timer.start()

    def _set_button(self, on: bool) -> None:
        self.monitor_button.blockSignals(True)
        self.monitor_button.setChecked(on)
        self.monitor_button.setText("Stop &Monitoring" if on else "&Monitor")
        self.monitor_button.blockSignals(False)

    def _meter(self) -> None:
        if self.monitor is not None:
            peaks = self.monitor.levels()
        else:
            recording = getattr(self.window, "recording", None)
            rec = recording.recorder if recording is not None else None
            if rec is None:
                return
            peaks = rec.levels(reset=False)
        if peaks.size:
            self.meter.set_peaks(float(peaks[0]), float(peaks[-1]))
