"""The Chains panel's place in the window: its dock, File > Batch…, and track inserts as chains.

``install(window)`` (called by the effect panel's install) adds the Chains dock
tabbed with Effects, Effects > Chain Panel (Ctrl+Shift+K), File > Batch…
(Ctrl+Alt+B), and Tracks > Save Inserts as Chain… / Load Chain as Inserts…,
which also appear in a track header's context menu and a mixer strip's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMenu

from ...core import insert_edits
from ...core.errors import SeedwaveError
from ...effects.chainfile import (
    ChainSpec,
    chain_for_inserts,
    list_saved_chains,
    load_chain,
    save_user_chain,
    spec_from_inserts,
)
from .chains import CHAIN_FILTER, ChainPanel

# --------------------------------------------------------------------------- track inserts


def _menu_track(window) -> str | None:  # noqa: ANN001 - MainWindow
    tids = window.state.track_ids or tuple(t.id for t in window.project.tracks[:1])
    return tids[0] if tids else None


def save_inserts_as_chain(window, track_id: str | None = None, name: str | None = None) -> Path | None:  # noqa: ANN001
    """Save a track's insert chain as a saved chain (asks for the name unless given)."""
    track_id = track_id or _menu_track(window)
    if track_id is None:
        window.show_message("There is no track whose inserts could be saved")
        return None
    track = window.project.track(track_id)
    if not track.inserts:
        window.show_message(f"Track “{track.name}” has no insert effects to save")
        return None
    if name is None:
        name, ok = QInputDialog.getText(window, "Save inserts as chain", "Name of the saved chain:",
                                        text=f"{track.name} inserts")
        if not ok or not name.strip():
            return None
    try:
        path = save_user_chain(spec_from_inserts(track.inserts, name.strip()))
    except (SeedwaveError, OSError) as exc:
        window.show_error(f"Cannot save the chain: {exc}")
        return None
    window.chain_panel.refresh_saved()
    window.show_message(f"Saved the inserts of “{track.name}” as chain “{name.strip()}”")
    return path


def load_chain_as_inserts(window, track_id: str | None = None, spec: ChainSpec | None = None) -> bool:  # noqa: ANN001
    """Replace a track's inserts with a saved chain's steps (one undo step)."""
    track_id = track_id or _menu_track(window)
    if track_id is None:
        window.show_message("Add a track first")
        return False
    if spec is None:
        spec = _pick_chain(window)
        if spec is None:
            return False
    chain, notes = chain_for_inserts(spec)
    track = window.project.track(track_id)
    window.document.apply(lambda p: insert_edits.set_chain(p, track_id, chain),
                          f"Load chain “{spec.title}” as inserts of {track.name}")
    window.show_message(f"Inserts of “{track.name}”: {len(chain)} step{'s' if len(chain) != 1 else ''} from "
                        f"“{spec.title}”" + (f" ({'; '.join(notes)})" if notes else ""))
    return True


def _pick_chain(window) -> ChainSpec | None:  # noqa: ANN001
    saved = [(p, s) for p, s in list_saved_chains() if isinstance(s, ChainSpec)]
    names = [s.name or p.stem for p, s in saved] + ["From a file…"]
    if window.chain_panel.spec.chain:
        names.insert(0, f"The chain panel's chain ({window.chain_panel.spec.title})")
    choice, ok = QInputDialog.getItem(window, "Load chain as inserts", "Chain:", names, 0, False)
    if not ok:
        return None
    if choice.startswith("The chain panel's"):
        return window.chain_panel.spec
    if choice == "From a file…":
        path, _ = QFileDialog.getOpenFileName(window, "Open chain", "", CHAIN_FILTER)
        if not path:
            return None
        try:
            return load_chain(path)
        except SeedwaveError as exc:
            window.show_error(str(exc))
            return None
    return saved[[s.name or p.stem for p, s in saved].index(choice)][1]


# --------------------------------------------------------------------------- installing


def open_batch_dialog(window, use_current: bool = False):  # noqa: ANN001, ANN201 - MainWindow -> BatchDialog
    from ..dialogs.batch import BatchDialog

    dlg = getattr(window, "batch_dialog", None)
    if dlg is None:
        dlg = BatchDialog(window)
        window.batch_dialog = dlg
    dlg.refresh_chains(select_current=use_current)
    dlg.show()
    dlg.raise_()
    dlg.activateWindow()
    return dlg


def show_chain_panel(window) -> None:  # noqa: ANN001
    window.chains_dock.show()
    window.chains_dock.raise_()
    window.chain_panel.steps.setFocus()


def install(window) -> None:  # noqa: ANN001 - MainWindow
    """Add the Chains dock (tabbed with Effects), File > Batch…, and the track-insert chain actions."""
    window.chain_panel = ChainPanel(window)
    window.chains_dock = window.add_dock("Chains", window.chain_panel, Qt.DockWidgetArea.RightDockWidgetArea)
    window.tabify(window.effects_dock, window.chains_dock)
    window.host.ui.register_panel("chains", window.chain_panel, window.chains_dock)
    # "Add to Chain" keeps the effect panel in front, so that several effects can be added in a row.
    window.effect_panel.add_to_chain.connect(lambda eid, values: window.chain_panel.add_step(eid, values))
    window.batch_dialog = None

    # Shows and focuses the panel (even when it is a tab behind Effects); View > Panels toggles it.
    act_panel = window.action("&Chain Panel", lambda: show_chain_panel(window), "Ctrl+Shift+K",
                              "Build, save and apply effect chains")
    window.act_chain_panel = act_panel
    window.menus["Effects"].addAction(act_panel)
    window.effects_menu_actions.append(act_panel)

    window.act_batch = window.action("&Batch…", lambda: open_batch_dialog(window), "Ctrl+Alt+B",
                                     "Run an effect or a chain over many files")
    window.menu_file.insertAction(window.act_close, window.act_batch)
    window.menu_file.insertSeparator(window.act_close)

    window.act_save_inserts = QAction("Save Inserts as &Chain…", window)
    window.act_save_inserts.setStatusTip("Save the selected track's insert effects as a saved chain")
    window.act_save_inserts.triggered.connect(lambda: save_inserts_as_chain(window))
    window.act_load_inserts = QAction("&Load Chain as Inserts…", window)
    window.act_load_inserts.setStatusTip("Replace the selected track's insert effects with a chain")
    window.act_load_inserts.triggered.connect(lambda: load_chain_as_inserts(window))
    window.menu_tracks.addSeparator()
    window.menu_tracks.addAction(window.act_save_inserts)
    window.menu_tracks.addAction(window.act_load_inserts)

    def track_items(m: QMenu, info: Any) -> None:
        tid = info.track_id
        if not tid:
            return
        m.addSeparator()
        a = m.addAction("Save Inserts as &Chain…", lambda: save_inserts_as_chain(window, tid))
        try:
            a.setEnabled(bool(window.project.track(tid).inserts))
        except KeyError:
            a.setEnabled(False)
        m.addAction("&Load Chain as Inserts…", lambda: load_chain_as_inserts(window, tid))

    window.host.ui.add_context_items("track", track_items)
    mixer = getattr(window, "mixer", None)
    if mixer is not None and mixer.contextMenuPolicy() == Qt.ContextMenuPolicy.DefaultContextMenu:
        # A right-click on a strip (not on one of its controls) opens the track's context items.
        mixer.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        mixer.customContextMenuRequested.connect(lambda pos: mixer_menu(window, pos))


def mixer_menu(window, pos: QPoint) -> QMenu | None:  # noqa: ANN001 - MainWindow
    """The context menu of the mixer strip at ``pos`` (mixer coordinates): the track entries."""
    from ...host.api import ContextInfo

    mixer = window.mixer
    wdg = mixer.childAt(pos)
    while wdg is not None and wdg is not mixer and not hasattr(wdg, "track_id"):
        wdg = wdg.parentWidget()
    track_id = getattr(wdg, "track_id", "")
    if not track_id:
        return None
    menu = QMenu(mixer)
    menu.setAccessibleName("Mixer strip menu")
    window.host.ui.fill_context_menu(menu, ContextInfo("track", "", track_id))
    if menu.isEmpty():
        menu.deleteLater()
        return None
    old = getattr(window, "mixer_last_menu", None)
    if old is not None:
        old.deleteLater()
    window.mixer_last_menu = menu
    menu.popup(mixer.mapToGlobal(pos))
    return menu
