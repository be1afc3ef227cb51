"""A clip's whole QC in one call: repair and mask, the registered metrics, lip sync, the score and its reasons.

Used by the clip worker on fresh data and by the recompute command on data
already on disk, so both give the same fields.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.face.blendshape_names import MEDIAPIPE_NAMES
from pipeline.face.face_geometry import GEOMETRY_NAMES
from pipeline.quality.lip_sync import LipSync, LipSyncParams, estimate_lip_sync
from pipeline.quality.qc import QcParams, QcResult, run_qc
from pipeline.quality.quality import SPEAKING_MIN_ACTIVITY, QualityInputs, compute_metrics
from pipeline.quality.scoring import DEFAULT_WEIGHTS, reasons, score
from pipeline.quality.visual_qc import VisualSamples


@dataclass
class ClipQuality:
    repair: QcResult  # repaired values and the mask
    quality: dict  # every stored QC value (the metadata's "quality"; what the score is computed from)
    lip_sync: LipSync
    face_speaking: bool | None
    score: float
    reasons: list[str]


def assess_clip(raw: np.ndarray, face: np.ndarray, times_s: np.ndarray, pose: np.ndarray, geometry: np.ndarray,
                speech: np.ndarray, visual: VisualSamples, audio: np.ndarray, audio_start_s: float, sample_rate: int,
                qc: QcParams = QcParams(), lip: LipSyncParams = LipSyncParams(),
                weights: dict[str, float] | None = None) -> ClipQuality:
    """QC of one clip. ``audio`` is 16 kHz audio around the clip; ``audio_start_s`` the clip time of its first sample."""
    repair = run_qc(raw, face, times_s, qc)
    lip_gap = geometry[:, GEOMETRY_NAMES.index("lip_gap")].astype(np.float64)
    jaw_open = np.where(face, raw[:, MEDIAPIPE_NAMES.index("jawOpen")], np.nan).astype(np.float64)
    sync = estimate_lip_sync(times_s, lip_gap, jaw_open, audio, audio_start_s, sample_rate, lip)
    inputs = QualityInputs(raw=raw, face=face, times_s=times_s, pose=pose, geometry=geometry, speech=speech,
                           visual=visual, lip_sync=sync)
    quality = {**repair.report(), **compute_metrics(inputs), "lip_sync_verdict": sync.verdict}
    activity = quality.get("mouth_activity")
    speaking = None if activity is None else bool(activity >= SPEAKING_MIN_ACTIVITY)
    quality["face_speaking"] = speaking
    return ClipQuality(repair, quality, sync, speaking, score(quality, weights or DEFAULT_WEIGHTS), reasons(quality))
