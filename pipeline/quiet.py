"""Silence native libraries' start-up chatter on file descriptor 2.

MediaPipe (glog, TFLite) prints several warning lines on stderr whenever a
landmarker is created or first runs; in a command-line tool they bury the
one line a user needs.  Python-level errors are unaffected outside the block.
"""
from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def native_stderr_silenced() -> Iterator[None]:
    if os.environ.get("PIPELINE_NATIVE_LOGS"):  # opt back in when debugging MediaPipe itself
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
