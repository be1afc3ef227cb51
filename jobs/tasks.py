"""django-q2 tasks: plan a video and fan its clips out (jobs.fanout), finish it once; re-queue dead work.

The Video row is the truth about progress; django-q2 only delivers work.  The
task claims its video with a conditional UPDATE, so a duplicate delivery of the
same task does nothing, and the pipeline's own resumability (complete clips
are skipped) plus the importer's update_or_create make a retry continue where
the dead attempt stopped, without duplicate clips.
"""
from __future__ import annotations

import logging
import secrets
import time
from datetime import timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from catalog.importer import import_folder
from catalog.models import Video
from pipeline.errors import PipelineError
from pipeline.media_open import WorkStopped
from pipeline.options import dataset_params

from .carry_over import apply_carry_over
from .fanout import EXTRACTING, FINISHING, cut_clip, fan_out, requeue_stalled_clips
from .models import ClipTask
from .progress import JobCancelled, VideoProgress
from .supervise import Supervisor

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
    """Plan the video and queue its clips as tasks of their own (jobs.fanout); the last clip finishes it."""
    token = claim_when_free(video_id)
    if not token:
        return "not claimed (already running elsewhere, finished or cancelled)"
    video = Video.objects.get(pk=video_id)
    progress = VideoProgress(video_id, token)
    try:
        from pipeline.dataset import plan_dataset

        with Supervisor(video_beat(video_id, token), lambda reason: video_hung(video_id, token, reason)):
            plan = plan_dataset(video.source_path, video.output_dir, dataset_params(video.params),
                                source_name=video.source_name)
        progress.beat(force=True)
        queued = fan_out(video, token, plan)
        if not queued:  # every clip already complete (or none at all): finish now
            finish_video(video_id, token)
        return f"{queued} clip task(s) queued"
    except (JobCancelled, WorkStopped):
        release(video_id, token)
        return "cancelled"
    except Exception as exc:  # noqa: BLE001 - recorded for the user (and re-raised for django-q2's log)
        fail(video_id, token, exc)
        if not isinstance(exc, PipelineError):
            raise
        return f"failed: {exc}"


def video_beat(video_id: int, token: str):
    """The heartbeat of a video's single-task stages; False once the attempt is not current."""
    def beat() -> bool:
        return bool(Video.objects.filter(pk=video_id, status=Video.Status.RUNNING, run_token=token).update(
            heartbeat=timezone.now()))
    return beat


def video_hung(video_id: int, token: str, reason: str) -> None:
    """The plan of a video hung: queue it again, or after JOB_MAX_ATTEMPTS fail it for good, saying why."""
    from .service import enqueue

    video = Video.objects.get(pk=video_id)
    mine = Video.objects.filter(pk=video_id, run_token=token, status=Video.Status.RUNNING)
    if video.attempts >= settings.JOB_MAX_ATTEMPTS:
        mine.update(status=Video.Status.FAILED, run_token="",
                    error=f"reading this recording hung on {video.attempts} attempts ({reason}); it is left out")
    elif mine.update(status=Video.Status.QUEUED, run_token="", stage="re-queued after a hang", error=reason):
        enqueue(video)


def process_clip_task(video_id: int, run_token: str) -> str:
    """The next clip of a video job, on whichever worker runs this message."""
    return cut_clip(video_id, run_token)


def finish_video(video_id: int, token: str) -> None:
    """Manifest, report, import: run by exactly one task, the one that wins the stage change."""
    if not Video.objects.filter(pk=video_id, run_token=token, status=Video.Status.RUNNING).exclude(
            stage=FINISHING).update(stage=FINISHING, heartbeat=timezone.now()):
        return
    video = Video.objects.get(pk=video_id)
    mine = Video.objects.filter(pk=video_id, run_token=token)  # every write of this attempt goes through it
    try:
        from pipeline.clip_plan import remove_plan
        from pipeline.dataset import failure, finish_dataset

        plan, records = finishing_plan(video, token)
        spans = dict(enumerate(plan.segmentation.clips))
        failed = [failure(t.index, spans[t.index], t.error)
                  for t in ClipTask.objects.filter(video_id=video_id, run_token=token, status=ClipTask.Status.FAILED)
                  if t.index in spans and t.index not in records]
        result = finish_dataset(plan, records, failed, skipped=0)
        mine.update(stage="importing", heartbeat=timezone.now())
        import_folder(video.dataset, video.output_dir, lines=result.manifest, report=result.report)
        apply_carry_over(video)
        remove_plan(video.output_dir)
        note = f"{len(result.failed)} clip(s) failed: see the report" if result.failed else ""
        mine.filter(status=Video.Status.RUNNING).update(status=Video.Status.DONE, stage="done", error=note,
                                                        heartbeat=timezone.now(), clips_done=F("clips_total"))
    except Exception as exc:  # noqa: BLE001 - recorded for the user
        fail(video_id, token, exc)
        if not isinstance(exc, PipelineError):
            raise
    finally:
        release(video_id, token)


def finishing_plan(video: Video, token: str) -> tuple:
    """The saved plan and the records of this attempt's done clips (ClipTask.record), with no second plan and no
    re-hashing; a plan saved by an older version (a job in flight across an upgrade) is made again instead."""
    import json

    from pipeline.clip_files import ClipFiles, clip_name
    from pipeline.clip_plan import plan_for_finishing, restore_timing, saved_audio
    from pipeline.dataset import plan_dataset

    params = dataset_params(video.params)
    plan = plan_for_finishing(video.output_dir, params)
    if plan is None:
        plan = plan_dataset(video.source_path, video.output_dir, params, audio=saved_audio(video.output_dir),
                            source_name=video.source_name)
        restore_timing(plan)
        return plan, dict(plan.complete)
    records = {}
    for index, record in ClipTask.objects.filter(video_id=video.pk, run_token=token, status=ClipTask.Status.DONE
                                                 ).values_list("index", "record"):
        if record is None:  # done by a worker of the previous version: its metadata file says the same
            record = json.loads(ClipFiles(plan.root, clip_name(index)).metadata.read_text(encoding="utf-8"))
        records[index] = record
    return plan, records


def fail(video_id: int, token: str, exc: Exception) -> None:
    if isinstance(exc, PipelineError):
        error = str(exc)
    else:
        log.exception("video %s failed", video_id)
        error = f"internal error ({type(exc).__name__}: {exc}); retry, or report it"
    Video.objects.filter(pk=video_id, run_token=token, status=Video.Status.RUNNING).update(
        status=Video.Status.FAILED, error=error)
    release(video_id, token)


def requeue_stalled() -> int:
    """Watchdog (scheduled every minute): a running job without heartbeat is re-queued or, after too many attempts, failed."""
    from .service import enqueue

    stale = timezone.now() - timedelta(seconds=settings.JOB_STALE_SECONDS)
    # a video whose clips are out as tasks is watched clip by clip (requeue_stalled_clips); the video itself
    # is stale only while it is planned or finished, when one task does all the work
    stuck = Video.objects.filter(status=Video.Status.RUNNING).exclude(stage=EXTRACTING).filter(
        Q(heartbeat__lt=stale) | Q(heartbeat__isnull=True))
    count = requeue_stalled_clips()
    for video in stuck:
        if video.attempts >= settings.JOB_MAX_ATTEMPTS:
            Video.objects.filter(pk=video.pk, status=Video.Status.RUNNING).update(
                status=Video.Status.FAILED,
                error=f"the worker stopped {video.attempts} times while processing this video (a crash, out of "
                      "memory or a hang); retry to try again")
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
