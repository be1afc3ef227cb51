"""The face per frame: the MediaPipe Face Landmarker and its model, blendshape names (ARKit and MediaPipe
order), head pose, face geometry, smoothing, and the extraction stage of ``manage.py extract``.

The names other packages use, loaded on first use (importing the package loads no module of it).
"""
from __future__ import annotations

from pipeline.public import lazy_names

MODULES = {  # module -> the names other packages use from it
    "blendshape_names": ("ARKIT_NAMES", "HEAD_POSE_NAMES", "MEDIAPIPE_NAMES", "arkit_to_mediapipe_index"),
    "extract": ("extract_blendshapes", "track_frames"),
    "face_geometry": ("GEOMETRY_NAMES",),
    "landmarks": ("FaceLandmarkTracker", "FaceResult"),
    "model": ("DEFAULT_MODEL_PATH", "resolve_model_path", "verify_model"),
    "smoothing": ("SMOOTHERS", "SMOOTH_ALIASES", "make_smoother"),
}
PUBLIC = {name: module for module, names in MODULES.items() for name in names}
__all__ = sorted(PUBLIC)
__getattr__ = lazy_names(__name__, PUBLIC)
