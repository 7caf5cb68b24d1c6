"""The A/B audition buttons shared by the effect and remix panels."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QButtonGroup, QHBoxLayout, QToolButton, QWidget


def add_variant_buttons(parent: QWidget, row: QHBoxLayout, variants: tuple[tuple[str, str, str], ...],
                        choose: Callable[[str], None], toggle: Callable[[], None],
                        toggle_tip: str) -> tuple[QButtonGroup, dict[str, QToolButton], QToolButton]:
    """Exclusive buttons, one per ``(key, text, tooltip)`` variant, that call
    ``choose(key)``, then an "A/B" button that calls ``toggle``; all added to ``row``.
    Returns the group, the buttons by key and the A/B button."""
    group = QButtonGroup(parent)
    group.setExclusive(True)
    buttons: dict[str, QToolButton] = {}
    for key, text, tip in variants:
        b = QToolButton()
        b.setText(text)
        b.setCheckable(True)
        b.setToolTip(tip)
        b.setAccessibleName(text)
        b.clicked.connect(lambda _c=False, k=key: choose(k))
        group.addButton(b)
        buttons[key] = b
        row.addWidget(b)
    ab = QToolButton()
    ab.setText("A/B")
    ab.setAccessibleName("Toggle A/B")
    ab.setToolTip(toggle_tip)
    ab.clicked.connect(toggle)
    row.addWidget(ab)
    return group, buttons, ab
