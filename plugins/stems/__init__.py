"""Stem separation and remix (issue 6).

Importing this package is cheap (no torch): the registry loads
:class:`StemsEffect` and :class:`RemixEffect` at start-up. The Python API for
the GUI (:func:`separate`, :func:`remix`, :class:`Stems`, :class:`StemMix`, ...)
lives in :mod:`.api` and is importable from here too; see that module.
"""

from __future__ import annotations

from typing import Any

from .effects import RemixEffect, StemsEffect

_API = ("Stems", "StemMix", "separate", "remix", "remix_to_seq", "model_status", "download_model",
        "import_model_file", "cache", "model_names", "get_model", "STANDARD_STEMS")

__all__ = ["RemixEffect", "StemsEffect", *_API]


def __getattr__(name: str) -> Any:
    if name in _API:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
