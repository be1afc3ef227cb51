"""One clip as the frame-indexed trainers read it: dense arrays on an even k / fps grid, ARKit order, no gaps.

Audio-to-face trainers (UniTalker, FaceFormer, EmoTalk) index frames by number and audio by ``frame / fps``, so
a clip's values are first resampled from their PTS onto that grid (pipeline.training.resample).  They also take
dense arrays: frames with no usable value (no face, a repaired glitch) are filled by linear interpolation in
time from the nearest usable frames, and ``usable`` says which frames were filled.  A clip with less than
``MIN_USABLE`` of its frames usable is left out of such an export and listed with the reason (a trainer would
learn the interpolation).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.dataset.blendshape_table import read_blendshape_table
from pipeline.face.blendshape_names import ARKIT_NAMES, MEDIAPIPE_NAMES, arkit_to_mediapipe_index
from pipeline.training.resample import Resampler

MIN_USABLE = 0.8
TRAINER_FPS = (25, 30)  # what UniTalker reads without changing it (60 it halves, others it refuses)


class LeftOut(ValueError):
    """A clip that the layout cannot hold (the reason goes into the export's ``left_out``)."""


@dataclass
class TrainerClip:
    key: str  # unique, file-name safe: <video>-<clip>
    fps: float
    times: np.ndarray  # (T,) k / fps
    arkit: np.ndarray  # (T, 52) float32 in ARKIT_NAMES order, in [0, 1], filled where not usable
    usable: np.ndarray  # (T,) bool: the value comes from usable frames (not filled)
    box_px: np.ndarray | None  # (T, 4) filled like the values, or None without face data

    @property
    def frames(self) -> int:
        return int(self.times.size)


def safe_key(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "clip"


def nearest_trainer_fps(fps: float) -> int:
    return min(TRAINER_FPS, key=lambda rate: abs(rate - fps))


def fill_gaps(values: np.ndarray, good: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Columns linearly interpolated in time over the rows that are not ``good`` (edges hold the nearest)."""
    out = np.array(values, np.float64)
    if good.all():
        return out
    for j in range(out.shape[1]):
        out[~good, j] = np.interp(times[~good], times[good], out[good, j])
    return out


def to_arkit(mediapipe_order: np.ndarray) -> np.ndarray:
    """(T, 52) MediaPipe order (with _neutral) -> (T, 52) ARKit order (TongueOut, which MediaPipe lacks, 0)."""
    out = np.zeros((mediapipe_order.shape[0], len(ARKIT_NAMES)), np.float32)
    for j, src in enumerate(arkit_to_mediapipe_index()):
        if src is not None:
            out[:, j] = mediapipe_order[:, src]
    return out


def trainer_clip(key: str, files, fps: float) -> TrainerClip:
    """The clip's QC'd blendshapes (and face box) at ``fps``, dense; raises LeftOut or OSError/ValueError."""
    table = read_blendshape_table(files.blendshapes_qc, MEDIAPIPE_NAMES)
    usable = np.load(files.quality_mask).astype(bool)
    if usable.size != table.time_s.size:
        raise ValueError(f"its mask has {usable.size} frames, its table {table.time_s.size}")
    at = Resampler.between(table.time_s, fps)
    values = at.values(table.matrix(MEDIAPIPE_NAMES))
    good = at.both(usable) & ~np.isnan(values).any(axis=1)
    share = float(good.mean()) if good.size else 0.0
    if share < MIN_USABLE:
        raise LeftOut(f"only {share:.0%} of its frames are usable (at least {MIN_USABLE:.0%} needed)")
    box = None
    if Path(files.face).is_file():
        from pipeline.face.face_data import read_face_data

        box_src = read_face_data(files.face)["box_px"]
        if box_src.shape[0] == table.time_s.size:
            box_values = at.values(box_src)
            box = fill_gaps(box_values, good & ~np.isnan(box_values).any(axis=1), at.times).astype(np.float32)
    filled = fill_gaps(values, good, at.times)
    return TrainerClip(key, float(fps), at.times, np.clip(to_arkit(filled), 0.0, 1.0), good, box)
