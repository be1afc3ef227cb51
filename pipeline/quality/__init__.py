"""Quality control: the metrics registry, per-frame QC, visual checks, lip sync, the 0-100 score and its
reasons, and re-qualifying clips written before.

The names other packages use, loaded on first use (importing the package loads no module of it).
"""
from __future__ import annotations

from pipeline.public import lazy_names

MODULES = {  # module -> the names other packages use from it
    "clip_quality": ("assess_clip",),
    "qc": ("QcParams",),
    "quality": ("METRICS",),
    "requalify": ("requalify_folder",),
    "scoring": ("COMPONENTS", "DEFAULT_WEIGHTS", "JITTER_SCALE", "MAX_WEIGHT", "PRESETS", "reasons", "score",
                "validate_weights"),
    "visual_qc": ("FaceCounter", "VisualSampler"),
}
PUBLIC = {name: module for module, names in MODULES.items() for name in names}
__all__ = sorted(PUBLIC)
__getattr__ = lazy_names(__name__, PUBLIC)
