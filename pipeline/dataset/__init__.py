"""A dataset folder: the options schema, planning and building (make_dataset), one clip's job, the clip
record (metadata.json, manifest lines), file roles, the report.

The names other packages use, loaded on first use (importing the package loads no module of it).
"""
from __future__ import annotations

from pipeline.public import lazy_names

MODULES = {  # module -> the names other packages use from it
    "blendshape_table": ("read_blendshape_table",),
    "build": ("DatasetParams", "build_dataset", "failure", "finish_dataset", "plan_dataset", "write_manifest"),
    "clip_files": ("ClipFiles", "PAYLOAD_ROLES", "ROLES", "ROLE_NAMES", "clip_name", "inside"),
    "clip_job": ("ClipFailed", "process_clip"),
    "clip_plan": ("PLAN_DIR", "job_from_plan", "plan_for_finishing", "remove_plan", "restore_timing", "save_plan",
                  "saved_audio"),
    "clip_record": ("SUMMARY_FIELDS", "summary"),
    "options": ("BY_NAME", "DEFAULTS", "Option", "STORED", "dataset_params"),
    "report": ("plotly_text",),
}
PUBLIC = {name: module for module, names in MODULES.items() for name in names}
__all__ = sorted(PUBLIC)
__getattr__ = lazy_names(__name__, PUBLIC)
