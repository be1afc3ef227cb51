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
import secrets
import time
from datetime import timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from catalog.importer import import_folder
from catalog.models import Video
from pipeline.errors import PipelineError

from .carry_over import apply_carry_over
from .params import dataset_params
from .progress import JobCancelled, VideoProgress

log = logging.getLogger(__name__)


def claim(video_id: int) -> str | None:
    """Take the job for one attempt: its token, or None when it is not ours to run.

    A queued job is free once no earlier attempt holds it (a cancelled run still finishing its
    clips does, until it stops); a running job is free when its heartbeat is stale (its worker died).
    """
    stale = timezone.now() - timedelta(seconds=settings.JOB_STALE_SECONDS)
    token = secrets.token_hex(16)
    dead = Q(heartbeat__lt=stale) | Q(heartbeat__isnull=True)
    taken = Video.objects.filter(pk=video_id).filter(
        Q(status=Video.Status.QUEUED, run_token="") | Q(status=Video.Status.QUEUED) & dead
        | Q(status=Video.Status.RUNNING) & dead
    ).update(status=Video.Status.RUNNING, stage="segmenting", heartbeat=timezone.now(), error="",
             attempts=F("attempts") + 1, run_token=token)
    return token if taken else None


def claim_when_free(video_id: int) -> str | None:
    """Claim, waiting while an earlier attempt of a re-queued job is still stopping (at most until it is stale)."""
    deadline = time.monotonic() + settings.JOB_STALE_SECONDS + 5
    while True:
        token = claim(video_id)
        if token or time.monotonic() > deadline:
            return token
        if not Video.objects.filter(pk=video_id, status=Video.Status.QUEUED).exclude(run_token="").exists():
            return None  # not waiting for anyone: finished, cancelled or taken by another worker
        time.sleep(1)


def release(video_id: int, token: str) -> None:
    Video.objects.filter(pk=video_id, run_token=token).update(run_token="")


def process_video(video_id: int) -> str:
    token = claim_when_free(video_id)
    if not token:
        return "not claimed (already running elsewhere, finished or cancelled)"
    try:
        return run_claimed(video_id, token)
    finally:
        release(video_id, token)


def run_claimed(video_id: int, token: str) -> str:
    video = Video.objects.get(pk=video_id)
    mine = Video.objects.filter(pk=video_id, run_token=token)  # every write of this attempt goes through it
    progress = VideoProgress(video_id, token)
    try:
        from pipeline.dataset import build_dataset

        workers = settings.JOB_WORKERS or os.cpu_count() or 1
        result = build_dataset(video.source_path, video.output_dir, dataset_params(video.params),
                               workers=workers, progress=progress)
        progress.beat(force=True, stage="importing")
        import_folder(video.dataset, video.output_dir)
        apply_carry_over(video)
        failed = len(result.failed)
        note = f"{failed} clip(s) failed: see the report" if failed else ""
        mine.filter(status=Video.Status.RUNNING).update(
            status=Video.Status.DONE, stage="done", error=note, heartbeat=timezone.now())
        return f"{len(result.clips)} clips"
    except JobCancelled:
        return "cancelled"
    except PipelineError as exc:
        mine.filter(status=Video.Status.RUNNING).update(status=Video.Status.FAILED, error=str(exc))
        return f"failed: {exc}"
    except Exception as exc:  # noqa: BLE001 - record it for the user, then let django-q2 log it too
        log.exception("video %s failed", video_id)
        mine.filter(status=Video.Status.RUNNING).update(
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
