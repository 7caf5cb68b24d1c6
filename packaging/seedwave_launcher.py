"""Entry script of the standalone (PyInstaller) build: the ``seedwave`` command.

Frozen apps have no writable package folders, so caches that libraries keep next
to their code (numba, used by librosa) go to the user's cache folder instead.
``seedwave --seedwave-probe-device`` prints the AI device report as JSON: the GUI
runs it as a child process (a frozen app cannot run ``python -c``).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from pathlib import Path

PROBE_FLAG = "--seedwave-probe-device"


def _frozen_environment() -> None:
    if not getattr(sys, "frozen", False):
        return
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "seedwave"
    os.environ.setdefault("NUMBA_CACHE_DIR", str(cache / "numba"))


if __name__ == "__main__":
    multiprocessing.freeze_support()
    _frozen_environment()
    if sys.argv[1:] == [PROBE_FLAG]:  # Settings' AI-device probe (editor.qt.dialogs.settings)
        import dataclasses
        import json

        from editor.effects.device import detect

        print(json.dumps(dataclasses.asdict(detect())))
        sys.exit(0)
    from editor.cli import main

    sys.exit(main())
