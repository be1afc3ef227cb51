"""Quality control of one clip's blendshapes: repair, mask, score, A/V sync.

Order: isolated IQR outliers are replaced by their neighbours' median; short
no-face gaps are interpolated (cubic with 4 or more valid frames, else linear),
longer gaps stay masked; values are clipped to [0, 1]; optional smoothing.
The score is 40% valid-frame rate + 40% smoothness + 20% range validity, each
component kept so a user can see why a clip scored low.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .smoothing import make_smoother


@dataclass(frozen=True)
class QcParams:
    iqr_k: float = 3.0  # fence: outside [q1 - k*IQR, q3 + k*IQR]
    min_jump: float = 0.15  # and stand out from both neighbours by this much (ignores flicker of near-constant shapes)
    outlier_window: int = 2  # neighbours each side for the replacement median
    max_gap_s: float = 0.25  # longest no-face gap that is interpolated
    smooth: str = "none"
    jitter_scale: float = 0.02  # mean |second difference| at which smoothness is 0.5
    weak_sync: float = 0.3  # correlation below which the A/V lag is not trusted
    max_lag_s: float = 0.5


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
    score: float

    def report(self) -> dict:
        data = asdict(self)
        for key in ("values", "mask"):
            data.pop(key)
        return data


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    padded = np.concatenate([[False], flags, [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


def replace_outliers(values: np.ndarray, valid: np.ndarray, k: float, window: int,
                     min_jump: float = 0.15) -> tuple[np.ndarray, int]:
    """Replace isolated spikes outside the IQR fences by the median of their valid neighbours.

    A value is an outlier when it lies outside [q1 - k*IQR, q3 + k*IQR] of its
    coefficient *and* sticks out from both adjacent valid frames, in the same
    direction, by more than max(k*IQR, min_jump).  A real blink or jaw drop
    rises over several frames and is kept; a one-frame glitch is not.
    """
    out = values.copy()
    idx = np.flatnonzero(valid)
    if idx.size < 3:
        return out, 0
    data = values[idx]
    q1, q3 = np.percentile(data, [25, 75], axis=0)
    iqr = q3 - q1
    low, high = q1 - k * iqr, q3 + k * iqr
    jump = np.maximum(k * iqr, min_jump)
    replaced = 0
    for pos in np.argwhere((data < low) | (data > high)):
        i, c = int(pos[0]), int(pos[1])
        if i == 0 or i == idx.size - 1:
            continue
        up = data[i, c] - max(data[i - 1, c], data[i + 1, c])
        down = min(data[i - 1, c], data[i + 1, c]) - data[i, c]
        if up > jump[c] or down > jump[c]:
            lo, hi = max(i - window, 0), min(i + window + 1, idx.size)
            out[idx[i], c] = float(np.median(np.delete(data[lo:hi, c], i - lo)))
            replaced += 1
    return out, replaced


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
    for a, b in _runs(~valid):
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
    for a, b in _runs(mask):
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
    repaired, outliers = replace_outliers(raw, valid, params.iqr_k, params.outlier_window, params.min_jump)
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
    score = 100.0 * (0.4 * valid_rate + 0.4 * smooth + 0.2 * range_validity)
    return QcResult(filled, mask, int(valid.sum()), interpolated, outliers, long_gaps,
                    round(valid_rate, 4), round(smooth, 4), round(max(range_validity, 0.0), 4), round(score, 2))


@dataclass(frozen=True)
class SyncEstimate:
    lag_ms: float | None  # > 0: the sound comes after the mouth movement
    correlation: float | None
    weak: bool
    method: str = "max Pearson r of jawOpen vs log RMS (40 ms) over lags within +-max_lag, 5 ms steps"


def rms_envelope(samples: np.ndarray, sample_rate: int, times_s: np.ndarray, window_s: float = 0.04) -> np.ndarray:
    """RMS of ``window_s`` around each time (seconds from samples[0]); O(1) per value via a cumulative sum."""
    power = np.concatenate([[0.0], np.cumsum(samples.astype(np.float64) ** 2)])
    half = int(round(window_s * sample_rate / 2))
    centre = np.round(times_s * sample_rate).astype(np.int64)
    lo = np.clip(centre - half, 0, samples.size)
    hi = np.clip(centre + half, 0, samples.size)
    count = np.maximum(hi - lo, 1)
    return np.sqrt((power[hi] - power[lo]) / count)


def estimate_av_lag(jaw: np.ndarray, times_s: np.ndarray, context: np.ndarray, context_start_s: float,
                    sample_rate: int, params: QcParams = QcParams(), step_s: float = 0.005) -> SyncEstimate:
    """Lag between mouth opening and the audio envelope.

    For each candidate lag L the envelope is measured at the frames' own
    times + L in ``context`` (the clip's audio plus ``max_lag`` on each side,
    ``context_start_s`` being the clip time of context[0]), so every lag is
    scored on all frames, without edge bias, at ``step_s`` resolution.
    """
    ok = ~np.isnan(jaw)
    if ok.sum() < 10:
        return SyncEstimate(None, None, True)
    jaw = jaw[ok]
    times = times_s[ok] - context_start_s
    if jaw.std() < 1e-6:
        return SyncEstimate(None, None, True)
    lags = np.arange(-params.max_lag_s, params.max_lag_s + step_s / 2, step_s)
    envelope = np.log(np.maximum(rms_envelope(context, sample_rate, (times[None, :] + lags[:, None]).ravel()), 1e-5))
    envelope = envelope.reshape(lags.size, times.size)
    env_c = envelope - envelope.mean(axis=1, keepdims=True)
    jaw_c = jaw - jaw.mean()
    denom = np.sqrt((env_c**2).sum(axis=1) * (jaw_c**2).sum())
    scores = np.where(denom > 1e-12, env_c @ jaw_c / np.maximum(denom, 1e-12), -np.inf)
    best = int(np.argmax(scores))
    if not np.isfinite(scores[best]):
        return SyncEstimate(None, None, True)
    corr = float(scores[best])
    return SyncEstimate(round(float(lags[best]) * 1000.0, 1), round(corr, 3), corr < params.weak_sync)
