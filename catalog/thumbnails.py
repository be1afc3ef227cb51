"""One JPEG per clip (its middle frame), made on first request and cached under DATA_DIR."""
from __future__ import annotations

import os
import uuid
from pathlib import Path

from django.conf import settings

from catalog.models import Clip
from pipeline.errors import PipelineError
from pipeline.media.probe import open_container

THUMB_WIDTH = 160


def thumbnail_path(clip: Clip) -> Path:
    return Path(settings.DATA_DIR) / "thumbnails" / f"{clip.pk}.jpg"


def make_thumbnail(clip: Clip) -> Path | None:
    """Write the clip's middle frame as a small JPEG; None when the clip video cannot be read."""
    import av

    target = thumbnail_path(clip)
    if target.exists():
        return target
    video = clip.file_path("video")
    at_s = None  # the middle frame by index in the clip's own video, or by time in the recording
    if video is None or not video.exists():
        source = Path(clip.video.source_path) if clip.video.source_path else None
        if source is None or not source.is_file():  # no clip video (clip_video none) and no recording
            return None
        video, at_s = source, (clip.source_start_s + clip.source_end_s) / 2
    target.parent.mkdir(parents=True, exist_ok=True)
    middle = clip.frames // 2
    temp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.partial")  # unique per request, thread and process
    try:
        with open_container(video) as container:  # the one door (pipeline.media.media_open), even for our own files
            if at_s is not None:
                stream = container.streams.video[0]
                container.seek(int(max(at_s - 1.0, 0) / stream.time_base), stream=stream, backward=True)
            for index, frame in enumerate(container.decode(video=0)):
                if (index >= middle) if at_s is None else (frame.pts is not None and frame.time >= at_s):
                    break
        height = max(2, round(frame.height * THUMB_WIDTH / frame.width / 2) * 2)
        with av.open(str(temp), "w", format="image2") as out:
            stream = out.add_stream("mjpeg", rate=1)
            stream.width, stream.height, stream.pix_fmt = THUMB_WIDTH, height, "yuvj420p"
            small = frame.reformat(width=THUMB_WIDTH, height=height, format="yuvj420p")
            small.pts = 0
            for packet in stream.encode(small):
                out.mux(packet)
            for packet in stream.encode():
                out.mux(packet)
        os.replace(temp, target)
    except (av.error.FFmpegError, PipelineError, UnboundLocalError):
        return None
    finally:
        temp.unlink(missing_ok=True)
    return target
