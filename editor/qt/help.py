"""Help menu: User Guide (an in-app Markdown viewer), plus the existing shortcuts and About.

The guide is docs/USER_GUIDE.md; it is installed as editor.resources/docs/USER_GUIDE.md
(resources/docs/USER_GUIDE.md links to it), so the viewer works offline, in a
wheel, in the standalone build and without a web browser.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import (
    QAction,
    QDesktopServices,
    QImage,
    QKeySequence,
    QResizeEvent,
    QShortcut,
    QTextCursor,
    QTextDocument,
)
from PySide6.QtWidgets import (
    QDialog,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from .resources import resource_path

GUIDE_NAME = "USER_GUIDE.md"


def guide_path() -> Path | None:
    """The installed user guide, or the checkout's docs/USER_GUIDE.md."""
    for p in (resource_path("docs", GUIDE_NAME), Path(__file__).resolve().parents[2] / "docs" / GUIDE_NAME):
        if p.is_file():
            return p
    return None


def slug(title: str) -> str:
    """GitHub-style anchor for a heading: "Multitrack and mixer" -> "multitrack-and-mixer"."""
    s = re.sub(r"[^\w\- ]", "", title.strip().lower())
    return s.replace(" ", "-")


class GuideViewer(QDialog):
    """The user guide with a table of contents and a find field."""

    def __init__(self, path: Path | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Seedwave User Guide")
        self.setObjectName("GuideViewer")
        self.resize(980, 720)
        lay = QVBoxLayout(self)
        self.find_field = QLineEdit()
        self.find_field.setPlaceholderText("Find in the guide (Enter: next)")
        self.find_field.setAccessibleName("Find in guide")
        self.find_field.returnPressed.connect(lambda: self.find(self.find_field.text()))
        lay.addWidget(self.find_field)
        split = QSplitter()
        self.contents = QListWidget()
        self.contents.setAccessibleName("Guide contents")
        self.contents.itemActivated.connect(self._go)
        self.contents.itemClicked.connect(self._go)
        self.browser = QTextBrowser()
        self.browser.setAccessibleName("User guide")
        self.browser.setOpenLinks(False)
        self.browser.anchorClicked.connect(self._link)
        split.addWidget(self.contents)
        split.addWidget(self.browser)
        split.setStretchFactor(1, 1)
        split.setSizes([230, 750])
        lay.addWidget(split, 1)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Find), self, self.find_field.setFocus)
        self._folder: Path | None = None
        self.load(path)

    def load(self, path: Path | None) -> None:
        if path is None:
            self.browser.setMarkdown("# User guide not found\n\nThis installation has no user guide file.")
        else:
            self.browser.setSearchPaths([str(path.parent)])  # images next to the guide
            self.browser.document().setBaseUrl(QUrl.fromLocalFile(str(path.parent) + "/"))
            self.browser.setMarkdown(path.read_text(encoding="utf-8"))
        self._folder = path.parent if path is not None else None
        self._fill_contents()
        self.fit_images()

    def fit_images(self) -> None:
        """Scale pictures down to the width of the page (never up)."""
        if self._folder is None:
            return
        doc = self.browser.document()
        room = max(200, self.browser.viewport().width() - 24)
        cursor = QTextCursor(doc)
        block = doc.begin()
        while block.isValid():
            it = block.begin()
            while not it.atEnd():
                frag = it.fragment()
                if frag.isValid() and frag.charFormat().isImageFormat():
                    fmt = frag.charFormat().toImageFormat()
                    natural = QImage(str(self._folder / fmt.name())).width()
                    if natural > 0:
                        fmt.setWidth(min(natural, room))
                        cursor.setPosition(frag.position())
                        cursor.setPosition(frag.position() + frag.length(), QTextCursor.MoveMode.KeepAnchor)
                        cursor.setCharFormat(fmt)
                it += 1
            block = block.next()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self.fit_images()

    def headings(self) -> list[tuple[int, str]]:
        """(level, text) of every heading in the document."""
        out = []
        block = self.browser.document().begin()
        while block.isValid():
            level = block.blockFormat().headingLevel()
            if level:
                out.append((level, block.text()))
            block = block.next()
        return out

    def _fill_contents(self) -> None:
        self.contents.clear()
        for level, text in self.headings():
            if level <= 3:
                item = QListWidgetItem(("    " * (level - 1)) + text)
                item.setData(Qt.ItemDataRole.UserRole, text)
                self.contents.addItem(item)

    def scroll_to_heading(self, text: str) -> bool:
        block = self.browser.document().begin()
        while block.isValid():
            if block.blockFormat().headingLevel() and (block.text() == text or slug(block.text()) == text):
                cursor = QTextCursor(block)
                self.browser.setTextCursor(cursor)
                bar = self.browser.verticalScrollBar()
                bar.setValue(bar.maximum())  # so the heading ends up at the top
                self.browser.ensureCursorVisible()
                return True
            block = block.next()
        return False

    def _go(self, item: QListWidgetItem) -> None:
        self.scroll_to_heading(item.data(Qt.ItemDataRole.UserRole))

    def _link(self, url: QUrl) -> None:
        if url.scheme() in ("http", "https", "mailto"):
            QDesktopServices.openUrl(url)
        elif url.hasFragment():
            self.scroll_to_heading(url.fragment())

    def find(self, text: str) -> bool:
        if not text:
            return False
        if self.browser.find(text):
            return True
        self.browser.moveCursor(QTextCursor.MoveOperation.Start)  # wrap around
        return self.browser.find(text, QTextDocument.FindFlag(0))


def shortcut_rows(window: Any) -> list[tuple[str, str]]:
    """(action, keys) for every action with a shortcut in the window: its own actions and
    those of panels and docks (a dock's show/hide action is not one of ``window.actions()``)."""
    rows = set()
    for a in window.findChildren(QAction):
        keys = ", ".join(s.toString(QKeySequence.SequenceFormat.NativeText) for s in a.shortcuts())
        if keys:
            rows.add((a.text().replace("&", ""), keys))
    return sorted(rows)


def show_user_guide(window: Any) -> GuideViewer:
    """Open (or raise) the guide viewer; it is not modal."""
    viewer = window.guide_viewer
    if viewer is None:
        viewer = GuideViewer(guide_path(), window)
        window.guide_viewer = viewer
    viewer.show()
    viewer.raise_()
    viewer.activateWindow()
    return viewer


def install(window: Any) -> None:
    """Help > User Guide, above the shortcut list and About."""
    window.act_user_guide = window.action("&User Guide", lambda: show_user_guide(window), "Shift+F1",
                                           "Read the user guide")
    menu = window.menu_help
    first = menu.actions()[0] if menu.actions() else None
    if first is not None:
        menu.insertAction(first, window.act_user_guide)
    else:
        menu.addAction(window.act_user_guide)
    about = window.act_about
    if about in menu.actions():
        menu.insertSeparator(about)
