"""What is in a media file: streams, sizes, rates, rotation, duration.

``probe`` is the single place that turns "cannot open this" into an
:class:`InputError` with a message that names the file and the problem.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError


@dataclass(frozen=True)
class VideoInfo:
    path: Path
    container_format: str
    video_codec: str
    width: int  # as displayed, after rotation
    height: int
    rotation: int  # display-matrix angle (counter-clockwise degrees) of the first frame
    average_fps: float
    header_frames: int  # what the container claims; never trusted for counting
    duration_s: float | None
    start_time_s: float
    has_audio: bool
    audio_codec: str | None
    audio_sample_rate: int | None
    audio_channels: int | None


def check_readable_file(path: str | os.PathLike[str]) -> Path:
    """Raise InputError unless ``path`` is a non-empty regular file we may read."""
    p = Path(path)
    if not p.exists():
        raise InputError(p, "file not found")
    if p.is_dir():
        raise InputError(p, "is a directory, not a video file")
    if not os.access(p, os.R_OK):
        raise InputError(p, "permission denied: the file is not readable")
    if p.stat().st_size == 0:
        raise InputError(p, "file is empty (0 bytes)")
    return p


def open_container(path: str | os.PathLike[str]):
    """Open with PyAV, turning FFmpeg's errors into a one-line InputError."""
    import av

    p = check_readable_file(path)
    try:
        return av.open(str(p), metadata_errors="ignore")
    except av.error.FFmpegError as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise InputError(p, f"not a readable video file (FFmpeg: {reason}; the file may be truncated or not a video)") from None


IMAGE_FORMATS = {"image2", "gif", "ico", "tiff_pipe"}


def still_image_kind(container) -> str | None:
    """The image type when FFmpeg opened a picture (PNG, JPEG, GIF...) rather than a video, else None."""
    name = container.format.name.split(",")[0]
    if name.endswith("_pipe") or name in IMAGE_FORMATS:
        return name.removesuffix("_pipe").upper()
    return None


def upright_turns(rotation_ccw: float) -> int:
    """Quarter turns for ``np.rot90`` that bring a decoded picture upright.

    PyAV's ``frame.rotation`` is the display matrix angle, counter-clockwise
    (``av_display_rotation_get``): a phone portrait clip reports -90 and must
    be turned 90 degrees clockwise, which is ``np.rot90(k=-1)``.
    """
    return int(round(rotation_ccw / 90.0)) % 4


def first_frame_rotation(container, stream) -> int:
    """Rotation of the first decodable frame; 0 when nothing decodes."""
    import av

    try:
        for frame in container.decode(stream):
            return int(round(float(frame.rotation or 0) / 90.0)) * 90
    except av.error.FFmpegError:
        return 0
    return 0


def probe(path: str | os.PathLike[str]) -> VideoInfo:
    """Describe the first video stream (and first audio stream) of ``path``."""
    container = open_container(path)
    p = Path(path)
    try:
        image = still_image_kind(container)
        if image:
            raise InputError(p, f"a still image ({image}), not a video")
        if not container.streams.video:
            kinds = ", ".join(sorted({s.type for s in container.streams})) or "nothing"
            raise InputError(p, f"no video stream (the file holds {kinds})")
        video = container.streams.video[0]
        ctx = video.codec_context
        width, height = ctx.width, ctx.height
        if not width or not height:
            raise InputError(p, "video stream has no picture size: the file is corrupt")
        rotation = first_frame_rotation(container, video)
        if upright_turns(rotation) % 2:
            width, height = height, width
        fps = float(video.average_rate or video.guessed_rate or 0.0)
        duration = None
        if video.duration is not None and video.time_base is not None:
            duration = float(video.duration * video.time_base)
        elif container.duration is not None:
            duration = container.duration / 1_000_000
        start = float(video.start_time * video.time_base) if video.start_time is not None else 0.0
        audio = container.streams.audio[0] if container.streams.audio else None
        return VideoInfo(
            path=p,
            container_format=container.format.name,
            video_codec=ctx.name,
            width=width,
            height=height,
            rotation=rotation,
            average_fps=fps,
            header_frames=int(video.frames or 0),
            duration_s=duration,
            start_time_s=start,
            has_audio=audio is not None,
            audio_codec=audio.codec_context.name if audio else None,
            audio_sample_rate=audio.codec_context.sample_rate if audio else None,
            audio_channels=audio.codec_context.channels if audio else None,
        )
    finally:
        container.close()
