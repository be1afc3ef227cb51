"""The one door through which every recording is opened (check, plan, clip worker, thumbnails, commands).

FFmpeg left to itself picks a demuxer by file name and content, and some
demuxers open further files: an HLS or DASH playlist, a concat script, an
image sequence, the ``tee`` protocol, a QuickTime data reference.  An
uploaded "video" that begins as a playlist would then read another team's
recording.  So a file is opened here only:

* after its first bytes name one of the real containers in ``CONTAINERS``
  (sniffed by us, never by file name; playlists, text and pictures are refused);
* with that demuxer forced, through a file handle we opened ourselves, with an
  ``io_open`` that refuses every second file and only the ``file`` protocol;
* with the QuickTime demuxer's external data references off;
* with a deadline on every FFmpeg wait (``MEDIA_WAIT_S``), and with each
  demux or decode call recorded in ``in_flight`` so that a supervisor
  (jobs.stall_guard) can see a call that never returns.
"""
from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import InputError

MEDIA_WAIT_S = 30.0  # FFmpeg gives up a wait for data after this long (it then reports an error)


@dataclass(frozen=True)
class Container:
    demuxer: str  # FFmpeg's short name, forced at open
    label: str  # what we call it in messages


CONTAINERS = {
    "mov": Container("mov", "MP4/MOV"),
    "matroska": Container("matroska", "Matroska/WebM"),
    "mpegts": Container("mpegts", "MPEG-TS"),
    "avi": Container("avi", "AVI"),
    "flv": Container("flv", "FLV"),
    "mpeg": Container("mpeg", "MPEG-PS"),
    "ogg": Container("ogg", "Ogg"),
    "asf": Container("asf", "ASF/WMV"),
    "wav": Container("wav", "WAV"),  # audio only: opened so the message can say "no video stream"
}
READABLE = ", ".join(c.label for c in CONTAINERS.values())

MP4_BOXES = {b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot", b"uuid", b"styp", b"pdin"}
PICTURES = [(b"\x89PNG\r\n\x1a\n", "PNG"), (b"\xff\xd8\xff", "JPEG"), (b"GIF87a", "GIF"), (b"GIF89a", "GIF"),
            (b"BM", "BMP"), (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"), (b"\x00\x00\x01\x00", "ICO")]
PLAYLISTS = [(b"#EXTM3U", "an HLS playlist"), (b"ffconcat", "an FFmpeg concat script"),
             (b"<?xml", "an XML document (a DASH manifest?)"), (b"<MPD", "a DASH manifest"), (b"[playlist]", "a playlist")]
SNIFF_BYTES = 4096


class NotAVideo(InputError):
    """The file is not one of the containers we open; ``picture`` is set for still images."""

    def __init__(self, path, problem: str, picture: str | None = None) -> None:
        super().__init__(path, problem)
        self.picture = picture


def _mpegts(head: bytes) -> bool:
    for step, first in ((188, 0), (192, 4)):  # plain TS, and M2TS with its 4-byte time code
        marks = [first + k * step for k in range(3) if first + k * step < len(head)]
        if len(marks) >= 2 and all(head[i] == 0x47 for i in marks):
            return True
    return False


def sniff(path: Path, head: bytes) -> Container:
    """The container the first bytes announce, or NotAVideo saying what the file is."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    for magic, what in PLAYLISTS:
        if text[:len(magic)].lower() == magic.lower():
            raise NotAVideo(path, f"not a readable video file ({what}, which names other files; upload the video itself)")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        raise NotAVideo(path, "a still image (WEBP), not a video", "WEBP")
    for magic, kind in PICTURES:
        if head.startswith(magic):
            raise NotAVideo(path, f"a still image ({kind}), not a video", kind)
    if len(head) >= 8 and head[4:8] in MP4_BOXES:
        return CONTAINERS["mov"]
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return CONTAINERS["matroska"]
    if head[:4] == b"RIFF" and head[8:12] in (b"AVI ", b"AVIX"):
        return CONTAINERS["avi"]
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return CONTAINERS["wav"]
    if head.startswith(b"FLV\x01"):
        return CONTAINERS["flv"]
    if head.startswith(b"\x00\x00\x01\xba"):
        return CONTAINERS["mpeg"]
    if head.startswith(b"OggS"):
        return CONTAINERS["ogg"]
    if head.startswith(b"\x30\x26\xb2\x75\x8e\x66\xcf\x11"):
        return CONTAINERS["asf"]
    if _mpegts(head):
        return CONTAINERS["mpegts"]
    raise NotAVideo(path, f"not a readable video file (not one of the containers this server opens: {READABLE})")


def check_readable_file(path: str | os.PathLike[str]) -> Path:
    """Raise InputError unless ``path`` is a non-empty regular file we may read (a FIFO or device would block)."""
    p = Path(path)
    if not p.exists():
        raise InputError(p, "file not found")
    if p.is_dir():
        raise InputError(p, "is a directory, not a video file")
    if not p.is_file():
        raise InputError(p, "not a regular file (a pipe, socket or device); save the video to a file first")
    if not os.access(p, os.R_OK):
        raise InputError(p, "permission denied: the file is not readable")
    if p.stat().st_size == 0:
        raise InputError(p, "file is empty (0 bytes)")
    return p


def _refuse_second_file(url, flags, options):
    raise PermissionError(f"refused to open {url!r}: a recording may not open other files")


class _Watched:
    """Demux/decode iterators that record when a call into FFmpeg started, for the stall guard."""

    def __init__(self, container, fh) -> None:
        self._container, self._fh = container, fh

    def __getattr__(self, name):
        return getattr(self._container, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        try:
            self._container.close()
        finally:
            self._fh.close()

    def demux(self, *args, **kwargs) -> Iterator:
        return _watch(self._container.demux(*args, **kwargs))

    def decode(self, *args, **kwargs) -> Iterator:
        return _watch(self._container.decode(*args, **kwargs))

    def seek(self, *args, **kwargs):
        with _calling():
            return self._container.seek(*args, **kwargs)


_IN_FLIGHT: dict[int, float] = {}  # thread id -> when its current FFmpeg call started
_LOCK = threading.Lock()
_STOP = threading.Event()


class WorkStopped(InputError):
    """A supervisor asked this process to stop reading (its job was cancelled); raised at the next packet."""


def request_stop() -> None:
    """Make every demux/decode in this process raise WorkStopped at its next packet (until ``clear_stop``)."""
    _STOP.set()


def clear_stop() -> None:
    _STOP.clear()


class _calling:
    def __enter__(self) -> None:
        with _LOCK:
            _IN_FLIGHT[threading.get_ident()] = time.monotonic()

    def __exit__(self, *exc) -> None:
        with _LOCK:
            _IN_FLIGHT.pop(threading.get_ident(), None)


def _watch(iterator: Iterator) -> Iterator:
    while True:
        if _STOP.is_set():
            raise WorkStopped(None, "stopped: the job was cancelled")
        with _calling():
            try:
                item = next(iterator)
            except StopIteration:
                return
        yield item


def longest_call_s() -> float:
    """How long the oldest demux/decode call now running in this process has been inside FFmpeg (0 if none)."""
    with _LOCK:
        started = min(_IN_FLIGHT.values(), default=None)
    return 0.0 if started is None else time.monotonic() - started


def open_media(path: str | os.PathLike[str]):
    """Open a recording for reading, as the module docstring says; FFmpeg's refusals become one InputError."""
    p = check_readable_file(path)
    fh = open(p, "rb")
    try:
        container = sniff(p, fh.read(SNIFF_BYTES))
        fh.seek(0)
        return open_forced(p, fh, container)
    except BaseException:
        fh.close()
        raise


def open_forced(path: Path, fh, container: Container):
    """FFmpeg over our own file handle with ``container``'s demuxer forced and no way to a second file."""
    import av

    options = {"protocol_whitelist": "file", "format_whitelist": container.demuxer}
    if container.demuxer == "mov":
        options.update(enable_drefs="0", use_absolute_path="0")
    try:
        with _calling():
            opened = av.open(fh, format=container.demuxer, container_options=options, io_open=_refuse_second_file,
                             timeout=(MEDIA_WAIT_S, MEDIA_WAIT_S), metadata_errors="ignore")
    except (av.error.FFmpegError, PermissionError, OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise InputError(path, f"not a readable video file (FFmpeg: {reason}; the file may be truncated or not a video)") from None
    return _Watched(opened, fh)
