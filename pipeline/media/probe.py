"""What is in a media file: streams, sizes, rates, rotation, duration.

``probe`` is the single place that turns "cannot open this" into an
:class:`InputError` with a message that names the file and the problem.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import InputError
from pipeline.media.media_open import check_readable_file, open_media as open_container  # noqa: F401 - the one door

__all__ = ["LIMITS", "MediaLimits", "VideoInfo", "check_picture", "check_readable_file", "open_container", "probe",
           "upright_turns", "video_properties"]


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


@dataclass(frozen=True)
class MediaLimits:
    """The largest recording this product processes; each refusal names the limit it broke.

    A frame is decoded into memory whole (RGB, plus the decoder's own copies), so the picture size bounds a
    worker's memory: an 8192x8192 file of 269 KB needed 4.6 GB.  The limits cover 4K UHD and DCI 4K, phone
    slow motion up to 120 fps, and four-hour recordings (the plan holds the whole audio at 16 kHz: 0.9 GB).
    """

    max_side: int = 4096
    max_pixels: int = 4096 * 2304
    max_fps: float = 120.0
    max_duration_s: float = 4 * 3600.0

    def picture_problem(self, width: int, height: int) -> str | None:
        if max(width, height) > self.max_side or width * height > self.max_pixels:
            return (f"the picture is {width}x{height}; the limit is {self.max_side} pixels a side and "
                    f"{self.max_pixels / 1e6:.1f} megapixels (4K): scale the video down first")
        return None

    def problems(self, width: int, height: int, fps: float, duration_s: float | None) -> str | None:
        """Why a video of these properties is refused, or None."""
        picture = self.picture_problem(width, height)
        if picture:
            return picture
        if fps > self.max_fps:
            return f"the frame rate is {fps:.0f} fps; the limit is {self.max_fps:.0f} fps: convert it to 30 fps first"
        if duration_s is not None and duration_s > self.max_duration_s:
            return (f"the recording lasts {duration_s / 3600:.1f} h; the limit is {self.max_duration_s / 3600:.0f} h: "
                    "cut it into parts first")
        return None


LIMITS = MediaLimits()


def check_picture(path: str | os.PathLike[str], width: int, height: int) -> None:
    """Raise InputError for a decoded frame over the size limit (a stream may change size midway)."""
    problem = LIMITS.picture_problem(width, height)
    if problem:
        raise InputError(path, problem)


def video_properties(container) -> tuple[int, int, float, float | None]:
    """Stored width, height, average frame rate and duration of the first video stream."""
    video = container.streams.video[0]
    fps = float(video.average_rate or 0.0)
    duration = None
    if video.duration is not None and video.time_base is not None:
        duration = float(video.duration * video.time_base)
    elif container.duration is not None:
        duration = container.duration / 1_000_000
    return video.codec_context.width, video.codec_context.height, fps, duration


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
        if not container.streams.video:
            kinds = ", ".join(sorted({s.type for s in container.streams})) or "nothing"
            raise InputError(p, f"no video stream (the file holds {kinds})")
        video = container.streams.video[0]
        ctx = video.codec_context
        width, height = ctx.width, ctx.height
        if not width or not height:
            raise InputError(p, "video stream has no picture size: the file is corrupt")
        _, _, fps, duration = video_properties(container)
        problem = LIMITS.problems(width, height, fps, duration)
        if problem:
            raise InputError(p, problem)
        rotation = first_frame_rotation(container, video)
        if upright_turns(rotation) % 2:
            width, height = height, width
        fps = fps or float(video.guessed_rate or 0.0)
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
