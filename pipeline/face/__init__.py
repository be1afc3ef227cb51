"""The face per frame: the MediaPipe Face Landmarker and its model, blendshape names (ARKit and MediaPipe
order), head pose, face geometry, smoothing, and the extraction stage of ``manage.py extract``.

The names other packages use, loaded on first use (importing the package loads no module of it).
"""
from __future__ import annotations

from pipeline.public import lazy_names

PUBLIC = {
    "ARKIT_NAMES": "blendshape_names",
    "DEFAULT_MODEL_PATH": "model",
    "FaceLandmarkTracker": "landmarks",
    "FaceResult": "landmarks",
    "GEOMETRY_NAMES": "face_geometry",
    "HEAD_POSE_NAMES": "blendshape_names",
    "MEDIAPIPE_NAMES": "blendshape_names",
    "SMOOTHERS": "smoothing",
    "SMOOTH_ALIASES": "smoothing",
    "arkit_to_mediapipe_index": "blendshape_names",
    "extract_blendshapes": "extract",
    "make_smoother": "smoothing",
    "resolve_model_path": "model",
    "track_frames": "extract",
    "verify_model": "model",
}
__all__ = sorted(PUBLIC)
__getattr__ = lazy_names(__name__, PUBLIC)
