"""Trainer outputs: the Parquet training export and its splits, the tables trainers read, the baseline model.

The names other packages use, loaded on first use (importing the package loads no module of it).
"""
from __future__ import annotations

from pipeline.public import lazy_names

PUBLIC = {
    "ExportClip": "training_export",
    "TrainingExport": "training_data",
    "assign_splits": "training_export",
    "clips_from_folder": "training_export",
    "export_entries": "training_export",
    "write_export": "training_export",
}
__all__ = sorted(PUBLIC)
__getattr__ = lazy_names(__name__, PUBLIC)
