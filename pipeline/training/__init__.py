"""Trainer outputs: the Parquet training export and its splits, the tables trainers read, the baseline model.

The names other packages use, loaded on first use (importing the package loads no module of it).
"""
from __future__ import annotations

from pipeline.public import lazy_names

MODULES = {  # module -> the names other packages use from it
    "training_data": ("TrainingExport",),
    "training_export": ("ExportClip", "assign_splits", "clips_from_folder", "export_entries", "write_export"),
}
PUBLIC = {name: module for module, names in MODULES.items() for name in names}
__all__ = sorted(PUBLIC)
__getattr__ = lazy_names(__name__, PUBLIC)
