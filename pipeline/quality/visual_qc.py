"""Visual QC on sampled frames of a clip: face sharpness, exposure, and a second face in the picture.

Sampled, not per frame: about one frame per ``every_s`` seconds (the first frame
included).  Sharpness is the variance of the Laplacian of the face crop (the
landmarks' bounding box) resized to 128 x 128, so it measures focus and motion
blur independently of the face's size (size has its own metric).  Brightness is
the mean luma (0-255) of the same crop.  Faces are counted with the face
detector inside the Face Landmarker bundle (BlazeFace, about 3 ms a frame), so
"more than one face" costs almost nothing next to the tracking.
"""
from __future__ import annotations

import zipfile
from dataclasses import dataclass, field

import numpy as np

from pipeline.media.decode import DecodedFrame
from pipeline.face.landmarks import FaceResult
from pipeline.face.model import verify_model
from pipeline.quiet import native_stderr_silenced

CROP_SIZE = 128


def face_crop_stats(rgb: np.ndarray, box: np.ndarray) -> tuple[float, float] | None:
    """(sharpness, brightness) of the face inside ``box`` = (x0, y0, x1, y1) pixels, or None if the box is empty."""
    import cv2

    height, width = rgb.shape[:2]
    x0, y0 = max(int(box[0]), 0), max(int(box[1]), 0)
    x1, y1 = min(int(np.ceil(box[2])), width), min(int(np.ceil(box[3])), height)
    if x1 - x0 < 8 or y1 - y0 < 8:
        return None
    gray = cv2.cvtColor(np.ascontiguousarray(rgb[y0:y1, x0:x1]), cv2.COLOR_RGB2GRAY)
    brightness = float(gray.mean())
    gray = cv2.resize(gray, (CROP_SIZE, CROP_SIZE), interpolation=cv2.INTER_AREA)
    sharpness = float(cv2.Laplacian(gray, cv2.CV_64F).var())
    return sharpness, brightness


class FaceCounter:
    """BlazeFace from the model bundle, IMAGE mode: how many faces are in a picture."""

    def __init__(self, model: str | None = None, min_confidence: float = 0.5) -> None:
        from mediapipe.tasks.python import BaseOptions, vision

        path = verify_model(model).path
        with zipfile.ZipFile(path) as bundle:
            detector = bundle.read("face_detector.tflite")
        options = vision.FaceDetectorOptions(base_options=BaseOptions(model_asset_buffer=detector),
                                             running_mode=vision.RunningMode.IMAGE,
                                             min_detection_confidence=min_confidence)
        with native_stderr_silenced():
            self._detector = vision.FaceDetector.create_from_options(options)
        self._quiet = True  # the first run on a real picture logs (tensor alignment): silenced too

    def count(self, rgb: np.ndarray) -> int:
        import mediapipe as mp

        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb))
        if self._quiet:
            self._quiet = False
            with native_stderr_silenced():
                return len(self._detector.detect(image).detections)
        return len(self._detector.detect(image).detections)

    def close(self) -> None:
        self._detector.close()


@dataclass
class VisualSamples:
    """What the sampler saw; summarised into the clip's visual metrics."""

    sharpness: list[float] = field(default_factory=list)
    brightness: list[float] = field(default_factory=list)
    faces: list[int] = field(default_factory=list)  # detections per sampled frame


class VisualSampler:
    """Feed it every frame with its tracking result (``track_frames(on_result=...)``); it samples."""

    def __init__(self, counter: FaceCounter | None, every_s: float = 1.0) -> None:
        self.counter, self.every_s = counter, every_s
        self.samples = VisualSamples()
        self._next_s: float | None = None
        self.seconds = 0.0  # time spent sampling (the visual QC's share of the tracking stage)

    def __call__(self, frame: DecodedFrame, result: FaceResult) -> None:
        if self._next_s is not None and frame.time_s < self._next_s:
            return
        import time

        started = time.perf_counter()
        try:
            self._sample(frame, result)
        finally:
            self.seconds += time.perf_counter() - started

    def _sample(self, frame: DecodedFrame, result: FaceResult) -> None:
        self._next_s = frame.time_s + self.every_s
        if self.counter is not None:
            self.samples.faces.append(self.counter.count(frame.rgb))
        if result.face and result.geometry is not None:
            stats = face_crop_stats(frame.rgb, result.geometry[2:6])
            if stats is not None:
                self.samples.sharpness.append(stats[0])
                self.samples.brightness.append(stats[1])
