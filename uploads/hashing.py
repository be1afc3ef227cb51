"""The SHA-256 of an upload, computed while its chunks stream in.

hashlib's state cannot be stored between requests, so each web process keeps the running hash of the
uploads it is receiving (a browser sends every chunk over one kept-alive connection, so usually one
process sees them all).  When the chunks arrived elsewhere (another process, a restart), the hash is
computed from the file once it is complete.
"""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from pathlib import Path

from pipeline.hashing import file_sha256

KEEP = 256  # running hashes kept per process (least recently used go first)
_lock = threading.Lock()
_running: OrderedDict[str, tuple[object, int]] = OrderedDict()  # upload id -> (hasher, bytes hashed)


def add(upload_id: str, offset: int, block: bytes) -> None:
    """Feed ``block``, which starts at ``offset`` of the upload."""
    with _lock:
        hasher, done = _running.pop(upload_id, (None, 0))
        if offset == 0:
            hasher, done = hashlib.sha256(), 0
        if hasher is None or done != offset:
            return  # this process missed part of the file: the hash is computed from the file at the end
        hasher.update(block)
        _running[upload_id] = (hasher, done + len(block))
        while len(_running) > KEEP:
            _running.popitem(last=False)


def digest(upload_id: str, path: Path, length: int) -> str:
    with _lock:
        hasher, done = _running.pop(upload_id, (None, 0))
    if hasher is not None and done == length:
        return hasher.hexdigest()
    return file_sha256(path)
