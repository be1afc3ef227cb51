"""django-q2 task entry points (their dotted names are on the broker and in schedules): plan a video and fan
its clips out, cut one clip, the watchdog, and the "recompute QC" job.

Each is short: the state changes are jobs.state's, the clips' jobs.fanout's, finishing jobs.finishing's.
The pipeline's own resumability (complete clips are skipped) plus the importer's update_or_create make a
retry continue where a dead attempt stopped, without duplicate clips.
"""
from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from catalog.models import Video
from jobs import finishing, state
from jobs.fanout import cut_clip, fan_out, requeue_stalled_clips
from jobs.lip_sync_refit import video_params
from jobs.progress import JobCancelled, VideoProgress
from jobs.supervise import Supervisor
from pipeline.errors import PipelineError
from pipeline.media.media_open import WorkStopped


def process_video(video_id: int) -> str:
    """Plan the video and queue its clips as tasks of their own (jobs.fanout); the last clip finishes it."""
    token = state.claim_when_free(video_id)
    if not token:
        return "not claimed (already running elsewhere, finished or cancelled)"
    video = Video.objects.get(pk=video_id)
    progress = VideoProgress(video_id, token)
    try:
        from pipeline.dataset.build import plan_dataset

        with Supervisor(lambda: state.beat(video_id, token), lambda reason: state.hung(video_id, token, reason)):
            plan = plan_dataset(video.source_path, video.output_dir, video_params(video),
                                source_name=video.source_name)
        progress.beat(force=True)
        queued = fan_out(video, token, plan)
        if not queued:  # every clip already complete (or none at all): finish now
            finishing.finish_video(video_id, token)
        return f"{queued} clip task(s) queued"
    except (JobCancelled, WorkStopped):
        state.release(video_id, token)
        return "cancelled"
    except Exception as exc:  # noqa: BLE001 - recorded for the user (and re-raised for django-q2's log)
        state.fail(video_id, token, exc)
        if not isinstance(exc, PipelineError):
            raise
        return f"failed: {exc}"


def process_clip_task(video_id: int, run_token: str) -> str:
    """The next clip of a video job, on whichever worker runs this message."""
    return cut_clip(video_id, run_token)


def requeue_stalled() -> int:
    """Watchdog (scheduled every minute): running work without a heartbeat is re-queued or, after too many
    attempts, failed; returns how many videos and clips went back to the queue."""
    stale = timezone.now() - timedelta(seconds=settings.JOB_STALE_SECONDS)
    return requeue_stalled_clips() + state.requeue_dead(stale)


def recompute_quality(dataset_id: int) -> str:
    """Background job of the "recompute QC" button: progress goes to each video's stage text."""
    from catalog.models import Dataset
    from catalog.requalify import requalify_dataset

    dataset = Dataset.objects.get(pk=dataset_id)

    def progress(video, done: int, total: int) -> None:
        Video.objects.filter(pk=video.pk).update(stage=f"recomputing QC {done}/{total}" if done < total else "done",
                                                 heartbeat=timezone.now())

    return f"{requalify_dataset(dataset, progress)} clips"
