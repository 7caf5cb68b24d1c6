"""The fill plugin's user interface: the Fill / Extend panel (contributed through plugin.toml)."""
