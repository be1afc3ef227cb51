"""Repair and mask of one clip's blendshapes, and the seed's three components.

Order: one-frame spikes faster than a face can move are replaced (see
replace_outliers); short no-face gaps are interpolated (cubic with 4 or more
valid frames, else linear), longer gaps stay masked; values are clipped to
[0, 1]; optional smoothing.  valid_rate, range_validity and the seed's
smoothness are measured here; the other QC metrics live in ``quality`` and the
score in ``scoring``.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from pipeline.face.blendshape_names import MEDIAPIPE_NAMES
from pipeline.runs import true_runs
from pipeline.face.smoothing import make_smoother

BLINKS = (MEDIAPIPE_NAMES.index("eyeBlinkLeft"), MEDIAPIPE_NAMES.index("eyeBlinkRight"))


@dataclass(frozen=True)
class QcParams:
    max_rate: float = 15.0  # full-scale units per second a coefficient can move; faster one-frame spikes are glitches
    max_gap_s: float = 0.25  # longest no-face gap that is interpolated
    smooth: str = "none"
    jitter_scale: float = 0.02  # mean |second difference| at which the seed's smoothness is 0.5


@dataclass
class QcResult:
    values: np.ndarray  # (frames, 52) repaired, NaN where masked
    mask: np.ndarray  # bool per frame: usable after QC
    face_frames: int
    interpolated_frames: int
    outliers_replaced: int
    long_gaps: list[dict]  # gaps left masked: {"start_frame", "frames"}
    valid_rate: float
    smoothness: float
    range_validity: float

    def report(self) -> dict:
        data = asdict(self)
        for key in ("values", "mask"):
            data.pop(key)
        return data


def replace_outliers(values: np.ndarray, valid: np.ndarray, times: np.ndarray, max_rate: float = 15.0,
                     agree: float = 0.25, exempt: tuple[int, ...] = ()) -> tuple[np.ndarray, int]:
    """Replace one-frame excursions that tracking, not the face, produced.

    A value is implausible only when both neighbours contradict it, in the same
    direction, by more than a face can move in one frame interval
    (``max_rate`` full-scale units per second times the interval: 0.6 at 25 fps,
    0.25 at 60 fps), *and* the neighbours agree with each other (they differ by
    less than ``agree`` of the excursion: the curve returns to where it was).
    Real fast movements (a pucker 0.03, 0.23, 0.64, 0.45; a jaw drop) rise or fall
    over their neighbours and are kept.  ``exempt`` coefficients (eye blinks,
    which can close and open within one frame at low frame rates) are never
    touched.  The replacement is the mean of the two neighbours.
    """
    out = values.copy()
    idx = np.flatnonzero(valid)
    if idx.size < 3:
        return out, 0
    data = values[idx]
    prev, cur, nxt = data[:-2], data[1:-1], data[2:]
    interval = np.diff(times[idx])
    step = max_rate * np.maximum(interval[:-1], interval[1:])[:, None]
    consecutive = (np.diff(idx)[:-1] == 1) & (np.diff(idx)[1:] == 1)  # neighbours are the adjacent frames
    up = np.minimum(cur - prev, cur - nxt)
    down = np.minimum(prev - cur, nxt - cur)
    excursion = np.maximum(up, down)
    spike = (excursion > step) & (np.abs(prev - nxt) < agree * excursion) & consecutive[:, None]
    if exempt:
        spike[:, list(exempt)] = False
    rows, cols = np.nonzero(spike)
    out[idx[rows + 1], cols] = 0.5 * (prev[rows, cols] + nxt[rows, cols])
    return out, int(rows.size)


def interpolate_gaps(values: np.ndarray, valid: np.ndarray, times: np.ndarray, max_gap_s: float
                     ) -> tuple[np.ndarray, np.ndarray, int, list[dict]]:
    """Fill interior no-face gaps no longer than ``max_gap_s``; return values, mask, count, long gaps."""
    out = values.copy()
    mask = valid.copy()
    filled = 0
    long_gaps: list[dict] = []
    good = np.flatnonzero(valid)
    if good.size == 0:
        return out, mask, 0, [{"start_frame": 0, "frames": int(valid.size)}]
    spline = None
    if good.size >= 4:
        from scipy.interpolate import CubicSpline

        spline = CubicSpline(times[good], values[good], axis=0)
    for a, b in true_runs(~valid):
        interior = a > 0 and b < valid.size
        span = times[b] - times[a - 1] if interior else np.inf  # time between the bracketing faces
        if not interior or span - (times[b] - times[b - 1]) > max_gap_s + 1e-9:
            long_gaps.append({"start_frame": a, "frames": b - a})
            continue
        if spline is not None:
            out[a:b] = spline(times[a:b])
        else:
            for c in range(values.shape[1]):
                out[a:b, c] = np.interp(times[a:b], times[good], values[good, c])
        mask[a:b] = True
        filled += b - a
    return out, mask, filled, long_gaps


def smoothness_score(values: np.ndarray, mask: np.ndarray, scale: float) -> float:
    """1 for still curves, 0.5 at a mean |second difference| of ``scale``, towards 0 for jitter."""
    second = []
    for a, b in true_runs(mask):
        if b - a >= 3:
            second.append(np.abs(np.diff(values[a:b], n=2, axis=0)))
    if not second:
        return 0.0
    jitter = float(np.mean(np.concatenate(second)))
    return 1.0 / (1.0 + jitter / scale)


def run_qc(raw: np.ndarray, face: np.ndarray, times: np.ndarray, params: QcParams = QcParams()) -> QcResult:
    """QC of ``raw`` (frames, 52) with NaN rows where ``face`` is False."""
    frames = raw.shape[0]
    valid = face.astype(bool) & ~np.isnan(raw).any(axis=1)
    in_range = (raw >= 0.0) & (raw <= 1.0)
    repaired, outliers = replace_outliers(raw, valid, times, params.max_rate, exempt=BLINKS)
    filled, mask, interpolated, long_gaps = interpolate_gaps(repaired, valid, times, params.max_gap_s)
    filled = np.clip(filled, 0.0, 1.0)
    if params.smooth != "none":
        smoother = make_smoother(params.smooth)
        for i in range(frames):
            if mask[i]:
                filled[i] = np.clip(smoother(filled[i], float(times[i])), 0.0, 1.0)
            else:
                smoother.reset()
    filled[~mask] = np.nan
    valid_values = int(valid.sum()) * raw.shape[1]
    range_validity = (float((in_range[valid]).sum()) - outliers) / valid_values if valid_values else 0.0
    valid_rate = float(mask.mean()) if frames else 0.0
    smooth = smoothness_score(filled, mask, params.jitter_scale)
    return QcResult(filled, mask, int(valid.sum()), interpolated, outliers, long_gaps,
                    round(valid_rate, 4), round(smooth, 4), round(max(range_validity, 0.0), 4))
