"""Exceptions whose message a user can act on.

Every error names the file it is about, so commands and jobs can print it as
one line (``talk.mp4: no video stream``) instead of a traceback.
"""
from __future__ import annotations

import os


class PipelineError(Exception):
    """Base class: ``str(err)`` is ``"<path>: <problem>"``."""

    def __init__(self, path: str | os.PathLike[str] | None, problem: str) -> None:
        self.path = os.fspath(path) if path is not None else None
        self.problem = problem
        super().__init__(f"{self.path}: {problem}" if self.path else problem)


class InputError(PipelineError):
    """The input file is missing, unreadable or unsuitable."""


class ModelError(PipelineError):
    """The MediaPipe model file is missing, corrupt or not the expected one."""


class OutputError(PipelineError):
    """The output cannot be written where the user asked."""
