"""Streaming video decode: upright, C-contiguous RGB frames with their PTS.

One pass over the file, one frame in memory at a time (plus a small prefetch
queue).  Time comes from each frame's presentation timestamp, never from
index/fps, so variable-frame-rate phone footage gets true times.  Decode
errors (a truncated or damaged file) do not raise: the reader records where
decoding stopped and the caller decides how loudly to report it.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.media.probe import check_picture, open_container, upright_turns

@dataclass(frozen=True)
class DecodedFrame:
    index: int  # 0-based position among decoded frames
    pts: int | None
    time_s: float  # presentation time in the container's timeline
    rgb: np.ndarray  # (height, width, 3) uint8, upright, C-contiguous


@dataclass
class DecodeProblem:
    """Where decoding of a damaged file went wrong."""

    frames_before: int  # frames decoded before the first failure
    time_s: float | None  # time of the failed packet, when known
    failed_packets: int
    message: str


class VideoFrameReader:
    """Iterate the first video stream of ``path`` as :class:`DecodedFrame`.

    After iteration ``problem`` is set when some packets could not be decoded
    or demuxing stopped on an error.  ``threads`` turns on FFmpeg's own
    decoding threads; off by default because one decode thread outruns
    MediaPipe threefold and extra threads would compete for its cores.
    """

    def __init__(self, path: str | os.PathLike[str], threads: bool = False) -> None:
        self.path = Path(path)
        self.threads = threads
        self.problem: DecodeProblem | None = None
        self.frames_decoded = 0

    def _note_failure(self, time_s: float | None, reason: Exception | str) -> None:
        if self.problem is None:
            message = reason if isinstance(reason, str) else (getattr(reason, "strerror", None) or str(reason))
            self.problem = DecodeProblem(self.frames_decoded, time_s, 0, message)
        self.problem.failed_packets += 1

    def __iter__(self) -> Iterator[DecodedFrame]:
        import av

        container = open_container(self.path)
        try:
            stream = container.streams.video[0]
            if self.threads:
                stream.thread_type = "AUTO"
            time_base = stream.time_base
            fallback_step = 1.0 / float(stream.average_rate or 25)
            last_time: float | None = None
            packets_read = 0
            packets = container.demux(stream)
            while True:
                try:
                    packet = next(packets)
                except StopIteration:
                    break
                except av.error.FFmpegError as exc:  # the container itself is damaged: stop here
                    self._note_failure(last_time, exc)
                    break
                packet_time = float(packet.pts * time_base) if packet.pts is not None else last_time
                if packet.size:
                    packets_read += 1
                if packet.is_corrupt:  # a short read: the file ends inside this packet
                    self._note_failure(packet_time, "incomplete packet (the file ends or is damaged here)")
                    continue
                try:
                    frames = packet.decode()  # an empty packet at EOF flushes the decoder
                except av.error.FFmpegError as exc:
                    self._note_failure(packet_time, exc)
                    continue
                for frame in frames:
                    if frame.pts is not None:
                        time_s = float(frame.pts * time_base)
                    else:  # rare: a frame with no PTS gets the next nominal slot
                        time_s = (last_time + fallback_step) if last_time is not None else 0.0
                    last_time = time_s
                    yield DecodedFrame(self.frames_decoded, frame.pts, time_s, frame_to_rgb(frame, self.path))
                    self.frames_decoded += 1
            indexed = any(name in container.format.name for name in ("mp4", "mov"))
            if self.problem is None and indexed and stream.frames and packets_read < stream.frames:
                # MP4/MOV sample tables list every packet: fewer on disk means the file was cut short.
                self._note_failure(last_time, f"only {packets_read} of the {stream.frames} packets the index lists are in the file")
        finally:
            container.close()


def frame_to_rgb(frame, path: str | os.PathLike[str] | None = None) -> np.ndarray:
    """Upright RGB24 as a C-contiguous array.

    PyAV pads each row to a multiple of 64 bytes when width*3 is not one; the
    resulting strided view makes MediaPipe silently find no face, hence the copy.
    """
    check_picture(path, frame.width, frame.height)  # before the copy: a stream may grow mid-way
    rgb = frame.to_ndarray(format="rgb24")
    turns = upright_turns(frame.rotation or 0)
    if turns:
        rgb = np.rot90(rgb, k=turns)
    return np.ascontiguousarray(rgb)
