"""Screen-reader and keyboard support shared by the whole window.

* :func:`name_widget` / :func:`name_missing`: every interactive widget gets an
  accessible name (and a description) even where the code that made it set none:
  from its buddy label, its form-layout label, its text, placeholder or tooltip.
  An application event filter (:class:`Accessibility`) applies this to each widget
  as it is first shown, so docks, plugin panels and dialogs opened later are
  covered too. Explicit names set in code always win.
* Focused buttons, sliders and lists get the keys they use (Space presses a
  focused button instead of starting playback; arrows and Page Up/Down move a
  focused fader instead of the timeline cursor).
* :func:`announce`: a live message for screen readers (a Qt announcement event,
  plus a name change on the widget that shows it).
* :class:`JobAnnouncer`: job progress and completion, in the status bar and
  announced ("Denoise: 45 %, 12 s left", "Denoise finished").
"""

from __future__ import annotations

import re
from functools import partial
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import QEvent, QObject, QPoint, QRect, QRectF, Qt
from PySide6.QtGui import QAccessible, QAccessibleAnnouncementEvent, QAccessibleEvent, QKeyEvent, QPainter, QPen
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractScrollArea,
    QAbstractSlider,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QFormLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPlainTextEdit,
    QScrollBar,
    QTabBar,
    QTabWidget,
    QTextEdit,
    QToolButton,
    QWidget,
)

if TYPE_CHECKING:
    from ..jobs.runner import Job

INTERACTIVE = (QAbstractButton, QAbstractSlider, QAbstractSpinBox, QComboBox, QLineEdit, QAbstractItemView,
               QTabBar, QTextEdit, QPlainTextEdit)
_SHORTCUT_IN_TIP = re.compile(r"\s*\([^()]*\)\s*$")


def is_interactive(w: QWidget) -> bool:
    """A widget a user operates: a control, or any custom widget that takes keyboard focus."""
    if isinstance(w, INTERACTIVE):
        return True
    if isinstance(w, QLabel):
        return False
    return w.focusPolicy() != Qt.FocusPolicy.NoFocus and not w.isWindow()


def accessible_name(w: QObject) -> str:
    """The name a screen reader speaks for ``w`` (Qt's own rules: explicit name, text, buddy label)."""
    iface = QAccessible.queryAccessibleInterface(w)
    return iface.text(QAccessible.Text.Name).strip() if iface is not None and iface.isValid() else ""


def _form_label(w: QWidget) -> str:
    p = w.parentWidget()
    while p is not None:
        lay = p.layout()
        if isinstance(lay, QFormLayout):
            lab = lay.labelForField(w)
            if isinstance(lab, QLabel) and lab.text().strip():
                return lab.text()
        if p.isWindow():
            break
        p = p.parentWidget()
    return ""


def _clean(text: str) -> str:
    text = re.sub(r"<[^>]+>", "", text)  # rich-text tooltips
    text = text.replace("&&", "\0").replace("&", "").replace("\0", "&")
    text = _SHORTCUT_IN_TIP.sub("", text.strip()).rstrip(":").strip()
    return text.splitlines()[0].strip() if text else ""


def derived_name(w: QWidget) -> str:
    """A name for ``w`` from what a sighted user sees next to it (empty: nothing to go on)."""
    candidates = [_form_label(w)]
    if isinstance(w, QLineEdit):
        candidates.append(w.placeholderText())
    if isinstance(w, QComboBox) and w.isEditable() and w.lineEdit() is not None:
        candidates.append(w.lineEdit().placeholderText())
    if isinstance(w, QAbstractButton):
        candidates.append(w.text())
        action = w.defaultAction() if isinstance(w, QToolButton) else None
        if action is not None:
            candidates += [action.text(), action.toolTip()]
    candidates += [w.toolTip(), w.statusTip(), w.whatsThis()]
    for c in candidates:
        c = _clean(c or "")
        if c:
            return c
    return ""


def _owner_name(w: QWidget) -> str:
    """The name of the nearest named widget around ``w`` (its panel, dock or window)."""
    p = w.parentWidget()
    while p is not None:
        n = p.accessibleName() or (p.windowTitle() if p.isWindow() else "")
        if n and not p.objectName().startswith("qt_"):
            return _clean(n)
        p = p.parentWidget()
    return ""


def _part_name(w: QWidget) -> str:
    """Names for the parts Qt builds inside other widgets: a combo box's pop-up list, scroll
    bars, scroll areas, a line edit's clear button, a tool bar's overflow button."""
    p = w.parentWidget()
    combo = p
    while combo is not None and not isinstance(combo, QComboBox) and not combo.isWindow():
        combo = combo.parentWidget()
    if combo is not None and combo.isWindow():  # a combo box's pop-up is a window of its own
        combo = combo.parentWidget()
    if isinstance(w, QAbstractItemView) and isinstance(combo, QComboBox):
        return f"{accessible_name(combo) or 'Choices'} choices"
    owner = _owner_name(w)
    win = w.window()
    if isinstance(win, QInputDialog) and win.labelText():
        return _clean(win.labelText())
    if isinstance(w, QTabWidget):
        return f"{owner} pages" if owner else "Pages"
    if isinstance(w, QScrollBar):
        side = "Vertical" if w.orientation() == Qt.Orientation.Vertical else "Horizontal"
        return f"{side} scroll bar" + (f" of {owner}" if owner else "")
    if isinstance(w, QAbstractScrollArea) and not isinstance(w, QAbstractItemView):
        return f"{owner} scroll area" if owner else "Scroll area"
    if isinstance(w, QToolButton) and isinstance(p, QLineEdit):
        return f"Clear {accessible_name(p)}".strip()
    if isinstance(w, QToolButton) and w.objectName() == "qt_toolbar_ext_button":
        return f"More {owner} buttons" if owner else "More buttons"
    return _QT_PARTS.get(w.metaObject().className(), "")


#: Qt's own focusable parts that show no text (the colour dialog's pickers and wells).
_QT_PARTS = {
    "QtPrivate::QColorPicker": "Hue and saturation",
    "QtPrivate::QColorLuminancePicker": "Brightness",
    "QColorWell": "Colour swatches",
    "QtPrivate::QColorWell": "Colour swatches",
}


def name_widget(w: QWidget) -> None:
    """Give ``w`` an accessible name and description where it has none (explicit ones win)."""
    if not is_interactive(w):
        return
    if not w.accessibleName() and not accessible_name(w):
        name = derived_name(w) or _part_name(w)
        if not name and w.objectName() and not w.objectName().startswith("qt_"):
            name = re.sub(r"(?<!^)(?=[A-Z])", " ", w.objectName()).replace("_", " ").strip().capitalize()
        if name:
            w.setAccessibleName(name)
    if isinstance(w, QComboBox):  # Qt makes its pop-up list on first use: make and name it now
        view = w.view()
        for part in (view, *view.findChildren(QWidget)):
            if part is not w:
                name_widget(part)
    if not w.accessibleDescription():
        desc = _clean(w.toolTip()) or _clean(w.statusTip())
        if desc and desc != accessible_name(w):
            w.setAccessibleDescription(desc)


def name_missing(root: QWidget) -> None:
    """:func:`name_widget` for ``root`` and every widget inside it."""
    name_widget(root)
    for w in root.findChildren(QWidget):
        name_widget(w)


def announce(text: str, widget: QObject | None = None, assertive: bool = False) -> None:
    """Tell screen readers ``text`` now (a live announcement from ``widget``, else the active window)."""
    source = widget or QApplication.activeWindow() or QApplication.instance()
    if source is None or not QAccessible.isActive():
        return
    ev = QAccessibleAnnouncementEvent(source, text)
    if assertive:
        ev.setPoliteness(QAccessible.AnnouncementPoliteness.Assertive)
    QAccessible.updateAccessibility(ev)


# keys a focused widget of each kind uses itself, before any window shortcut sees them
_NAV = {Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_Home, Qt.Key.Key_End,
        Qt.Key.Key_PageUp, Qt.Key.Key_PageDown}


def widget_wants_key(w: QObject, e: QKeyEvent) -> bool:
    """True when the focused widget ``w`` should get this key instead of a window shortcut."""
    mods = e.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
    if mods not in (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.ShiftModifier):
        return False
    key = e.key()
    if isinstance(w, QAbstractButton):
        return key == Qt.Key.Key_Space and mods == Qt.KeyboardModifier.NoModifier
    if isinstance(w, QAbstractSlider):
        return key in _NAV
    if isinstance(w, QAbstractItemView | QTabBar | QComboBox):
        return key in _NAV or key == Qt.Key.Key_Space  # Enter stays free for a list's own shortcut
    return False


class Accessibility(QObject):
    """Application event filter: names widgets as they are first shown, and lets focused
    controls keep their own keys. One per application, installed by :func:`install`."""

    #: A dynamic property marking a widget already named. It lives on the Qt object, so it
    #: dies with it; a set of Python ids would not (a new widget can reuse a dead one's id,
    #: and its pop-up list would then never be named).
    NAMED = "seedwave_a11y_named"

    def eventFilter(self, obj: QObject, e: QEvent) -> bool:  # noqa: N802
        t = e.type()
        if t == QEvent.Type.Show and isinstance(obj, QWidget):
            if obj.isWindow():  # a dialog or window: all of it, hidden parts (pop-up lists, tabs) too
                name_missing(obj)
                return False
            if not obj.property(self.NAMED):
                obj.setProperty(self.NAMED, True)
                name_widget(obj)
        elif t == QEvent.Type.ShortcutOverride and isinstance(obj, QWidget) and widget_wants_key(obj, e):
            e.accept()
            return True
        return False


_filter: Accessibility | None = None
_ring: FocusRings | None = None


def install(window: QWidget) -> Accessibility:
    """Install the filter (once per application) and name what ``window`` holds already."""
    global _filter, _ring
    app = QApplication.instance()
    if _filter is None and app is not None:
        _filter = Accessibility(app)
        app.installEventFilter(_filter)
        _ring = FocusRings(app)
        app.focusChanged.connect(_ring.follow)
    name_missing(window)
    if isinstance(window, QMainWindow):
        bar = window.menuBar()
        give_mnemonics(bar, deep=False)
        for a in bar.actions():  # each menu's items get theirs when it opens (plugins add items late)
            sub = a.menu()
            if sub is not None:
                sub.aboutToShow.connect(partial(give_mnemonics, sub))
    assert _filter is not None
    return _filter


class JobAnnouncer(QObject):
    """Job progress in the status bar's jobs label, and spoken: its accessible name follows
    the running job ("Denoise: 45 %, 12 s left") and each start, tenth of progress and end
    is announced. ``label`` is the status-bar label, ``message`` shows a transient line."""

    STEP = 0.1  # announce every tenth of progress (a screen reader must not be flooded)

    def __init__(self, runner: Any, label: QLabel, message: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.label = label
        self.message = message
        self.runner = runner
        self._said: dict[int, float] = {}
        self.last = ""  # the last thing announced (tests and the status bar read it)
        runner.job_added.connect(self._added)
        runner.job_ended.connect(self._ended)

    @staticmethod
    def describe(job: Job, fraction: float) -> str:
        text = f"{job.title}: {int(round(fraction * 100))} %"
        eta = job.eta()
        if eta is not None and fraction < 1.0:
            text += f", {int(round(eta))} s left"
        return text

    def _say(self, text: str, assertive: bool = False) -> None:
        self.last = text
        self.label.setText(text)
        self.label.setAccessibleName(text)  # a NameChanged event for readers that watch the label
        announce(text, self.label, assertive)

    def _added(self, job: Job) -> None:
        self._said[id(job)] = 0.0
        job.progressed.connect(lambda f, _m, j=job: self._progress(j, f))
        self._say(f"{job.title} started")

    def _progress(self, job: Job, fraction: float) -> None:
        said = self._said.get(id(job))
        if said is None or fraction - said < self.STEP:
            self.label.setText(self.describe(job, fraction))
            return
        self._said[id(job)] = fraction
        self._say(self.describe(job, fraction))
        ev = QAccessibleEvent(self.label, QAccessible.Event.NameChanged)
        QAccessible.updateAccessibility(ev)

    def _ended(self, job: Job) -> None:
        self._said.pop(id(job), None)
        word = {"failed": "failed", "cancelled": "cancelled"}.get(job.state.value, "finished")
        text = f"{job.title} {word}" + (f": {job.error}" if word == "failed" and job.error else "")
        self._say(text, assertive=word == "failed")
        self.message(text)
        running = [j for j in self.runner.active_jobs() if j is not job]
        if not running:
            self.label.setAccessibleName("Running jobs")


def give_mnemonics(menu: Any, deep: bool = True) -> None:
    """Underline a free letter in every item of ``menu`` (a QMenu or QMenuBar) that has none,
    and in its submenus, so Alt+letter and then a letter reach any item (as KDE does).
    Letters already underlined are kept; where none is free, an item shares one."""
    acts = [a for a in menu.actions() if not a.isSeparator() and a.text()]
    used = {_mnemonic(a.text()) for a in acts} - {""}
    for a in acts:
        text = a.text()
        if not _mnemonic(text):
            pos = _free_letter(text, used)
            if pos is not None:
                used.add(text[pos].lower())
                a.setText(text[:pos] + "&" + text[pos:])
        sub = a.menu()
        if sub is not None and deep:
            give_mnemonics(sub)


def _mnemonic(text: str) -> str:
    m = re.search(r"&([^&])", text.replace("&&", ""))
    return m.group(1).lower() if m else ""


def _free_letter(text: str, used: set[str]) -> int | None:
    starts = [i for i, ch in enumerate(text) if ch.isalnum() and (i == 0 or not text[i - 1].isalnum())]
    rest = [i for i, ch in enumerate(text) if ch.isalnum() and i not in starts]
    for i in starts + rest:
        if text[i].lower() not in used:
            return i
    # A long menu runs out of letters: share one. Pressing a shared letter moves between the
    # items that have it, and Enter picks one, so each stays reachable.
    return starts[0] if starts else None


class FocusRing(QWidget):
    """A visible keyboard focus: a 2-pixel ring in the theme's focus colour
    (:func:`editor.qt.theme.focus_colour`) around whatever control has the focus,
    drawn over it without taking mouse clicks. Follows focus changes, moves and resizes."""

    WIDTH = 2

    def __init__(self) -> None:
        super().__init__(None)
        self.setObjectName("FocusRing")
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.target: QWidget | None = None
        self.hide()

    def follow(self, new: QWidget | None) -> None:
        if self.target is not None and shiboken6.isValid(self.target):
            self.target.removeEventFilter(self)
        self.target = None
        if new is None or new.isWindow() or new is self or new.window() is None:
            self.hide()
            return
        self.target = new
        new.installEventFilter(self)
        if self.parentWidget() is not new.window():
            self.setParent(new.window())  # over everything in that window, never in a layout
        self.place()

    def place(self) -> None:
        t = self.target
        if t is None or not shiboken6.isValid(t) or not t.isVisible():
            self.hide()
            return
        w = self.WIDTH
        top_left = t.mapTo(t.window(), QPoint(0, 0))
        self.setGeometry(QRect(top_left, t.size()).adjusted(-w, -w, w, w))
        self.raise_()
        self.show()
        self.update()

    def eventFilter(self, obj: QObject, e: QEvent) -> bool:  # noqa: N802
        if obj is self.target and e.type() in (QEvent.Type.Move, QEvent.Type.Resize, QEvent.Type.Show,
                                               QEvent.Type.Hide):
            self.place()
        return False

    def paintEvent(self, _e: object) -> None:  # noqa: N802
        from .theme import focus_colour

        p = QPainter(self)
        pen = QPen(focus_colour(self.palette()), self.WIDTH)
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        h = self.WIDTH / 2
        p.drawRoundedRect(QRectF(self.rect()).adjusted(h, h, -h, -h), 3, 3)


class FocusRings(QObject):
    """Keeps one :class:`FocusRing` alive (a ring dies with the window it was drawn in)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ring: FocusRing | None = None

    def follow(self, _old: QWidget | None, new: QWidget | None) -> None:
        if self.ring is None or not shiboken6.isValid(self.ring):
            self.ring = FocusRing()
        self.ring.follow(new)
