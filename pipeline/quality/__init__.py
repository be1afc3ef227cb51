"""Quality control: the metrics registry, per-frame QC, visual checks, lip sync, the 0-100 score and its
reasons, and re-qualifying clips written before.

The names other packages use, loaded on first use (importing the package loads no module of it).
"""
from __future__ import annotations

from pipeline.public import lazy_names

PUBLIC = {
    "COMPONENTS": "scoring",
    "DEFAULT_WEIGHTS": "scoring",
    "FaceCounter": "visual_qc",
    "JITTER_SCALE": "scoring",
    "MAX_WEIGHT": "scoring",
    "METRICS": "quality",
    "PRESETS": "scoring",
    "QcParams": "qc",
    "VisualSampler": "visual_qc",
    "assess_clip": "clip_quality",
    "reasons": "scoring",
    "requalify_folder": "requalify",
    "score": "scoring",
    "validate_weights": "scoring",
}
__all__ = sorted(PUBLIC)
__getattr__ = lazy_names(__name__, PUBLIC)
