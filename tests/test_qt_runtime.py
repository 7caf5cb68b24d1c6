"""The Qt binding must not corrupt Python's reference counts.

PySide6 6.12.0 on Python 3.11 lowers the reference count of None on every
void setter taking a bool, and of True on every emit of a bool signal; a long
session then aborts with "Fatal Python error: none_dealloc". pyproject.toml
excludes that version; this test catches it (or a relapse) at once.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction


class _Emitter(QObject):
    flag = Signal(bool)


def test_setters_and_bool_signals_keep_refcounts(qapp):
    action = QAction()
    before = sys.getrefcount(None)
    for _ in range(200):
        action.setEnabled(True)
        action.setCheckable(False)
    assert sys.getrefcount(None) >= before - 5
    e = _Emitter()
    got = []
    e.flag.connect(got.append)
    before = sys.getrefcount(True)
    for _ in range(200):
        e.flag.emit(True)
    got.clear()
    assert sys.getrefcount(True) >= before - 5
