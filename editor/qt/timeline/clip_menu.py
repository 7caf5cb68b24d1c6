"""The context menu of a clip: gain, fade shapes, fades off, rename, delete.

It acts on every selected clip when the clicked clip is one of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QMenu

from ...core import edits
from ...core.model import FadeShape

if TYPE_CHECKING:
    from .view import TimelineView

FADE_SHAPES = (
    ("Linear", FadeShape.LINEAR),
    ("Equal Power", FadeShape.EQUAL_POWER),
    ("Exponential", FadeShape.EXPONENTIAL),
    ("Logarithmic", FadeShape.LOGARITHMIC),
    ("S-Curve", FadeShape.S_CURVE),
)


def _shape_menu(menu: QMenu, view: TimelineView, title: str, ids: tuple[str, ...], fade_in: bool,
                current: FadeShape) -> QMenu:
    sub = menu.addMenu(title)
    group = QActionGroup(sub)
    for label, shape in FADE_SHAPES:
        a = QAction(label, sub, checkable=True)
        a.setChecked(shape == current)
        a.triggered.connect(lambda _c=False, s=shape: view.set_fade_shape(ids, fade_in, s))
        group.addAction(a)
        sub.addAction(a)
    return sub


def build_clip_menu(view: TimelineView, clip_id: str) -> QMenu:
    project = view.document.project
    clip = project.find_clip(clip_id)[1]
    ids = view.state.clip_ids if clip_id in view.state.clip_ids else (clip_id,)
    n = len(ids)
    many = "s" if n > 1 else ""
    m = QMenu(view)
    m.setAccessibleName("Clip menu")
    m.addAction(f"Clip &Gain…{'' if n == 1 else f' ({n} clips)'}", lambda: view.clip_gain_dialog(ids))
    _shape_menu(m, view, "Fade &In Shape", ids, True, clip.fade_in_shape)
    _shape_menu(m, view, "Fade &Out Shape", ids, False, clip.fade_out_shape)

    def no_fades(p):  # noqa: ANN001, ANN202
        for cid in ids:
            p = edits.set_clip(p, cid, fade_in=0, fade_out=0)
        return p

    a = m.addAction("&Remove Fades", lambda: view.apply_edit(no_fades, "Remove fades"))
    a.setEnabled(any(project.find_clip(c)[1].fade_in or project.find_clip(c)[1].fade_out for c in ids))
    m.addSeparator()
    m.addAction("Re&name Clip…", lambda: view.rename_clip(clip_id))
    m.addSeparator()
    m.addAction(f"&Delete Clip{many}", lambda: view.delete_clips(ids, ripple=False))
    m.addAction(f"Ri&pple Delete Clip{many}", lambda: view.delete_clips(ids, ripple=True))
    return m
