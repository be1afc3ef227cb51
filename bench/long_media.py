"""Build long test recordings by repeating a shared clip (packet copy, no re-encode).

Every repetition is shifted by the clip's length so timestamps keep increasing;
video and audio are shifted by the same amount, so they stay in sync.
"""
from __future__ import annotations

import math
import os
from pathlib import Path

import av

SHARED_MEDIA = next((p for p in (Path(os.environ.get("SHARED_MEDIA", "/nonexistent")),
                                  Path(__file__).resolve().parent.parent.parent / "shared" / "media",
                                  Path("/work/shared/media")) if p.is_dir()),
                    Path(__file__).resolve().parent.parent.parent / "shared" / "media")


def repeat_clip(source: Path, target: Path, minutes: float) -> Path:
    """Write ``target``: ``source`` repeated until it lasts at least ``minutes``."""
    if target.exists():
        return target
    with av.open(str(source)) as probe_container:
        # one repetition plus a margin: B-frame DTS start below zero and must stay increasing
        span = probe_container.duration / 1_000_000 + 0.2
    repeats = max(1, math.ceil(minutes * 60 / span))
    partial = target.with_suffix(".partial" + target.suffix)
    with av.open(str(partial), "w", format="mp4") as out:
        streams = {}
        for i in range(repeats):
            with av.open(str(source)) as inp:
                if not streams:
                    streams = {s.index: out.add_stream_from_template(s) for s in inp.streams if s.type in ("video", "audio")}
                for packet in inp.demux():
                    if packet.dts is None or packet.stream.index not in streams:
                        continue
                    shift = int(round(i * span / packet.time_base))
                    packet.pts += shift
                    packet.dts += shift
                    packet.stream = streams[packet.stream.index]
                    out.mux(packet)
    partial.rename(target)
    return target
