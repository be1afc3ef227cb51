"""Per-frame face geometry from MediaPipe's 478 landmarks, in source pixels.

The blendshapes say how a face moves; the geometry says how large it is in the
picture (face size is what labs filter by: inter-ocular distance between the
outer eye corners), where it is (the landmarks' bounding box, for the visual
QC's face crop), and how far the inner lips are apart relative to the face's
size (a second mouth-opening signal for the lip-sync check, independent of the
blendshape model).
"""
from __future__ import annotations

import numpy as np

GEOMETRY_NAMES = ("interocular_px", "lip_gap", "face_x0", "face_y0", "face_x1", "face_y1")
RIGHT_EYE_OUTER, LEFT_EYE_OUTER = 33, 263
UPPER_LIP_INNER, LOWER_LIP_INNER = 13, 14


def face_geometry(landmarks: np.ndarray, width: int, height: int) -> np.ndarray:
    """(6,) float32 in GEOMETRY_NAMES order from one face's normalised landmarks ((478, 3): x, y, z)."""
    points = np.asarray(landmarks, dtype=np.float64)[:, :2] * (width, height)
    interocular = float(np.linalg.norm(points[RIGHT_EYE_OUTER] - points[LEFT_EYE_OUTER]))
    lip_gap = float(np.linalg.norm(points[UPPER_LIP_INNER] - points[LOWER_LIP_INNER])) / max(interocular, 1e-6)
    x0, y0 = points.min(axis=0)
    x1, y1 = points.max(axis=0)
    return np.array([interocular, lip_gap, x0, y0, x1, y1], dtype=np.float32)
