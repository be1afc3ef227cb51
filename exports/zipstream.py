"""Stream a zip while it is being built: constant memory, first bytes at once, nothing written to disk.

Entries are stored, not deflated (video, npz and wav barely compress; storing keeps the download at disk
speed).  Each entry is a local header, the file's bytes as read, and a data descriptor carrying the
CRC-32 computed as the blocks go out; the central directory follows the last entry (ZIP64 records where a
size, an offset or the entry count needs them).  One thread reads the files ahead (and asks the kernel to
prefetch the next ones), so the request thread only checksums blocks and hands them to the socket.
"""
from __future__ import annotations

import os
import queue
import struct
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

try:  # ISA-L's CRC-32 runs at tens of GB/s; zlib's at about 3.5 GB/s, a third of a download's CPU here
    from isal.isal_zlib import crc32
except ImportError:  # same values, only slower
    from zlib import crc32

BLOCK = 4 << 20
ZIP64_LIMIT = 0xFFFFFFFF  # sizes and offsets at or above this need ZIP64 fields (tests lower it)
_MAX16 = 0xFFFF
_FLAGS = 0x08 | 0x800  # sizes and CRC in a data descriptor; UTF-8 names


@dataclass
class _Written:
    name: bytes
    offset: int
    size: int = 0
    crc: int = 0


def _dos_stamp(moment: time.struct_time) -> tuple[int, int]:
    year = max(moment.tm_year, 1980)
    return ((moment.tm_hour << 11) | (moment.tm_min << 5) | (moment.tm_sec // 2),
            ((year - 1980) << 9) | (moment.tm_mon << 5) | moment.tm_mday)


def _local_header(name: bytes, expected_size: int, stamp: tuple[int, int]) -> tuple[bytes, bool]:
    zip64 = expected_size >= ZIP64_LIMIT
    extra = struct.pack("<HHQQ", 0x0001, 16, 0, 0) if zip64 else b""
    header = struct.pack("<IHHHHHIIIHH", 0x04034B50, 45 if zip64 else 20, _FLAGS, 0, stamp[0], stamp[1],
                         0, 0xFFFFFFFF if zip64 else 0, 0xFFFFFFFF if zip64 else 0, len(name), len(extra))
    return header + name + extra, zip64


def _descriptor(entry: _Written, zip64: bool) -> bytes:
    if zip64:
        return struct.pack("<IIQQ", 0x08074B50, entry.crc, entry.size, entry.size)
    return struct.pack("<IIII", 0x08074B50, entry.crc, entry.size, entry.size)


def _central_directory(entries: list[_Written], start: int, stamp: tuple[int, int]) -> bytes:
    parts = []
    for e in entries:
        fields, size, offset = b"", e.size, e.offset
        if e.size >= ZIP64_LIMIT:
            fields += struct.pack("<QQ", e.size, e.size)
            size = 0xFFFFFFFF
        if e.offset >= ZIP64_LIMIT:
            fields += struct.pack("<Q", e.offset)
            offset = 0xFFFFFFFF
        extra = struct.pack("<HH", 0x0001, len(fields)) + fields if fields else b""
        version = 45 if fields else 20
        parts.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, (3 << 8) | version, version, _FLAGS, 0,
                                 stamp[0], stamp[1], e.crc, size, size, len(e.name), len(extra), 0, 0, 0,
                                 0o100644 << 16, offset) + e.name + extra)
    directory = b"".join(parts)
    end = start + len(directory)
    count = len(entries)
    tail = b""
    if count >= _MAX16 or start >= ZIP64_LIMIT or len(directory) >= ZIP64_LIMIT:
        tail += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, (3 << 8) | 45, 45, 0, 0, count, count,
                            len(directory), start)
        tail += struct.pack("<IIQI", 0x07064B50, 0, end, 1)
    tail += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, min(count, _MAX16), min(count, _MAX16),
                        min(len(directory), 0xFFFFFFFF), min(start, 0xFFFFFFFF), 0)
    return directory + tail


_EOF = object()


def _prefetch(path: Path) -> None:
    """Ask the kernel to start reading the whole file into the page cache now (asynchronously), so the disk
    keeps working on the files ahead while earlier ones are read and sent."""
    if not hasattr(os, "posix_fadvise"):
        return
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return  # the reader reports it when it gets there
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_WILLNEED)
    except OSError:
        pass
    finally:
        os.close(fd)


class _ReadAhead:
    """One thread reading files, in the order they are announced, into a bounded queue of blocks, with
    each file's CRC-32 and size at its end.

    Only file reading happens in the thread; the request thread decides what to read (it may query the
    database) and announces files a few entries ahead.
    """

    def __init__(self, depth: int = 6) -> None:
        self.paths: queue.Queue = queue.Queue()
        self.blocks: queue.Queue = queue.Queue(maxsize=depth)
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="zip-read-ahead", daemon=True)
        self.thread.start()

    def announce(self, path: Path) -> None:
        _prefetch(path)
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

    def next_file(self, entry: _Written) -> Iterator[bytes]:
        """The blocks of the next announced file; its CRC and size accumulate in ``entry``."""
        while True:
            item = self.blocks.get()
            if item is _EOF:
                return
            if isinstance(item, OSError):
                raise item
            entry.crc = crc32(item, entry.crc)
            entry.size += len(item)
            yield item

    def close(self) -> None:
        self.stopped.set()
        self.paths.put(None)
        self.thread.join(timeout=5)


def stream_zip(entries: Iterable[tuple[str, Path | bytes]], window: int = 8) -> Iterator[bytes]:
    """Yield the bytes of a zip holding ``entries`` (name, file path or content), in order.

    ``entries`` is consumed lazily in the calling thread (it may query the database); the next ``window``
    files are read ahead in a thread, so the disk works while earlier blocks are being sent.

    One generator on purpose (61 lines): the local headers, data and central directory share the running
    offset and the read-ahead queue, and splitting it would pass that state between generators.
    """
    stamp = _dos_stamp(time.localtime())
    reader = _ReadAhead()
    pending: deque = deque()
    source_entries = iter(entries)
    written: list[_Written] = []
    position = 0

    def refill() -> None:
        while len(pending) < window:
            entry = next(source_entries, None)
            if entry is None:
                return
            if not isinstance(entry[1], bytes):
                reader.announce(entry[1])
            pending.append(entry)

    # Headers and descriptors are tiny: they ride with the next block (one copy of the block, about 0.1 ms)
    # rather than go out as small writes of their own, which TCP may hold back (Nagle + delayed ACK).
    small: list[bytes] = []

    def with_small(block: bytes) -> bytes:
        if not small:
            return block
        data = b"".join([*small, block])
        small.clear()
        return data

    try:
        refill()
        while pending:
            name, source = pending.popleft()
            refill()
            entry = _Written(name.encode("utf-8"), position)
            expected = len(source) if isinstance(source, bytes) else source.stat().st_size
            header, zip64 = _local_header(entry.name, expected, stamp)
            small.append(header)
            position += len(header)
            if isinstance(source, bytes):
                entry.crc, entry.size = crc32(source), len(source)
                small.append(source)
            else:
                for block in reader.next_file(entry):
                    yield with_small(block)
            position += entry.size
            if entry.size >= ZIP64_LIMIT and not zip64:
                raise OSError(f"{name} grew past 4 GiB while it was being sent")
            descriptor = _descriptor(entry, zip64)
            small.append(descriptor)
            position += len(descriptor)
            written.append(entry)
            if sum(len(part) for part in small) >= BLOCK:
                yield with_small(b"")
        yield with_small(_central_directory(written, position, stamp))
    finally:
        reader.close()
