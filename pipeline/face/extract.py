"""Video file -> one blendshape row per decoded frame.

The extraction stage: probe, decode (in a prefetch thread), track the face,
smooth, write through a streaming writer to a temporary file that is renamed
only when everything succeeded.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from pipeline.atomic import atomic_output, check_writable_target
from pipeline.media.decode import DecodedFrame, DecodeProblem, VideoFrameReader
from pipeline.media.prefetch import prefetch
from pipeline.errors import InputError
from pipeline.media.frame_writers import WRITERS, FrameRecord
from pipeline.face.landmarks import FaceLandmarkTracker, FaceResult
from pipeline.media.probe import VideoInfo, probe
from pipeline.face.smoothing import Smoother, make_smoother

ProgressCallback = Callable[[int], None]


@dataclass
class ExtractSummary:
    source: str
    output: str | None
    format: str
    smooth: str
    frames: int = 0
    face_frames: int = 0
    fresh_detections: int = 0  # faces found by the retry after tracking lost them
    first_time_s: float | None = None
    last_time_s: float | None = None
    seconds: float = 0.0
    model_load_s: float = 0.0  # part of ``seconds`` spent creating MediaPipe landmarkers
    problem: DecodeProblem | None = field(default=None)

    def as_dict(self) -> dict:
        data = asdict(self)
        data["problem"] = asdict(self.problem) if self.problem else None
        return data


class FaceTrack:
    """One face track, frame by frame: the tracker's clock starts at the first frame fed; smoothing restarts
    after every faceless frame.  ``on_result`` sees every frame with its tracking result (the visual QC
    samples frames there)."""

    def __init__(self, tracker: FaceLandmarkTracker, smoother: Smoother | None = None,
                 on_result: Callable[[DecodedFrame, FaceResult], None] | None = None) -> None:
        self.tracker, self.smoother, self.on_result = tracker, smoother or Smoother(), on_result
        self.origin: float | None = None

    def __call__(self, frame: DecodedFrame) -> FrameRecord:
        if self.origin is None:
            self.origin = frame.time_s
        result = self.tracker.detect(frame.rgb, int(round((frame.time_s - self.origin) * 1000.0)))
        if self.on_result is not None:
            self.on_result(frame, result)
        if not result.face:
            self.smoother.reset()
            return FrameRecord(frame.index, frame.time_s, False, None, None)
        values = result.blendshapes
        pose = result.head_pose
        if self.smoother.name != "none":
            joined = np.concatenate([values, pose if pose is not None else np.full(3, np.nan, np.float32)])
            joined = self.smoother(joined, frame.time_s)
            values = np.clip(joined[: values.size], 0.0, 1.0)
            pose = joined[values.size:] if pose is not None else None
        return FrameRecord(frame.index, frame.time_s, True, values, pose, result.geometry, result.landmarks, result.matrix)


def track_frames(frames: Iterable[DecodedFrame], tracker: FaceLandmarkTracker, smoother: Smoother | None = None,
                 on_result: Callable[[DecodedFrame, FaceResult], None] | None = None) -> Iterator[FrameRecord]:
    """Blendshapes for each frame, in order (one :class:`FaceTrack`)."""
    track = FaceTrack(tracker, smoother, on_result)
    for frame in frames:
        yield track(frame)


def extract_blendshapes(video: str | os.PathLike[str], output: str | os.PathLike[str], fmt: str = "csv",
                        smooth: str = "none", model: str | os.PathLike[str] | None = None,
                        progress: ProgressCallback | None = None,
                        on_probe: Callable[[VideoInfo], None] | None = None) -> ExtractSummary:
    """Write the per-frame table of ``video`` to ``output``.

    Raises :class:`InputError` / :class:`ModelError` / :class:`OutputError`
    before anything is written.  A file that stops decoding part-way still
    gets its table (every frame that decoded); ``summary.problem`` says where
    it stopped, and the caller reports it.
    """
    if fmt not in WRITERS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(WRITERS)}")
    smoother = make_smoother(smooth)
    info = probe(video)
    if on_probe:
        on_probe(info)
    check_writable_target(output)
    started = time.perf_counter()
    summary = ExtractSummary(source=str(video), output=str(output), format=fmt, smooth=smoother.name)
    reader = VideoFrameReader(video)
    meta = {
        "source": Path(video).name,
        "fps": info.average_fps,
        "width": info.width,
        "height": info.height,
        "rotation": info.rotation,
        "smoothing": smoother.name,
    }
    with FaceLandmarkTracker(model) as tracker, atomic_output(output) as handle:
        writer = WRITERS[fmt](handle, meta)
        for record in track_frames(prefetch(reader), tracker, smoother):
            writer.write(record)
            summary.frames += 1
            summary.face_frames += record.face
            if summary.first_time_s is None:
                summary.first_time_s = record.time_s
            summary.last_time_s = record.time_s
            if progress:
                progress(1)
        summary.fresh_detections = tracker.fresh_detections
        summary.model_load_s = tracker.load_seconds
        summary.problem = reader.problem
        if summary.frames == 0:
            reason = f" ({reader.problem.message})" if reader.problem else ""
            raise InputError(video, f"no video frame could be decoded{reason}; the file is corrupt")
        summary.seconds = time.perf_counter() - started
        writer.close({k: v for k, v in summary.as_dict().items() if k not in ("output", "source")})
    return summary
