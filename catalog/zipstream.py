"""Stream a zip while it is being built: constant memory, first bytes at once, nothing written to disk.

zipfile writes to any object with write() and tell(); without seek() it puts
sizes in data descriptors after each entry, which every unzip reads.  Entries
are stored, not deflated: video, npz and wav barely compress, and storing
keeps the download at disk speed.
"""
from __future__ import annotations

import os
import time
import zipfile
from collections import deque
from collections.abc import Iterable, Iterator
from pathlib import Path

BLOCK = 4 << 20


class _Sink:
    """The zip's output: bytes accumulate here until the generator hands them out."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.position = 0

    def write(self, data) -> int:
        self.parts.append(bytes(data))
        self.position += len(data)
        return len(data)

    def tell(self) -> int:
        return self.position

    def flush(self) -> None:
        pass

    def drain(self) -> bytes:
        data = b"".join(self.parts)
        self.parts = []
        return data


def _blocks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        while block := fh.read(BLOCK):
            yield block


def _will_need(path: Path) -> None:
    """Ask the kernel to start reading ``path`` now, in the background (no thread of ours)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_WILLNEED)
    except (OSError, AttributeError):
        pass
    finally:
        os.close(fd)


def _look_ahead(entries: Iterable[tuple[str, Path | bytes]], window: int = 8) -> Iterator[tuple[str, Path | bytes]]:
    """Pass entries through, announcing the next ``window`` files to the kernel before they are read."""
    pending: deque = deque()
    for entry in entries:
        if not isinstance(entry[1], bytes):
            _will_need(entry[1])
        pending.append(entry)
        if len(pending) > window:
            yield pending.popleft()
    yield from pending


def stream_zip(entries: Iterable[tuple[str, Path | bytes]]) -> Iterator[bytes]:
    """Yield the bytes of a zip holding ``entries`` (name, file path or content), in order.

    ``entries`` is consumed lazily in the calling thread (it may query the
    database); the next few files are announced to the kernel (fadvise
    WILLNEED) so the disk reads them while earlier ones are being sent.
    """
    sink = _Sink()
    stamp = time.localtime()[:6]
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, source in _look_ahead(entries):
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_STORED
            info.file_size = len(source) if isinstance(source, bytes) else source.stat().st_size
            with archive.open(info, "w") as out:
                if isinstance(source, bytes):
                    out.write(source)
                else:
                    for block in _blocks(source):
                        out.write(block)
                        yield sink.drain()
            yield sink.drain()
    yield sink.drain()
