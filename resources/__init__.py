"""Icons, themes, demo audio and small model files (installed as editor.resources)."""
