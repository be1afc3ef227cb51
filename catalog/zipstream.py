"""Stream a zip while it is being built: constant memory, first bytes at once, nothing written to disk.

zipfile writes to any object with write() and tell(); without seek() it puts
sizes in data descriptors after each entry, which every unzip reads.  Entries
are stored, not deflated: video, npz and wav barely compress, and storing
keeps the download at disk speed.
"""
from __future__ import annotations

import queue
import threading
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


_EOF = object()


class _ReadAhead:
    """One thread reading files, in the order they are announced, into a bounded queue of blocks.

    Only file reading happens in the thread; the request thread decides what
    to read (it may query the database) and announces files a few entries ahead.
    """

    def __init__(self, depth: int = 6) -> None:
        self.paths: queue.Queue = queue.Queue()
        self.blocks: queue.Queue = queue.Queue(maxsize=depth)
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="zip-read-ahead", daemon=True)
        self.thread.start()

    def announce(self, path: Path) -> None:
        self.paths.put(path)

    def _put(self, item) -> bool:
        while not self.stopped.is_set():
            try:
                self.blocks.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        while not self.stopped.is_set():
            path = self.paths.get()
            if path is None:
                return
            try:
                with open(path, "rb") as fh:
                    while block := fh.read(BLOCK):
                        if not self._put(block):
                            return
            except OSError as exc:
                if not self._put(exc):
                    return
            if not self._put(_EOF):
                return

    def next_file(self) -> Iterator[bytes]:
        """The blocks of the next announced file."""
        while True:
            item = self.blocks.get()
            if item is _EOF:
                return
            if isinstance(item, OSError):
                raise item
            yield item

    def close(self) -> None:
        self.stopped.set()
        self.paths.put(None)
        self.thread.join(timeout=5)


def stream_zip(entries: Iterable[tuple[str, Path | bytes]], window: int = 8) -> Iterator[bytes]:
    """Yield the bytes of a zip holding ``entries`` (name, file path or content), in order.

    ``entries`` is consumed lazily in the calling thread (it may query the
    database); the next ``window`` files are read ahead in a thread, so the disk
    works while earlier blocks are being sent.
    """
    sink = _Sink()
    stamp = time.localtime()[:6]
    reader = _ReadAhead()
    pending: deque = deque()
    source_entries = iter(entries)

    def refill() -> None:
        while len(pending) < window:
            entry = next(source_entries, None)
            if entry is None:
                return
            if not isinstance(entry[1], bytes):
                reader.announce(entry[1])
            pending.append(entry)

    try:
        with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
            refill()
            while pending:
                name, source = pending.popleft()
                refill()
                info = zipfile.ZipInfo(name, date_time=stamp)
                info.compress_type = zipfile.ZIP_STORED
                info.file_size = len(source) if isinstance(source, bytes) else source.stat().st_size
                with archive.open(info, "w") as out:
                    if isinstance(source, bytes):
                        out.write(source)
                    else:
                        for block in reader.next_file():
                            out.write(block)
                            yield sink.drain()
                yield sink.drain()
        yield sink.drain()
    finally:
        reader.close()
