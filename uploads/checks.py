"""Is an uploaded file a video we can build a speech dataset from?  Checked by content, never by name."""
from __future__ import annotations

from pathlib import Path

from pipeline.errors import PipelineError
from pipeline.media.media_open import NotAVideo
from pipeline.media.probe import LIMITS, open_container, video_properties


def check_upload(path: Path, display_name: str) -> str | None:
    """None when the file has a decodable video stream and audio stream within the limits, else the reason."""
    import av

    try:
        container = open_container(path)
    except NotAVideo as exc:
        if exc.picture:
            return f"{display_name}: {exc.problem}; upload a video of someone talking"
        return f"{display_name}: {exc.problem}"
    except PipelineError as exc:
        return f"{display_name}: {exc.problem}"
    try:
        if not container.streams.video:
            return f"{display_name}: no video stream; upload a video of someone talking"
        if not container.streams.audio:
            return f"{display_name}: no audio track; a speech dataset needs audio"
        problem = LIMITS.problems(*video_properties(container))
        if problem:
            return f"{display_name}: {problem}"
        try:
            for kind in ("video", "audio"):  # the first frame of each must decode
                frame = next(iter(container.decode(**{kind: 0})))
                picture = LIMITS.picture_problem(frame.width, frame.height) if kind == "video" else None
                if picture:
                    return f"{display_name}: {picture}"
        except (av.error.FFmpegError, StopIteration):
            return f"{display_name}: the {kind} stream does not decode; the file is damaged or truncated"
        return None
    finally:
        container.close()
