"""Seedwave's built-in plugins (installed as the package ``seedwave_plugins``).

Each folder is one plugin with a ``plugin.toml`` manifest that says what it
contributes (effects, panels, menu items, settings pages...); each manifest is
registered through the ``seedwave.manifest`` entry-point group, like any
third-party plugin (see docs/PLUGINS.md). Plugins use the host API
(``editor.host``), never ``editor.qt``.
"""
