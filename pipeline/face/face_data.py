"""A clip's per-frame face data, in its own file (``data/clip_XXXX_face.npz``): what crop-and-align trainers read.

Arrays, one row per frame of the clip (the same frames and order as its blendshape table):

- ``time_s`` (F,) float64: the frame's time in the clip, seconds (its PTS);
- ``face`` (F,) bool: a face was tracked on this frame;
- ``box_px`` (F, 4) float32: the face box in source pixels, x0, y0, x1, y1 (the landmarks' bounding box on the
  upright frame: x right, y down, origin at the top-left pixel corner);
- ``landmarks`` (F, 478, 3) float16: MediaPipe's 478 normalised landmarks: x and y as fractions of the frame's
  width and height (same axes as the box), z the depth on about x's scale (smaller: nearer the camera);
- ``matrix`` (F, 4, 4) float32: MediaPipe's facial transformation matrix (canonical face model to camera space,
  centimetres);
- ``lip_gap`` (F,) float32: inner-lip gap over the outer-eye-corner distance (the lip-sync check's mouth signal);
- ``interocular_px`` (F,) float32.

Frames without a face are NaN (``face`` false), never zeros.  float16 keeps landmarks to about 2.4e-4 of the frame.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from pipeline.atomic import atomic_output
from pipeline.face.face_geometry import GEOMETRY_NAMES

LANDMARKS = 478
FIELDS = ("time_s", "face", "box_px", "landmarks", "matrix", "lip_gap", "interocular_px")


def face_arrays(records, start_s: float = 0.0) -> dict[str, np.ndarray]:
    """The arrays of FIELDS from tracked FrameRecords (times made relative to ``start_s``)."""
    n = len(records)
    out = {"time_s": np.array([r.time_s - start_s for r in records], np.float64),
           "face": np.array([bool(r.face) for r in records], bool),
           "box_px": np.full((n, 4), np.nan, np.float32), "landmarks": np.full((n, LANDMARKS, 3), np.nan, np.float16),
           "matrix": np.full((n, 4, 4), np.nan, np.float32), "lip_gap": np.full(n, np.nan, np.float32),
           "interocular_px": np.full(n, np.nan, np.float32)}
    box = [GEOMETRY_NAMES.index(k) for k in ("face_x0", "face_y0", "face_x1", "face_y1")]
    for i, r in enumerate(records):
        if not r.face:
            continue
        if r.geometry is not None:
            out["box_px"][i] = r.geometry[box]
            out["lip_gap"][i] = r.geometry[GEOMETRY_NAMES.index("lip_gap")]
            out["interocular_px"][i] = r.geometry[GEOMETRY_NAMES.index("interocular_px")]
        if r.landmarks is not None:
            out["landmarks"][i] = r.landmarks
        if r.matrix is not None:
            out["matrix"][i] = r.matrix
    return out


def write_face_data(path: str | os.PathLike[str], arrays: dict[str, np.ndarray]) -> None:
    with atomic_output(Path(path), mode="wb") as fh:
        np.savez_compressed(fh, **{k: arrays[k] for k in FIELDS})


def read_face_data(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    with np.load(Path(path)) as data:
        return {k: data[k] for k in FIELDS if k in data.files}
