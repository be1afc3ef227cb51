"""Is an uploaded file a video we can build a speech dataset from?  Checked by content, never by name."""
from __future__ import annotations

from pathlib import Path

from pipeline.errors import PipelineError
from pipeline.probe import open_container, still_image_kind


def check_upload(path: Path, display_name: str) -> str | None:
    """None when the file has a decodable video stream and audio stream, else the reason (one line)."""
    import av

    try:
        container = open_container(path)
    except PipelineError as exc:
        return f"{display_name}: {exc.problem}"
    try:
        image = still_image_kind(container)
        if image:
            return f"{display_name}: a still image ({image}), not a video; upload a video of someone talking"
        if not container.streams.video:
            return f"{display_name}: no video stream; upload a video of someone talking"
        if not container.streams.audio:
            return f"{display_name}: no audio track; a speech dataset needs audio"
        try:
            for kind in ("video", "audio"):  # the first frame of each must decode
                next(iter(container.decode(**{kind: 0})))
        except (av.error.FFmpegError, StopIteration):
            return f"{display_name}: the {kind} stream does not decode; the file is damaged or truncated"
        return None
    finally:
        container.close()
