"""User-facing errors.

Every error a user can cause (bad file, bad argument, missing model) is a
:class:`SeedwaveError`. Its ``str()`` is one line that names the file and the
problem, so the command line and the GUI can show it as is.
"""

from __future__ import annotations

from pathlib import Path


class SeedwaveError(Exception):
    """An error caused by input, shown to the user as one line."""

    def __init__(self, problem: str, path: str | Path | None = None) -> None:
        self.problem = problem
        self.path = str(path) if path is not None else None
        super().__init__(self.message)

    @property
    def message(self) -> str:
        if self.path:
            return f"{self.path}: {self.problem}"
        return self.problem


class AudioFileError(SeedwaveError):
    """A file could not be read or written as audio."""


class ProjectFileError(SeedwaveError):
    """A project file could not be read or written."""


class EditError(SeedwaveError):
    """An edit cannot be applied to the current project (for example, an empty selection)."""


class Cancelled(Exception):
    """Raised inside a task when the user cancels it. Never shown as an error."""
