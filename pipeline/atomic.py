"""Write-to-temporary-then-rename, so a final name always means a complete file."""
from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from pipeline.errors import OutputError


def partial_path(target: Path) -> Path:
    """The hidden temporary name for ``target``: unique per host and process, since worker machines on a
    shared folder can have the same process ids."""
    host = "".join(c for c in socket.gethostname() if c.isalnum() or c in "-_")[:40]
    return target.with_name(f".{target.name}.{host}-{os.getpid()}.partial")


def check_writable_target(path: str | os.PathLike[str]) -> Path:
    """Fail early, before hours of work, if ``path`` cannot be written."""
    target = Path(path)
    parent = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise OutputError(target, "is a directory; give a file name for the output")
    if not parent.exists():
        raise OutputError(target, f"output folder {parent} does not exist")
    if not parent.is_dir():
        raise OutputError(target, f"{parent} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(target, f"permission denied: cannot write in {parent}")
    if target.exists() and not os.access(target, os.W_OK):
        raise OutputError(target, "permission denied: the existing output file is read-only")
    return target


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike[str], mode: str = "w", newline: str | None = "") -> Iterator[IO]:
    """Yield a file opened on a hidden temporary name beside ``path``.

    On success it is flushed, fsynced and renamed over ``path``; on any
    exception it is deleted and ``path`` is left as it was.
    """
    target = check_writable_target(path)
    temp = partial_path(target)
    binary = "b" in mode
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    except OSError as exc:
        raise OutputError(target, f"cannot create a file there ({exc.strerror})") from None
    handle = os.fdopen(fd, mode) if binary else os.fdopen(fd, mode, encoding="utf-8", newline=newline)
    try:
        with handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
