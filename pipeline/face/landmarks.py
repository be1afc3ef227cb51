"""Per-frame blendshapes with MediaPipe Face Landmarker.

VIDEO mode tracks the face from frame to frame, but it can lose it for one
frame at a hard cut (measured: talk3.mp4 frame 184) where a fresh detection on
the same picture finds it.  So a frame that tracking reports faceless is
retried with an IMAGE-mode landmarker before it is marked ``face=0``.  On
frames with no face at all that retry costs one run of the small face
detector.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from pipeline.face.blendshape_names import MEDIAPIPE_NAMES
from pipeline.errors import ModelError
from pipeline.face.face_geometry import face_geometry
from pipeline.face.head_pose import yaw_pitch_roll
from pipeline.face.model import verify_model
from pipeline.quiet import native_stderr_silenced


@dataclass(frozen=True)
class FaceResult:
    face: bool
    blendshapes: np.ndarray | None  # (52,) float32 in MEDIAPIPE_NAMES order
    head_pose: np.ndarray | None  # (3,) yaw, pitch, roll in degrees
    fresh_detection: bool = False  # found by the IMAGE-mode retry, not by tracking
    geometry: np.ndarray | None = None  # (6,) face_geometry.GEOMETRY_NAMES: size, lip gap, box in pixels
    landmarks: np.ndarray | None = None  # (478, 3) float32: MediaPipe's normalised x, y (0-1 of the frame), z
    matrix: np.ndarray | None = None  # (4, 4) float32: MediaPipe's facial transformation matrix


NO_FACE = FaceResult(False, None, None)


def _mp_image(rgb: np.ndarray):
    import mediapipe as mp

    return mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb)


class FaceLandmarkTracker:
    """One face, VIDEO-mode tracking with a fresh-detection retry.

    Not thread-safe: use one per process (MediaPipe already uses about one core).
    Timestamps passed to :meth:`detect` must strictly increase.
    """


    def __init__(self, model: str | os.PathLike[str] | None = None, retry_fresh: bool = True,
                 min_detection_confidence: float = 0.5, min_presence_confidence: float = 0.5,
                 min_tracking_confidence: float = 0.5) -> None:
        self.model = verify_model(model)
        self.retry_fresh = retry_fresh
        self._options = dict(
            num_faces=1,
            min_face_detection_confidence=min_detection_confidence,
            min_face_presence_confidence=min_presence_confidence,
            min_tracking_confidence=min_tracking_confidence,
            output_face_blendshapes=True,
            output_facial_transformation_matrixes=True,
        )
        self.load_seconds = 0.0  # time spent creating landmarkers (start-up, not per-frame work)
        self._video = self._create("VIDEO")
        self._image = None
        self._last_ts = -1
        self._names_checked = False
        self.fresh_detections = 0

    def _create(self, mode: str):
        import time

        from mediapipe.tasks.python import BaseOptions, vision

        started = time.perf_counter()

        options = vision.FaceLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(self.model.path)),
            running_mode=getattr(vision.RunningMode, mode),
            **self._options,
        )
        try:
            with native_stderr_silenced():
                landmarker = vision.FaceLandmarker.create_from_options(options)
                # The first run logs too: do it here, silenced.  Never in VIDEO mode: a warm-up frame there
                # changes the tracking state of the frames that follow (measured: up to 0.008 on talk3), and the
                # clip's rows must equal a fresh landmarker's run from the clip's first frame.
                if mode != "VIDEO":
                    landmarker.detect(_mp_image(np.zeros((64, 64, 3), dtype=np.uint8)))
            self.load_seconds += time.perf_counter() - started
            return landmarker
        except (RuntimeError, ValueError) as exc:
            raise ModelError(self.model.path, f"MediaPipe cannot load this model: {str(exc).splitlines()[0]}") from None

    def restart(self) -> None:
        """Forget the tracked face and the clock, for a new, unrelated video (the next clip)."""
        if self._video is not None:
            self._video.close()
        self._video = self._create("VIDEO")
        self._last_ts = -1

    def detect(self, rgb: np.ndarray, timestamp_ms: int) -> FaceResult:
        """Landmarks for one upright RGB frame at ``timestamp_ms``."""
        first = self._last_ts < 0
        if timestamp_ms <= self._last_ts:
            timestamp_ms = self._last_ts + 1
        self._last_ts = timestamp_ms
        if not rgb.flags["C_CONTIGUOUS"]:
            rgb = np.ascontiguousarray(rgb)
        image = _mp_image(rgb)
        if first:  # MediaPipe logs on a landmarker's first run
            with native_stderr_silenced():
                raw = self._video.detect_for_video(image, timestamp_ms)
        else:
            raw = self._video.detect_for_video(image, timestamp_ms)
        result = self._convert(raw, fresh=False, size=(rgb.shape[1], rgb.shape[0]))
        if result.face or not self.retry_fresh:
            return result
        if self._image is None:
            self._image = self._create("IMAGE")
            with native_stderr_silenced():  # its first run on a real picture logs too
                raw = self._image.detect(image)
        else:
            raw = self._image.detect(image)
        retried = self._convert(raw, fresh=True, size=(rgb.shape[1], rgb.shape[0]))
        self.fresh_detections += retried.face
        return retried

    def _convert(self, result, fresh: bool, size: tuple[int, int]) -> FaceResult:
        if not result.face_blendshapes:
            return NO_FACE
        categories = result.face_blendshapes[0]
        if not self._names_checked:
            names = tuple(c.category_name for c in categories)
            if names != MEDIAPIPE_NAMES:
                raise ModelError(self.model.path, "the model's blendshape categories are not the 52 MediaPipe/ARKit names")
            self._names_checked = True
        scores = np.fromiter((c.score for c in categories), dtype=np.float32, count=len(categories))
        pose = matrix = None
        if result.facial_transformation_matrixes:
            matrix = np.asarray(result.facial_transformation_matrixes[0], dtype=np.float32).reshape(4, 4)
            pose = np.asarray(yaw_pitch_roll(result.facial_transformation_matrixes[0]), dtype=np.float32)
        landmarks = geometry = None
        if result.face_landmarks:
            landmarks = np.array([(p.x, p.y, p.z) for p in result.face_landmarks[0]], dtype=np.float32)
            geometry = face_geometry(landmarks, *size)
        return FaceResult(True, scores, pose, fresh, geometry, landmarks, matrix)

    def close(self) -> None:
        for landmarker in (self._video, self._image):
            if landmarker is not None:
                landmarker.close()
        self._video = self._image = None

    def __enter__(self) -> "FaceLandmarkTracker":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
