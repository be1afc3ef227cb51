"""Head rotation from MediaPipe's facial transformation matrix."""
from __future__ import annotations

import math

import numpy as np


def yaw_pitch_roll(matrix: np.ndarray) -> tuple[float, float, float]:
    """Euler angles in degrees for R = Ry(yaw) @ Rx(pitch) @ Rz(roll).

    ``matrix`` is the 4x4 (or 3x3) transform from MediaPipe's canonical face
    to camera space; any uniform scale is divided out first.  Yaw turns the
    head left/right about the vertical axis, pitch nods about the horizontal
    axis, roll tilts about the viewing axis.
    """
    r = np.asarray(matrix, dtype=np.float64)[:3, :3]
    scale = np.cbrt(abs(np.linalg.det(r))) or 1.0
    r = r / scale
    pitch = math.asin(max(-1.0, min(1.0, -r[1, 2])))
    yaw = math.atan2(r[0, 2], r[2, 2])
    roll = math.atan2(r[1, 0], r[1, 1])
    return math.degrees(yaw), math.degrees(pitch), math.degrees(roll)


def rotation_matrix(yaw_deg: float, pitch_deg: float, roll_deg: float) -> np.ndarray:
    """Inverse of :func:`yaw_pitch_roll` (used by tests and synthetic data)."""
    y, p, r = (math.radians(v) for v in (yaw_deg, pitch_deg, roll_deg))
    ry = np.array([[math.cos(y), 0, math.sin(y)], [0, 1, 0], [-math.sin(y), 0, math.cos(y)]])
    rx = np.array([[1, 0, 0], [0, math.cos(p), -math.sin(p)], [0, math.sin(p), math.cos(p)]])
    rz = np.array([[math.cos(r), -math.sin(r), 0], [math.sin(r), math.cos(r), 0], [0, 0, 1]])
    return ry @ rx @ rz
