"""Plugin manifests: what each plugin contributes, read without importing the plugin.

A plugin is a Python package with a ``plugin.toml`` manifest, made known to
Seedwave through one entry-point group, ``seedwave.manifest``, whose value names
the package and the manifest file (as napari's npe2 does)::

    [project.entry-points."seedwave.manifest"]
    myplugin = "my_package:plugin.toml"

The manifest is data: it lists commands (a title, a shortcut and the Python
callable they run), effects, dock panels, menu and context-menu items, settings
pages, model catalogue entries and command-line verbs. Every callable is named as
``"package.module:attribute"`` and imported on first use, so starting the app
imports no plugin code beyond what it shows (effects, panels). See docs/PLUGINS.md.

A manifest that cannot be read, and a contribution whose code fails to import,
becomes a :class:`PluginProblem`: the app lists it (effects list, Help > Plugins)
and carries on. This module has no Qt: the command line uses it too.
"""

from __future__ import annotations

import importlib
import importlib.util
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

MANIFEST_GROUP = "seedwave.manifest"
# Effect-only plugins of the first plugin API: each entry point is an Effect subclass.
LEGACY_EFFECT_GROUP = "seedwave.effects"

MENUS = ("File", "Edit", "Audio", "Effects", "View", "Tracks", "Transport", "Help")
CONTEXTS = ("timeline", "clip", "track")
AREAS = ("right", "left", "bottom")
ENABLED_WHEN = ("always", "range", "clip", "tracks", "audio")


class ManifestError(ValueError):
    """A manifest that cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class Command:
    """Something the user can run: ``python_name`` is called with the host."""

    id: str
    title: str
    python_name: str
    shortcut: tuple[str, ...] = ()
    tip: str = ""
    enabled_when: str = "always"


@dataclass(frozen=True)
class MenuItem:
    menu: str  # one of MENUS
    command: str  # a command id
    section: str = ""  # items with the same section are grouped between separators


@dataclass(frozen=True)
class ContextItem:
    target: str  # one of CONTEXTS
    command: str


@dataclass(frozen=True)
class Panel:
    """A dock panel: ``python_name`` is called with the host and returns the widget."""

    id: str
    title: str
    python_name: str
    area: str = "right"
    tab_with: str = ""  # "effects", "history" or another panel id
    show_title: str = ""  # menu text of the action that shows it (default: "<title> Panel")
    menu: str = ""  # a menu for that action ("" puts it under View > Panels only)
    shortcut: str = ""


@dataclass(frozen=True)
class EffectEntry:
    python_name: str  # an Effect subclass


@dataclass(frozen=True)
class SettingsPage:
    """A tab of the Settings dialog: ``python_name`` is called with the host and returns
    an object with ``widget``, ``load()`` and ``store() -> dict`` (see editor.host)."""

    id: str
    title: str
    python_name: str


@dataclass(frozen=True)
class ModelEntries:
    python_name: str  # callable -> iterable of dicts (id, title, licence, files, ...)


@dataclass(frozen=True)
class CliVerb:
    """``python_name`` is called with an argparse sub-parser to add its arguments and
    must set ``func`` (taking the parsed namespace, returning an exit code)."""

    verb: str
    help: str
    python_name: str


@dataclass(frozen=True)
class PluginManifest:
    name: str
    title: str
    version: str = ""
    description: str = ""
    path: str = ""  # where the manifest was read from
    data: dict[str, Any] = field(default_factory=dict, repr=False)  # the whole file (engines, models...)
    commands: tuple[Command, ...] = ()
    effects: tuple[EffectEntry, ...] = ()
    panels: tuple[Panel, ...] = ()
    menus: tuple[MenuItem, ...] = ()
    context_menus: tuple[ContextItem, ...] = ()
    settings: tuple[SettingsPage, ...] = ()
    models: tuple[ModelEntries, ...] = ()
    cli: tuple[CliVerb, ...] = ()

    def command(self, command_id: str) -> Command:
        for c in self.commands:
            if c.id == command_id:
                return c
        raise KeyError(command_id)


@dataclass(frozen=True)
class PluginProblem:
    plugin: str
    message: str


@dataclass
class Plugins:
    """Every manifest found, and what went wrong on the way."""

    manifests: list[PluginManifest] = field(default_factory=list)
    problems: list[PluginProblem] = field(default_factory=list)

    def get(self, name: str) -> PluginManifest | None:
        return next((m for m in self.manifests if m.name == name), None)

    def command(self, command_id: str) -> tuple[PluginManifest, Command]:
        for m in self.manifests:
            for c in m.commands:
                if c.id == command_id:
                    return m, c
        raise KeyError(command_id)

    def problem(self, plugin: str, message: str) -> None:
        self.problems.append(PluginProblem(plugin, message))


# ---------------------------------------------------------------------------------- reading


def _str(table: dict[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = table.get(key, default)
    if not isinstance(value, str) or (default is None and not value):
        raise ManifestError(f"{where}: '{key}' must be a non-empty string")
    return value


def _python_name(table: dict[str, Any], where: str) -> str:
    value = _str(table, "python_name", where)
    mod, sep, attr = value.partition(":")
    if not sep or not mod or not attr:
        raise ManifestError(f"{where}: python_name {value!r} must look like 'package.module:attribute'")
    return value


def _one_of(value: str, allowed: Iterable[str], what: str, where: str) -> str:
    if value not in allowed:
        raise ManifestError(f"{where}: {what} {value!r} is not one of {', '.join(allowed)}")
    return value


def _tables(contrib: dict[str, Any], key: str, where: str) -> list[dict[str, Any]]:
    items = contrib.get(key, [])
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise ManifestError(f"{where}: contributes.{key} must be a list of tables ([[contributes.{key}]])")
    return items


def parse_manifest(data: dict[str, Any], path: str = "<manifest>") -> PluginManifest:
    """Check a manifest's contributions; raise :class:`ManifestError` naming ``path``."""
    head = data.get("plugin")
    if not isinstance(head, dict):
        raise ManifestError(f"{path}: no [plugin] table with the plugin's name and title")
    name = _str(head, "name", path)
    title = _str(head, "title", path, name) or name
    contrib = data.get("contributes", {})
    if not isinstance(contrib, dict):
        raise ManifestError(f"{path}: 'contributes' must be a table")

    commands = []
    for t in _tables(contrib, "commands", path):
        w = f"{path}: command {t.get('id', '?')!r}"
        sc = t.get("shortcut", ())
        shortcuts = (sc,) if isinstance(sc, str) else tuple(sc)
        enabled = _one_of(t.get("enabled_when", "always"), ENABLED_WHEN, "enabled_when", w)
        commands.append(Command(_str(t, "id", w), _str(t, "title", w), _python_name(t, w), shortcuts,
                                t.get("tip", ""), enabled))
    ids = {c.id for c in commands}
    if len(ids) != len(commands):
        raise ManifestError(f"{path}: two commands share an id")

    def known(cmd: str, w: str) -> str:
        if cmd not in ids:
            raise ManifestError(f"{w}: no command with id {cmd!r} in this manifest")
        return cmd

    menus = []
    for t in _tables(contrib, "menus", path):
        w = f"{path}: menu item"
        menus.append(MenuItem(_one_of(_str(t, "menu", w), MENUS, "menu", w), known(_str(t, "command", w), w),
                              t.get("section", "")))
    context = []
    for t in _tables(contrib, "context_menus", path):
        w = f"{path}: context-menu item"
        context.append(ContextItem(_one_of(_str(t, "target", w), CONTEXTS, "target", w),
                                   known(_str(t, "command", w), w)))
    panels = []
    for t in _tables(contrib, "panels", path):
        w = f"{path}: panel {t.get('id', '?')!r}"
        menu = t.get("menu", "")
        if menu:
            _one_of(menu, MENUS, "menu", w)
        panels.append(Panel(_str(t, "id", w), _str(t, "title", w), _python_name(t, w),
                            _one_of(t.get("area", "right"), AREAS, "area", w), t.get("tab_with", ""),
                            t.get("show_title", ""), menu, t.get("shortcut", "")))
    effects = [EffectEntry(_python_name(t, f"{path}: effect")) for t in _tables(contrib, "effects", path)]
    # The first manifest format: [[effects]] tables naming an ``entry_point``.
    first = data.get("effects")
    if isinstance(first, list):
        known_effects = {e.python_name for e in effects}
        for t in first:
            if isinstance(t, dict) and "entry_point" in t:
                value = _python_name({"python_name": t["entry_point"]}, f"{path}: effect {t.get('id', '?')!r}")
                if value not in known_effects:
                    effects.append(EffectEntry(value))
                    known_effects.add(value)
    settings = []
    for t in _tables(contrib, "settings", path):
        w = f"{path}: settings page"
        settings.append(SettingsPage(_str(t, "id", w), _str(t, "title", w), _python_name(t, w)))
    models = [ModelEntries(_python_name(t, f"{path}: models")) for t in _tables(contrib, "models", path)]
    cli = []
    for t in _tables(contrib, "cli", path):
        w = f"{path}: command-line verb"
        cli.append(CliVerb(_str(t, "verb", w), t.get("help", ""), _python_name(t, w)))
    return PluginManifest(
        name=name, title=title, version=str(head.get("version", "")), description=head.get("description", ""),
        path=path, data=data, commands=tuple(commands), effects=tuple(effects), panels=tuple(panels),
        menus=tuple(menus), context_menus=tuple(context), settings=tuple(settings), models=tuple(models),
        cli=tuple(cli),
    )


def read_manifest(path: str | Path) -> PluginManifest:
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ManifestError(f"{p}: cannot read the manifest ({exc.strerror or exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(f"{p}: not valid TOML ({exc})") from None
    return parse_manifest(data, str(p))


def manifest_path(value: str) -> Path:
    """Where an entry point's ``"package:file.toml"`` lies, without importing the package
    itself (only its parents: ``seedwave_plugins`` for ``seedwave_plugins.stems``)."""
    module, _, filename = value.partition(":")
    spec = importlib.util.find_spec(module.strip())
    if spec is None:
        raise ManifestError(f"package {module!r} is not installed")
    if spec.submodule_search_locations:
        folder = Path(next(iter(spec.submodule_search_locations)))
    elif spec.origin:
        folder = Path(spec.origin).parent
    else:
        raise ManifestError(f"package {module!r} has no folder to hold {filename!r}")
    return folder / (filename.strip() or "plugin.toml")


def discover(group: str = MANIFEST_GROUP) -> Plugins:
    """Every plugin manifest registered under ``group``; problems are collected, never raised."""
    found = Plugins()
    seen: set[str] = set()
    for ep in sorted(entry_points(group=group), key=lambda e: e.name):
        try:
            man = read_manifest(manifest_path(ep.value))
        except Exception as exc:  # noqa: BLE001 - a broken plugin must not break the app
            found.problem(ep.name, str(exc))
            continue
        if man.name in seen:
            continue  # the same plugin installed twice (editable and wheel): first wins
        seen.add(man.name)
        found.manifests.append(man)
    return found


def import_object(python_name: str) -> Any:
    """Import ``"package.module:attribute"`` (dotted attributes allowed)."""
    module, _, attr = python_name.partition(":")
    obj: Any = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


_plugins: Plugins | None = None


def plugins() -> Plugins:
    """The process-wide list of plugins, read on first use."""
    global _plugins
    if _plugins is None:
        _plugins = discover()
    return _plugins


def set_plugins(found: Plugins | None) -> None:
    """Replace the process-wide list (tests, embedding); None reads it again on next use."""
    global _plugins
    _plugins = found
