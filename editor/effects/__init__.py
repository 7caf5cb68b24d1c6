"""The effect layer. Importing it lets the engine run insert effects live
(:mod:`editor.effects.live` installs the renderer's processor factory)."""

from .live import install as _install_live

_install_live()
