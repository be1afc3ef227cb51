"""Training exports made in the background (the django-q2 task behind "Make face-crop videos"): claimed by a
conditional update, heartbeats while it runs, the zip written under a temporary name and renamed when complete,
and a watchdog that queues a run whose worker died again (or fails it, saying why, after two tries)."""
from __future__ import annotations

import json
import logging
import os
import secrets
import zipfile
from datetime import timedelta

from django.conf import settings
from django.db.models import F, Q
from django.http import QueryDict
from django.utils import timezone

from catalog.filters import ClipFilter
from exports.models import ExportJob
from exports.training import dataset_splits, export_clips
from exports.zipstream import stream_zip
from jobs.supervise import Supervisor
from pipeline.errors import PipelineError
from pipeline.training.trainer_layouts import LayoutOptions, layout_entries

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 2


def enqueue(job: ExportJob) -> None:
    from django_q.tasks import async_task

    async_task("exports.export_job.run_export", job.pk, task_name=f"export-{job.pk}", group=f"dataset-{job.dataset_id}")


def claim(job_id: int) -> str | None:
    stale = timezone.now() - timedelta(seconds=settings.JOB_STALE_SECONDS)
    token = secrets.token_hex(16)
    free = Q(status=ExportJob.Status.QUEUED) | Q(status=ExportJob.Status.RUNNING) & (
        Q(heartbeat__lt=stale) | Q(heartbeat__isnull=True))
    taken = ExportJob.objects.filter(free, pk=job_id).update(
        status=ExportJob.Status.RUNNING, run_token=token, heartbeat=timezone.now(), attempts=F("attempts") + 1)
    return token if taken else None


def run_export(job_id: int) -> str:
    token = claim(job_id)
    if not token:
        return "not claimed"
    mine = ExportJob.objects.filter(pk=job_id, run_token=token, status=ExportJob.Status.RUNNING)
    job = ExportJob.objects.select_related("dataset__team", "created_by").get(pk=job_id)
    target = job.zip_path
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.{token}.partial")

    def beat() -> bool:
        return bool(mine.update(heartbeat=timezone.now()))

    def hung(reason: str) -> None:
        mine.update(status=ExportJob.Status.FAILED, error=f"hung: {reason}", finished=timezone.now())

    try:
        with Supervisor(beat, hung):
            summary = write_zip(job, temp, lambda frames: mine.update(frames_done=frames, heartbeat=timezone.now()))
        os.replace(temp, target)
        mine.update(status=ExportJob.Status.DONE, summary=summary, finished=timezone.now())
        return f"{summary.get('clips')} clips"
    except (ValueError, OSError, PipelineError) as exc:
        mine.update(status=ExportJob.Status.FAILED, error=str(exc), finished=timezone.now())
        return f"failed: {exc}"
    except Exception as exc:  # noqa: BLE001 - recorded for the user (and re-raised for django-q2's log)
        log.exception("export %s failed", job_id)
        mine.update(status=ExportJob.Status.FAILED, error=f"internal error ({type(exc).__name__}: {exc}); "
                    "make it again, or report it", finished=timezone.now())
        raise
    finally:
        temp.unlink(missing_ok=True)


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
    stale = timezone.now() - timedelta(seconds=settings.JOB_STALE_SECONDS)
    count = 0
    for job in ExportJob.objects.filter(status=ExportJob.Status.RUNNING).filter(
            Q(heartbeat__lt=stale) | Q(heartbeat__isnull=True)):
        same = ExportJob.objects.filter(pk=job.pk, status=ExportJob.Status.RUNNING, run_token=job.run_token)
        if job.attempts >= MAX_ATTEMPTS:
            same.update(status=ExportJob.Status.FAILED, finished=timezone.now(),
                        error=f"the worker stopped {job.attempts} times while making it (a crash, out of memory, "
                              "or the task time limit Q_TIMEOUT); make it again with fewer clips, or report it")
        elif same.update(status=ExportJob.Status.QUEUED, run_token=""):
            enqueue(job)
            count += 1
    return count
