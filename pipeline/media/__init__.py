"""Recordings in and clips out: the one door that opens a recording (media_open), probing and limits,
frame decoding by PTS, cutting and encoding clips, streaming per-frame writers.

The names other packages use, loaded on first use (importing the package loads no module of it).
"""
from __future__ import annotations

from pipeline.public import lazy_names

MODULES = {  # module -> the names other packages use from it
    "cut": ("AudioFormat", "BackgroundClipEncoder", "ClipEncoder", "EncodeSettings", "SourceAudio", "SpanFrame",
            "SpanReader"),
    "decode": ("DecodeProblem", "DecodedFrame", "VideoFrameReader"),
    "frame_writers": ("CsvFrameWriter", "FrameRecord", "WRITERS"),
    "media_open": ("NotAVideo", "WorkStopped"),
    "probe": ("LIMITS", "VideoInfo", "open_container", "video_properties"),
}
PUBLIC = {name: module for module, names in MODULES.items() for name in names}
__all__ = sorted(PUBLIC)
__getattr__ = lazy_names(__name__, PUBLIC)
