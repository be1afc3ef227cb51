"""A dataset folder: the options schema, planning and building (make_dataset), one clip's job, the clip
record (metadata.json, manifest lines), file roles, the report.

The names other packages use, loaded on first use (importing the package loads no module of it).
"""
from __future__ import annotations

from pipeline.public import lazy_names

PUBLIC = {
    "BY_NAME": "options",
    "ClipFailed": "clip_job",
    "ClipFiles": "clip_files",
    "DEFAULTS": "options",
    "DatasetParams": "build",
    "Option": "options",
    "PAYLOAD_ROLES": "clip_files",
    "PLAN_DIR": "clip_plan",
    "ROLES": "clip_files",
    "ROLE_NAMES": "clip_files",
    "STORED": "options",
    "SUMMARY_FIELDS": "clip_record",
    "build_dataset": "build",
    "clip_name": "clip_files",
    "dataset_params": "options",
    "failure": "build",
    "finish_dataset": "build",
    "inside": "clip_files",
    "job_from_plan": "clip_plan",
    "plan_dataset": "build",
    "plan_for_finishing": "clip_plan",
    "plotly_text": "report",
    "process_clip": "clip_job",
    "read_blendshape_table": "blendshape_table",
    "remove_plan": "clip_plan",
    "restore_timing": "clip_plan",
    "save_plan": "clip_plan",
    "saved_audio": "clip_plan",
    "summary": "clip_record",
    "write_manifest": "build",
}
__all__ = sorted(PUBLIC)
__getattr__ = lazy_names(__name__, PUBLIC)
