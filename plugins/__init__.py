"""Seedwave's built-in effects (installed as the package ``seedwave_plugins``).

Each folder is one effect family with a ``plugin.toml`` manifest; each effect is
registered through the ``seedwave.effects`` entry-point group, like any
third-party effect.
"""
