"""QC metrics of a clip: a registry of named measurements, like the audio features'.

Every metric is a function of :class:`QualityInputs` (the clip's curves before and
after repair, the face geometry, the visual samples, the audio around the clip,
the speech decisions and the lip-sync estimate) returning a number (or None when
it cannot be measured).  The values are stored per clip under ``quality`` in its
metadata, imported into the catalog, and offered in the clip table's filters and
the reports.  A lab adds its own with::

    @register_metric("teeth_visible", "Teeth visible", lo=0, hi=1)
    def teeth_visible(q: QualityInputs) -> float | None:
        ...

How the metrics become the 0-100 score is :mod:`pipeline.quality.scoring`'s job.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from pipeline.face.blendshape_names import MEDIAPIPE_NAMES
from pipeline.face.face_geometry import GEOMETRY_NAMES
from pipeline.quality.lip_sync import LipSync
from pipeline.runs import true_runs
from pipeline.quality.visual_qc import VisualSamples

JAW_OPEN = MEDIAPIPE_NAMES.index("jawOpen")
SPEAKING_MIN_ACTIVITY = 0.02  # std of jawOpen over speech frames below which the face is "not speaking"


@dataclass
class QualityInputs:
    raw: np.ndarray  # (F, 52) as extracted, NaN without a face
    face: np.ndarray  # (F,) bool
    times_s: np.ndarray  # (F,) clip time of each frame
    pose: np.ndarray  # (F, 3) yaw, pitch, roll in degrees, NaN without a face
    geometry: np.ndarray  # (F, 6) face_geometry.GEOMETRY_NAMES, NaN without a face
    speech: np.ndarray  # (F,) bool: the VAD calls the frame's time speech
    visual: VisualSamples = field(default_factory=VisualSamples)
    lip_sync: LipSync | None = None

    def geometry_column(self, name: str) -> np.ndarray:
        return self.geometry[:, GEOMETRY_NAMES.index(name)]


MetricFn = Callable[[QualityInputs], "float | None"]


@dataclass(frozen=True)
class QualityMetric:
    name: str
    label: str
    fn: MetricFn
    lo: float | None = None  # the range the value can take (filter validation)
    hi: float | None = None
    unit: str = ""


METRICS: dict[str, QualityMetric] = {}


def register_metric(name: str, label: str, lo: float | None = None, hi: float | None = None,
                    unit: str = "") -> Callable[[MetricFn], MetricFn]:
    def add(fn: MetricFn) -> MetricFn:
        METRICS[name] = QualityMetric(name, label, fn, lo, hi, unit)
        return fn
    return add


def compute_metrics(inputs: QualityInputs) -> dict[str, float | None]:
    """Every registered metric, rounded for storage; a metric that cannot be measured is None."""
    out: dict[str, float | None] = {}
    for name, metric in METRICS.items():
        value = metric.fn(inputs)
        out[name] = None if value is None or not np.isfinite(value) else round(float(value), 5)
    return out


def tracking_jitter(values: np.ndarray, valid: np.ndarray) -> float | None:
    """Frame-to-frame noise that tracking adds, in blendshape units.

    Per coefficient, the residual of each frame from the mean of its two
    neighbours, x[t] - (x[t-1] + x[t+1]) / 2, is pure noise of standard deviation
    sqrt(1.5)*sigma where the curve is locally linear; its median absolute value
    (scaled to a standard deviation) ignores the frames where the face really
    moves fast.  The clip's jitter is the median over the 52 coefficients, so the
    handful that a talking mouth drives do not count as noise: a still face and a
    talking face tracked equally cleanly get the same value.
    """
    residuals = [v[1:-1] - 0.5 * (v[:-2] + v[2:]) for a, b in true_runs(valid) if b - a >= 5 for v in [values[a:b]]]
    if not residuals:
        return None
    r = np.concatenate(residuals)
    sigma = 1.4826 * np.median(np.abs(r - np.median(r, axis=0)), axis=0) / np.sqrt(1.5)
    return float(np.median(sigma))


@register_metric("jitter", "Tracking jitter", lo=0, hi=1)
def jitter(q: QualityInputs) -> float | None:
    return tracking_jitter(q.raw, q.face & ~np.isnan(q.raw).any(axis=1))


@register_metric("mouth_activity", "Mouth activity in speech", lo=0, hi=1)
def mouth_activity(q: QualityInputs) -> float | None:
    """Standard deviation of jawOpen over the frames the VAD calls speech (a talking mouth moves)."""
    jaw = q.raw[:, JAW_OPEN]
    use = q.speech & ~np.isnan(jaw)
    return float(np.std(jaw[use])) if use.sum() >= 10 else None


@register_metric("interocular_px", "Face size (px between the eyes)", lo=0, unit="px")
def interocular_px(q: QualityInputs) -> float | None:
    values = q.geometry_column("interocular_px")
    return float(np.nanmedian(values)) if np.isfinite(values).any() else None


def _pose_stat(q: QualityInputs, column: int, stat: str) -> float | None:
    values = q.pose[:, column]
    values = values[np.isfinite(values)]
    if values.size == 0:
        return None
    if stat == "range":
        return float(np.percentile(values, 95) - np.percentile(values, 5))
    return float(np.max(np.abs(values)))


@register_metric("yaw_range", "Yaw range (°, 5-95%)", lo=0, unit="°")
def yaw_range(q: QualityInputs) -> float | None:
    return _pose_stat(q, 0, "range")


@register_metric("yaw_max_abs", "Largest |yaw| (°)", lo=0, unit="°")
def yaw_max_abs(q: QualityInputs) -> float | None:
    return _pose_stat(q, 0, "max")


@register_metric("pitch_range", "Pitch range (°, 5-95%)", lo=0, unit="°")
def pitch_range(q: QualityInputs) -> float | None:
    return _pose_stat(q, 1, "range")


@register_metric("pitch_max_abs", "Largest |pitch| (°)", lo=0, unit="°")
def pitch_max_abs(q: QualityInputs) -> float | None:
    return _pose_stat(q, 1, "max")


@register_metric("sharpness", "Face sharpness (Laplacian variance)", lo=0)
def sharpness(q: QualityInputs) -> float | None:
    return float(np.median(q.visual.sharpness)) if q.visual.sharpness else None


@register_metric("brightness", "Face brightness (0-255)", lo=0, hi=255)
def brightness(q: QualityInputs) -> float | None:
    return float(np.median(q.visual.brightness)) if q.visual.brightness else None


@register_metric("multi_face_rate", "Frames with a second face", lo=0, hi=1)
def multi_face_rate(q: QualityInputs) -> float | None:
    return float(np.mean(np.array(q.visual.faces) >= 2)) if q.visual.faces else None


FACE_JUMP = 0.5  # of the face's width: the box centre moving further in one 25 fps frame interval is not a head moving
FACE_RESIZE = 1.4  # the box growing or shrinking by this factor from one frame to the next
FACE_JUMP_GAP_S = 0.25  # frames without a face between the two compared: at most this long


def face_jumps(q: QualityInputs) -> list[float]:
    """Clip times where the tracked face jumps within the clip: its box moves or changes size further in one
    frame than a head does (another person, or a tracker that slid to another face)."""
    x0, y0, x1, y1 = (q.geometry_column(k) for k in ("face_x0", "face_y0", "face_x1", "face_y1"))
    ok = np.nonzero(q.face & ~np.isnan(x0))[0]
    out = []
    for a, b in zip(ok[:-1], ok[1:]):
        dt = q.times_s[b] - q.times_s[a]
        if dt > FACE_JUMP_GAP_S:
            continue
        wa, wb = x1[a] - x0[a], x1[b] - x0[b]
        width = max((wa + wb) / 2, 1e-6)
        moved = np.hypot((x0[b] + x1[b] - x0[a] - x1[a]) / 2, (y0[b] + y1[b] - y0[a] - y1[a]) / 2) / width
        if moved > FACE_JUMP * max(dt * 25.0, 1.0) or max(wa, wb) > FACE_RESIZE * max(min(wa, wb), 1e-6):
            out.append(round(float(q.times_s[b]), 3))
    return out


@register_metric("face_jumps", "Face jumps (another face)", lo=0, hi=None)
def face_jump_count(q: QualityInputs) -> float | None:
    return float(len(face_jumps(q))) if q.face.any() else None


@register_metric("face_jump_s", "First face jump (s)", lo=0, hi=None, unit="s")
def first_face_jump_s(q: QualityInputs) -> float | None:
    jumps = face_jumps(q)
    return jumps[0] if jumps else None


@register_metric("lip_sync_confidence", "Lip-sync confidence", lo=None, hi=None)
def lip_sync_confidence(q: QualityInputs) -> float | None:
    return q.lip_sync.confidence if q.lip_sync is not None else None


@register_metric("lip_sync_offset_ms", "Lip-sync offset (ms)", unit="ms")
def lip_sync_offset_ms(q: QualityInputs) -> float | None:
    return q.lip_sync.offset_ms if q.lip_sync is not None else None
