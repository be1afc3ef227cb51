"""Stream a zip while it is being built: constant memory, first bytes at once, nothing written to disk.

zipfile writes to any object with write() and tell(); without seek() it puts
sizes in data descriptors after each entry, which every unzip reads.  Entries
are stored, not deflated: video, npz and wav barely compress, and storing
keeps the download at disk speed.
"""
from __future__ import annotations

import time
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

BLOCK = 1 << 20


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


def stream_zip(entries: Iterable[tuple[str, Path | bytes]]) -> Iterator[bytes]:
    """Yield the bytes of a zip holding ``entries`` (name, file path or content), in order."""
    sink = _Sink()
    stamp = time.localtime()[:6]
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, source in entries:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_STORED
            if isinstance(source, bytes):
                info.file_size = len(source)
                with archive.open(info, "w", force_zip64=False) as out:
                    out.write(source)
            else:
                info.file_size = source.stat().st_size
                with archive.open(info, "w", force_zip64=info.file_size > 0x7FFFFFFF) as out, open(source, "rb") as fh:
                    while block := fh.read(BLOCK):
                        out.write(block)
                        yield sink.drain()
            yield sink.drain()
    yield sink.drain()
