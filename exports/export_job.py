"""Training exports made in the background (the django-q2 task behind "Make face-crop videos"): claimed by a
conditional update, heartbeats while it runs, the zip written under a temporary name and renamed when complete,
and a watchdog that queues a run whose worker died again (or fails it, saying why, after two tries)."""
from __future__ import annotations

import json
import os
import zipfile

from django.http import QueryDict
from django.utils import timezone

from catalog.filters import ClipFilter
from exports.models import ExportJob
from exports.training import dataset_splits, export_clips
from exports.zipstream import stream_zip
from jobs import background_run
from pipeline.training.trainer_layouts import LayoutOptions, layout_entries

MAX_ATTEMPTS = 2


def enqueue(job: ExportJob) -> None:
    from django_q.tasks import async_task

    async_task("exports.export_job.run_export", job.pk, task_name=f"export-{job.pk}", group=f"dataset-{job.dataset_id}")


def claim(job_id: int) -> str | None:
    return background_run.claim(ExportJob, job_id)


def run_export(job_id: int) -> str:
    def body(job: ExportJob, mine, token: str) -> dict:
        target = job.zip_path
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.with_name(f".{target.name}.{token}.partial")
        try:
            summary = write_zip(job, temp, lambda frames: mine.update(frames_done=frames, heartbeat=timezone.now()))
            os.replace(temp, target)
        finally:
            temp.unlink(missing_ok=True)
        return {"summary": summary}

    outcome, value = background_run.run_once(ExportJob, job_id, body, "make it again")
    if outcome == "done":
        return f"{value['summary'].get('clips')} clips"
    return "not claimed" if value is None else f"failed: {value}"


def write_zip(job: ExportJob, path, progress) -> dict:
    dataset = job.dataset
    form = ClipFilter.of(dataset, QueryDict(job.query))
    if form.problems():
        raise ValueError(f"the filter was not understood: {form.problems()}")
    clips = form.apply(dataset.clips.select_related("video").prefetch_related("tags")).iterator(chunk_size=200)
    seed = int(job.options.get("seed") or 0)
    describe = {"dataset": dataset.name, "team": dataset.team.name, "filter": form.active(),
                "created": timezone.now().isoformat(),
                "by": job.created_by.get_username() if job.created_by else None, "export_job": job.pk}
    options = LayoutOptions(fps=job.options.get("fps"), seed=seed, describe=describe,
                            crop_size=int(job.options.get("crop_size") or 256), progress=progress)
    top = job_top(job)
    info: dict = {}

    def entries():
        for name, data in layout_entries(job.layout, export_clips(clips), dataset_splits(dataset, seed), options):
            if name == "export.json":
                info.update(json.loads(data))
            yield f"{top}/{name}", data

    with open(path, "wb") as fh:
        for block in stream_zip(entries()):
            fh.write(block)
    with zipfile.ZipFile(path) as check:  # complete and readable before it gets its final name
        if check.testzip() is not None:
            raise OSError("the written zip does not read back")
    counts = info.get("counts") or {}
    return {"clips": sum((counts.get("clips") or {}).values()), "frames": counts.get("frames"),
            "left_out": info.get("left_out") or [], "empty_splits": info.get("empty_splits") or [],
            "speed": info.get("speed")}


def job_top(job: ExportJob) -> str:
    from exports.layout import safe_part

    return f"{safe_part(job.dataset.name)}-{job.layout}-{job.pk}"


def requeue_stalled_exports() -> int:
    """Watchdog (every minute): a running export without heartbeat is queued again, or failed after MAX_ATTEMPTS."""
    return background_run.requeue_stalled(ExportJob, enqueue, MAX_ATTEMPTS, "making it", "make it again")
