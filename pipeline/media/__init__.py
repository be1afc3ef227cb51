"""Recordings in and clips out: the one door that opens a recording (media_open), probing and limits,
frame decoding by PTS, cutting and encoding clips, streaming per-frame writers.

The names other packages use, loaded on first use (importing the package loads no module of it).
"""
from __future__ import annotations

from pipeline.public import lazy_names

PUBLIC = {
    "AudioFormat": "cut",
    "BackgroundClipEncoder": "cut",
    "ClipEncoder": "cut",
    "CsvFrameWriter": "frame_writers",
    "DecodeProblem": "decode",
    "DecodedFrame": "decode",
    "EncodeSettings": "cut",
    "FrameRecord": "frame_writers",
    "LIMITS": "probe",
    "NotAVideo": "media_open",
    "SourceAudio": "cut",
    "SpanFrame": "cut",
    "SpanReader": "cut",
    "VideoFrameReader": "decode",
    "VideoInfo": "probe",
    "WRITERS": "frame_writers",
    "WorkStopped": "media_open",
    "open_container": "probe",
    "video_properties": "probe",
}
__all__ = sorted(PUBLIC)
__getattr__ = lazy_names(__name__, PUBLIC)
