"""Plugin manifests: reading, checking, discovery through entry points, and what a broken
plugin does to the app (it is listed; the app starts anyway)."""

from __future__ import annotations

import textwrap

import pytest
from PySide6.QtWidgets import QMenu

from editor.effects.plugins import ManifestError, discover, parse_manifest, read_manifest
from editor.effects.registry import Registry

GOOD = {
    "plugin": {"name": "demo", "title": "Demo", "version": "2"},
    "contributes": {
        "effects": [{"python_name": "demo_pkg.fx:Fx"}],
        "commands": [{"id": "demo.go", "title": "&Go", "python_name": "demo_pkg.ui:go", "shortcut": "Ctrl+Alt+G",
                      "enabled_when": "range"}],
        "panels": [{"id": "demo.panel", "title": "Demo", "python_name": "demo_pkg.ui:Panel", "area": "bottom"}],
        "menus": [{"menu": "Audio", "command": "demo.go"}],
        "context_menus": [{"target": "clip", "command": "demo.go"}],
        "settings": [{"id": "demo.page", "title": "Demo", "python_name": "demo_pkg.ui:Page"}],
        "cli": [{"verb": "demo", "help": "run the demo", "python_name": "demo_pkg.cli:add"}],
    },
}


def test_a_manifest_lists_its_contributions():
    m = parse_manifest(GOOD, "demo/plugin.toml")
    assert (m.name, m.title, m.version) == ("demo", "Demo", "2")
    assert m.command("demo.go").shortcut == ("Ctrl+Alt+G",) and m.command("demo.go").enabled_when == "range"
    assert m.panels[0].area == "bottom" and m.menus[0].menu == "Audio" and m.context_menus[0].target == "clip"
    assert m.effects[0].python_name == "demo_pkg.fx:Fx" and m.settings[0].id == "demo.page"
    assert m.cli[0].verb == "demo"


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d.pop("plugin"), r"no \[plugin\] table"),
    (lambda d: d["contributes"]["menus"].append({"menu": "Plugins", "command": "demo.go"}), "menu 'Plugins'"),
    (lambda d: d["contributes"]["menus"].append({"menu": "Edit", "command": "demo.nope"}), "no command with id"),
    (lambda d: d["contributes"]["effects"].append({"python_name": "no_colon"}), "package.module:attribute"),
    (lambda d: d["contributes"]["panels"][0].update(area="middle"), "area 'middle'"),
    (lambda d: d["contributes"]["commands"].append(dict(d["contributes"]["commands"][0])), "share an id"),
])
def test_a_bad_manifest_is_one_line_naming_the_file(change, message):
    import copy

    data = copy.deepcopy(GOOD)
    change(data)
    with pytest.raises(ManifestError, match=message) as err:
        parse_manifest(data, "demo/plugin.toml")
    assert str(err.value).startswith("demo/plugin.toml") and "\n" not in str(err.value)


def test_unreadable_toml_names_the_file(tmp_path):
    bad = tmp_path / "plugin.toml"
    bad.write_text("[plugin\nname = ")
    with pytest.raises(ManifestError, match="not valid TOML") as err:
        read_manifest(bad)
    assert str(bad) in str(err.value)


def _install(site, name: str, files: dict[str, str], entry: str) -> None:
    """A tiny installed distribution: a package plus a dist-info with a seedwave.manifest entry point."""
    pkg = site / name
    pkg.mkdir()
    for fname, text in files.items():
        (pkg / fname).write_text(textwrap.dedent(text))
    info = site / f"{name}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[seedwave.manifest]\n{name} = {entry}\n")


BROKEN_FX = """
    raise ImportError("needs a library that is not installed")
"""
GOOD_FX = """
    import numpy as np
    from editor.effects.base import Effect

    class Flip(Effect):
        id = "sw_test_flip"
        title = "Flip (test plugin)"

        def process(self, audio, sample_rate, params, context):
            return -audio
"""


@pytest.fixture
def site(tmp_path, monkeypatch):
    site = tmp_path / "site"
    site.mkdir()
    _install(site, "sw_test_good", {"__init__.py": "", "fx.py": GOOD_FX, "plugin.toml": """
        [plugin]
        name = "good"
        title = "Good"
        [[contributes.effects]]
        python_name = "sw_test_good.fx:Flip"
        """}, "sw_test_good:plugin.toml")
    _install(site, "sw_test_broken", {"__init__.py": "", "fx.py": BROKEN_FX, "plugin.toml": """
        [plugin]
        name = "broken"
        title = "Broken"
        [[contributes.effects]]
        python_name = "sw_test_broken.fx:Nothing"
        [[contributes.panels]]
        id = "broken.panel"
        title = "Broken"
        python_name = "sw_test_broken.fx:Panel"
        """}, "sw_test_broken:plugin.toml")
    _install(site, "sw_test_badtoml", {"__init__.py": "", "plugin.toml": "[plugin]\nname = 3\n"},
             "sw_test_badtoml:plugin.toml")
    monkeypatch.syspath_prepend(str(site))
    return site


def test_discovery_reads_manifests_without_importing_plugins_and_reports_problems(site):
    import sys

    found = discover()
    names = [m.name for m in found.manifests]
    assert "good" in names and "broken" in names and "stems" in names
    assert "sw_test_good.fx" not in sys.modules and "sw_test_broken.fx" not in sys.modules
    assert [p.plugin for p in found.problems] == ["sw_test_badtoml"]
    assert "'name' must be a non-empty string" in found.problems[0].message
    reg = Registry(found)
    assert "sw_test_flip" in reg.ids() and "denoise" in reg.ids()
    assert "needs a library that is not installed" in reg.errors["broken"]
    assert "sw_test_badtoml" in reg.errors


@pytest.mark.gui
def test_a_broken_plugin_is_listed_and_the_app_starts(site, qtbot):
    from .gui_helpers import close_window, make_window

    found = discover()
    w = make_window(qtbot, effects=Registry(found), found=found)
    try:
        assert w.host.ui.panel("broken.panel") is None  # its panel failed: no dock, no crash
        panel = w.effect_panel
        assert "broken" in panel.plugin_errors.text() and "sw_test_badtoml" in panel.plugin_errors.text()
        from editor.qt.dialogs.plugins import plugins_html

        text = plugins_html(w.host.plugins, w.registry)
        assert "broken: failed to load" in text and "not installed" in text and "Good" in text
        assert w.act_plugins in w.menus["Help"].actions()
        assert "sw_test_flip" in w.registry.ids()
    finally:
        close_window(w)


def test_effects_listed_the_first_way_count_too():
    data = {"plugin": {"name": "old", "title": "Old"},
            "effects": [{"id": "a", "entry_point": "old_pkg:A"}, {"id": "b", "entry_point": "old_pkg:B"}],
            "contributes": {"effects": [{"python_name": "old_pkg:A"}]}}
    assert [e.python_name for e in parse_manifest(data).effects] == ["old_pkg:A", "old_pkg:B"]


@pytest.mark.gui
def test_the_host_api_adds_menu_items_context_items_and_carries_a_frequency_band(qtbot, window, store):
    """What later panels build on: an action in any top-level menu with a shortcut, entries
    in the clip context menu, and a selection narrowed to a frequency band."""
    import numpy as np

    from editor.core import edits
    from editor.core.model import Clip, Project
    from editor.core.sequence import AudioSeq
    from editor.host import ContextInfo, Host

    w = window
    host: Host = w.host
    ran, seen = [], []
    a = host.ui.add_action("File", "Batch…", lambda: ran.append(1), "Ctrl+Alt+B", "Run a chain over files",
                           enabled_when="tracks")
    assert a in w.menus["File"].actions() and ("Batch…", "Ctrl+Alt+B") in w.shortcut_table()
    assert not a.isEnabled()  # no tracks yet
    x = np.zeros((1, 4800), np.float32)
    w.set_project(edits.add_track(Project(sample_rate=48000), "T",
                                  (Clip(AudioSeq.from_blocks(store.blocks_from_array(x), 1), 0),)))
    assert a.isEnabled()
    a.trigger()
    assert ran == [1]

    def provider(menu, info: ContextInfo) -> None:
        seen.append(info)
        menu.addAction("Spectral Edit…")

    host.ui.add_context_items("clip", provider)
    clip = w.project.tracks[0].clips[0]
    menu = w.timeline.extend_menu(QMenu(w), "clip", clip_id=clip.id)
    assert seen == [ContextInfo("clip", clip.id, "")] and "Spectral Edit…" in [x.text() for x in menu.actions()]
    menu.deleteLater()

    changes = []
    host.selection.changed.connect(lambda: changes.append(host.selection.current()))
    host.selection.set(100, 2000, (w.project.tracks[0].id,))
    host.selection.set_band(300.0, 3400.0)
    sel = host.selection.current()
    assert (sel.start, sel.stop, sel.low_hz, sel.high_hz) == (100, 2000, 300.0, 3400.0) and sel.has_band
    assert sel.time().length == 1900 and changes[-1] == sel
    host.selection.set_band(None, None)
    assert not host.selection.current().has_band


@pytest.mark.gui
def test_a_plugin_whose_only_fault_is_its_panel_is_listed(tmp_path, monkeypatch, qtbot):
    site = tmp_path / "site"
    site.mkdir()
    _install(site, "sw_test_badpanel", {"__init__.py": "", "ui.py": "def Panel(host):\n    raise RuntimeError('no')\n",
                                        "plugin.toml": """
        [plugin]
        name = "badpanel"
        title = "Bad panel"
        [[contributes.panels]]
        id = "badpanel.panel"
        title = "Bad"
        python_name = "sw_test_badpanel.ui:Panel"
        """}, "sw_test_badpanel:plugin.toml")
    monkeypatch.syspath_prepend(str(site))
    from .gui_helpers import close_window, make_window

    found = discover()
    w = make_window(qtbot, effects=Registry(found), found=found)
    try:
        assert w.host.ui.panel("badpanel.panel") is None
        assert "badpanel" in w.effect_panel.plugin_errors.text()
        assert "RuntimeError: no" in w.effect_panel.plugin_errors.toolTip()
        assert "failed to load" in w.statusBar().currentMessage()
    finally:
        close_window(w)


def test_model_catalogue_entries_a_plugin_contributes_are_listed_in_about(tmp_path, monkeypatch):
    from editor.effects import plugins as plugins_mod
    from editor.effects.plugins import Plugins
    from editor.qt.dialogs.about import model_rows

    pkg = tmp_path / "sw_test_models.py"
    pkg.write_text("def catalogue():\n    return [{'id': 'tiny', 'title': 'Tiny net', 'files': ['tiny.onnx'],"
                   " 'licence': 'CC0'}]\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    man = parse_manifest({"plugin": {"name": "m", "title": "Model maker"},
                          "contributes": {"models": [{"python_name": "sw_test_models:catalogue"}]}})
    monkeypatch.setattr(plugins_mod, "_plugins", Plugins([man]))
    rows = model_rows()
    assert any(r.effect == "Model maker" and r.model == "Tiny net" and r.licence == "CC0" and "tiny.onnx" in r.version
               for r in rows), rows
