"""A dataset plan on disk, so clips can be cut by other processes or machines (one task per clip).

The planner decodes the audio and finds the spans once; a clip task anywhere that sees the output folder
(a shared filesystem) rebuilds its own work order from these files: the 16 kHz audio (memory-mapped:
a task reads only its span), the VAD flags and the spans.  Written under a temporary name and renamed.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from pipeline.audio.track import AudioTrack
from pipeline.dataset.clip_job import ClipJob
from pipeline.dataset.build import DatasetParams, DatasetPlan, clip_job
from pipeline.media.probe import VideoInfo
from pipeline.audio.segment import Segmentation, Span, flags_between

PLAN_DIR = ".plan"


def save_plan(plan: DatasetPlan) -> Path:
    target = plan.root / PLAN_DIR
    temp = Path(tempfile.mkdtemp(prefix=".plan-", dir=plan.root))
    try:
        np.save(temp / "audio.npy", np.asarray(plan.audio.samples, np.float32))
        seg = plan.segmentation
        np.save(temp / "speech.npy", np.asarray(seg.speech_flags, bool))
        (temp / "plan.json").write_text(json.dumps({
            "source": str(plan.source.resolve()), "source_name": plan.source_name, "key": plan.key, "sample_rate": plan.audio.sample_rate,
            "audio_start_s": plan.audio.start_time_s, "speech_origin_s": seg.origin_s, "frame_s": seg.frame_s,
            "spans": [[span.start_s, span.end_s, span.muted] for span in seg.clips],
            # for the report's stage_seconds, which the finishing task (elsewhere, later) writes
            "stages": plan.stages, "started_at": time.time() - (time.perf_counter() - plan.started),
            "planned_at": time.time(),
            # what the finishing task writes the report from, so it never plans (probes, segments, hashes) again
            "finish": {"info": {**asdict(plan.info), "path": str(plan.info.path)}, "padding": plan.padding,
                       "dropped": seg.dropped, "speech_runs": [[s.start_s, s.end_s] for s in seg.speech_runs],
                       "speech_level_db": seg.speech_level_db, "floor_db": seg.floor_db, "params": seg.params}}))
        shutil.rmtree(target, ignore_errors=True)
        os.replace(temp, target)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    return target


def saved_span(values: list) -> Span:
    """A span as plan.json keeps it: [start, end, muted] (a plan of an older version: [start, end])."""
    return Span(float(values[0]), float(values[1]), muted=bool(values[2]) if len(values) > 2 else False)


def _saved(folder: Path) -> tuple[dict, AudioTrack]:
    plan = json.loads((folder / "plan.json").read_text())
    audio = AudioTrack(np.load(folder / "audio.npy", mmap_mode="r"), plan["sample_rate"], plan["audio_start_s"])
    return plan, audio


def saved_audio(root: str | os.PathLike[str]) -> AudioTrack | None:
    """The audio the plan decoded (memory-mapped), or None when there is no readable plan."""
    try:
        return _saved(Path(root) / PLAN_DIR)[1]
    except (OSError, ValueError, KeyError):
        return None


def job_from_plan(root: str | os.PathLike[str], index: int, params: DatasetParams) -> ClipJob:
    folder = Path(root) / PLAN_DIR
    plan, audio = _saved(folder)
    flags = np.load(folder / "speech.npy", mmap_mode="r")

    def between(start_s: float, end_s: float):
        return flags_between(flags, plan["speech_origin_s"], plan["frame_s"], start_s, end_s)

    return clip_job(Path(root), Path(plan["source"]), index, saved_span(plan["spans"][index]), audio, between,
                    plan["key"], params,
                    plan.get("source_name"))


def plan_for_finishing(root: str | os.PathLike[str], params: DatasetParams) -> DatasetPlan | None:
    """The plan as the planning task saved it, for writing the manifest and the report; None for a plan saved
    by an older version (the caller then plans again)."""
    folder = Path(root) / PLAN_DIR
    try:
        plan, audio = _saved(folder)
        saved = plan["finish"]
        flags = np.load(folder / "speech.npy", mmap_mode="r")
        info = VideoInfo(**{**saved["info"], "path": Path(saved["info"]["path"])})
        segmentation = Segmentation(
            clips=[saved_span(s) for s in plan["spans"]], dropped=saved["dropped"],
            speech_runs=[Span(a, b) for a, b in saved["speech_runs"]], frame_s=plan["frame_s"], speech_flags=flags,
            speech_level_db=saved["speech_level_db"], floor_db=saved["floor_db"], params=saved["params"],
            origin_s=plan["speech_origin_s"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    result = DatasetPlan(Path(plan["source"]), Path(root), params, info, audio, saved["padding"], segmentation,
                         plan["key"], {}, [], {}, time.perf_counter(), plan.get("source_name") or Path(plan["source"]).name)
    restore_timing(result)
    return result


def restore_timing(plan: DatasetPlan) -> None:
    """Give a plan re-made by the finishing task the planning task's stage times: the audio decode and the
    speech search as first measured, "clips" from the fan-out until now, and a "total" counted from the
    first plan's start (finish_dataset computes it from ``plan.started``)."""
    try:
        saved = json.loads((plan.root / PLAN_DIR / "plan.json").read_text())
        stages, started_at, planned_at = dict(saved["stages"]), float(saved["started_at"]), float(saved["planned_at"])
    except (OSError, ValueError, KeyError, TypeError):
        return  # a plan from an older version: the re-made plan's own times stand
    now = time.time()
    plan.stages = {**stages, "clips": now - planned_at}
    plan.started = time.perf_counter() - (now - started_at)


def remove_plan(root: str | os.PathLike[str]) -> None:
    shutil.rmtree(Path(root) / PLAN_DIR, ignore_errors=True)
