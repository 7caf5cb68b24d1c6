"""The stems plugin's user interface: the remix panel (contributed through plugin.toml)."""
