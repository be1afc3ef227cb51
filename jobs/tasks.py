"""django-q2 tasks: process one uploaded video; re-queue jobs whose worker died.

The Video row is the truth about progress; django-q2 only delivers work.  The
task claims its video with a conditional UPDATE, so a duplicate delivery of the
same task does nothing, and the pipeline's own resumability (complete clips
are skipped) plus the importer's update_or_create make a retry continue where
the dead attempt stopped, without duplicate clips.
"""
from __future__ import annotations

import logging
import os
from datetime import timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from catalog.importer import import_folder
from catalog.models import Video
from pipeline.errors import PipelineError

from .params import dataset_params
from .progress import JobCancelled, VideoProgress

log = logging.getLogger(__name__)


def claim(video_id: int) -> bool:
    """Move the video to RUNNING if it is queued, or running with a stale heartbeat (its worker died)."""
    stale = timezone.now() - timedelta(seconds=settings.JOB_STALE_SECONDS)
    return bool(Video.objects.filter(pk=video_id).filter(
        Q(status=Video.Status.QUEUED)
        | Q(status=Video.Status.RUNNING, heartbeat__lt=stale)
        | Q(status=Video.Status.RUNNING, heartbeat__isnull=True)
    ).update(status=Video.Status.RUNNING, stage="segmenting", heartbeat=timezone.now(), error="",
             attempts=F("attempts") + 1))


def process_video(video_id: int) -> str:
    if not claim(video_id):
        return "not claimed (already running elsewhere, finished or cancelled)"
    video = Video.objects.get(pk=video_id)
    progress = VideoProgress(video_id)
    try:
        from pipeline.dataset import build_dataset

        workers = settings.JOB_WORKERS or os.cpu_count() or 1
        result = build_dataset(video.source_path, video.output_dir, dataset_params(video.params),
                               workers=workers, progress=progress)
        progress.beat(force=True, stage="importing")
        import_folder(video.dataset, video.output_dir)
        failed = len(result.failed)
        note = f"{failed} clip(s) failed: see the report" if failed else ""
        Video.objects.filter(pk=video_id, status=Video.Status.RUNNING).update(
            status=Video.Status.DONE, stage="done", error=note, heartbeat=timezone.now())
        return f"{len(result.clips)} clips"
    except JobCancelled:
        return "cancelled"
    except PipelineError as exc:
        Video.objects.filter(pk=video_id).exclude(status=Video.Status.CANCELLED).update(
            status=Video.Status.FAILED, error=str(exc))
        return f"failed: {exc}"
    except Exception as exc:  # noqa: BLE001 - record it for the user, then let django-q2 log it too
        log.exception("video %s failed", video_id)
        Video.objects.filter(pk=video_id).exclude(status=Video.Status.CANCELLED).update(
            status=Video.Status.FAILED, error=f"internal error ({type(exc).__name__}: {exc}); retry, or report it")
        raise


def requeue_stalled() -> int:
    """Watchdog (scheduled every minute): a running job without heartbeat is re-queued or, after too many attempts, failed."""
    from .service import enqueue

    stale = timezone.now() - timedelta(seconds=settings.JOB_STALE_SECONDS)
    stuck = Video.objects.filter(status=Video.Status.RUNNING).filter(Q(heartbeat__lt=stale) | Q(heartbeat__isnull=True))
    count = 0
    for video in stuck:
        if video.attempts >= settings.JOB_MAX_ATTEMPTS:
            Video.objects.filter(pk=video.pk, status=Video.Status.RUNNING).update(
                status=Video.Status.FAILED,
                error=f"the worker stopped {video.attempts} times while processing this video; retry to try again")
        elif Video.objects.filter(pk=video.pk, status=Video.Status.RUNNING, heartbeat=video.heartbeat).update(
                status=Video.Status.QUEUED, stage="re-queued after its worker stopped"):
            enqueue(video)
            count += 1
    return count


def recompute_quality(dataset_id: int) -> str:
    """Background job of the "recompute QC" button: progress goes to each video's stage text."""
    from catalog.models import Dataset
    from catalog.requalify import requalify_dataset

    dataset = Dataset.objects.get(pk=dataset_id)

    def progress(video, done: int, total: int) -> None:
        Video.objects.filter(pk=video.pk).update(stage=f"recomputing QC {done}/{total}" if done < total else "done",
                                                 heartbeat=timezone.now())

    return f"{requalify_dataset(dataset, progress)} clips"
