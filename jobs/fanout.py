"""The clips of one video as django-q2 tasks of their own, so any worker process on any machine takes a share.

process_video (jobs.tasks) claims the video, plans it (audio decoded once, speech spans, the plan written
into the output folder for the others: pipeline.clip_plan) and queues one ``process_clip_task`` per clip
still to cut.  A clip task claims its ClipTask row with a conditional UPDATE, cuts the clip in its own
worker process (one MediaPipe per process), and beats while it works.  The task that finds no clip left
queued or running finishes the video (manifest, report, import) after winning one more conditional
UPDATE, so that happens exactly once.  Every write names the video attempt (``run_token``): clips of a
cancelled or superseded attempt stop at once and write nothing.
"""
from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections, connection
from django.db.models import F, Q
from django.utils import timezone

from catalog.models import Video

from .models import ClipTask

log = logging.getLogger(__name__)
EXTRACTING = "extracting clips"
FINISHING = "finishing"


def fan_out(video: Video, token: str, plan) -> int:
    """Queue one task per clip still to cut; returns how many."""
    from django_q.tasks import async_task
    from pipeline.clip_plan import save_plan

    save_plan(plan)
    ClipTask.objects.filter(video=video).delete()  # an earlier attempt's rows: its clips on disk are reused
    now = timezone.now()
    ClipTask.objects.bulk_create([ClipTask(video=video, index=i, run_token=token, heartbeat=now)
                                  for i, _ in plan.pending], batch_size=1000)
    total = len(plan.pending) + len(plan.complete)
    Video.objects.filter(pk=video.pk, run_token=token).update(
        stage=EXTRACTING, clips_total=total, clips_done=len(plan.complete), heartbeat=timezone.now())
    for index, _ in plan.pending:
        async_task("jobs.tasks.process_clip_task", video.pk, index, token, task_name=f"video-{video.pk}-clip-{index}",
                   group=f"dataset-{video.dataset_id}")
    return len(plan.pending)


class Beating:
    """While a clip is cut: a thread refreshes the clip's and the video's heartbeat (the watchdogs' evidence)."""

    def __init__(self, task_pk: int, claim: str, video_pk: int, run_token: str) -> None:
        self.args = (task_pk, claim, video_pk, run_token)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, name="clip-heartbeat", daemon=True)

    def run(self) -> None:
        task_pk, claim, video_pk, run_token = self.args
        try:
            while not self.stop.wait(settings.JOB_HEARTBEAT_SECONDS):
                now = timezone.now()
                ClipTask.objects.filter(pk=task_pk, token=claim).update(heartbeat=now)
                Video.objects.filter(pk=video_pk, run_token=run_token, status=Video.Status.RUNNING).update(heartbeat=now)
        finally:
            connection.close()

    def __enter__(self) -> "Beating":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join()


def claim_clip(video_id: int, index: int, run_token: str) -> ClipTask | None:
    stale = timezone.now() - timedelta(seconds=settings.JOB_STALE_SECONDS)
    claim = secrets.token_hex(16)
    taken = ClipTask.objects.filter(video_id=video_id, index=index, run_token=run_token).filter(
        Q(status=ClipTask.Status.QUEUED) | Q(status=ClipTask.Status.RUNNING, heartbeat__lt=stale)
    ).update(status=ClipTask.Status.RUNNING, token=claim, heartbeat=timezone.now(), attempts=F("attempts") + 1,
             worker=f"{socket.gethostname()}:{os.getpid()}"[:100])
    return ClipTask.objects.get(video_id=video_id, index=index) if taken else None


def cut_clip(video_id: int, index: int, run_token: str) -> str:
    """The body of process_clip_task."""
    from pipeline.clip_job import ClipFailed, process_clip
    from pipeline.clip_plan import job_from_plan

    from .params import dataset_params

    if not Video.objects.filter(pk=video_id, status=Video.Status.RUNNING, run_token=run_token).exists():
        settle(video_id, run_token)
        return "the video's job is no longer this attempt (cancelled, retried or finished)"
    task = claim_clip(video_id, index, run_token)
    if task is None:
        return "taken by another worker, or done"
    video = Video.objects.get(pk=video_id)
    status, error = ClipTask.Status.DONE, ""
    with Beating(task.pk, task.token, video_id, run_token):
        try:
            process_clip(job_from_plan(video.output_dir, index, dataset_params(video.params)))
        except ClipFailed as exc:
            status, error = ClipTask.Status.FAILED, str(exc)
        except Exception as exc:  # noqa: BLE001 - one clip's crash must not sink the others (as make_dataset)
            log.exception("video %s clip %s failed", video_id, index)
            status, error = ClipTask.Status.FAILED, f"{type(exc).__name__}: {exc}"
    close_old_connections()
    ClipTask.objects.filter(pk=task.pk, token=task.token).update(status=status, error=error)
    left = ClipTask.objects.filter(video_id=video_id, run_token=run_token,
                                   status__in=[ClipTask.Status.QUEUED, ClipTask.Status.RUNNING]).count()
    Video.objects.filter(pk=video_id, run_token=run_token, status=Video.Status.RUNNING).update(
        clips_done=F("clips_total") - left, heartbeat=timezone.now())
    settle(video_id, run_token)
    return f"clip {index}: {status}"


def settle(video_id: int, run_token: str) -> None:
    """After a clip: finish the video if nothing is left, or let go of a cancelled attempt once it is idle."""
    left = ClipTask.objects.filter(video_id=video_id, run_token=run_token,
                                   status__in=[ClipTask.Status.QUEUED, ClipTask.Status.RUNNING])
    running = Video.objects.filter(pk=video_id, run_token=run_token, status=Video.Status.RUNNING).exists()
    if running and not left.exists():
        from .tasks import finish_video

        finish_video(video_id, run_token)
    elif not running and not left.filter(status=ClipTask.Status.RUNNING).exists():
        Video.objects.filter(pk=video_id, run_token=run_token).exclude(status=Video.Status.RUNNING).update(
            run_token="")


def requeue_stalled_clips() -> int:
    """The clip half of the watchdog: clips whose worker died go back to the queue.

    A running clip whose heartbeat stopped is queued again.  So is a queued clip whose task a cluster took
    from the broker more than JOB_STALE_SECONDS ago without starting it: that cluster died holding it (a
    cluster holds at most one waiting task per worker, so a live one starts it within one clip's time).
    A second message for a clip is harmless: whichever comes second finds the clip claimed or done.
    """
    from django_q.models import OrmQ
    from django_q.tasks import async_task

    now = timezone.now()
    stale = now - timedelta(seconds=settings.JOB_STALE_SECONDS)
    alive = {"video__status": Video.Status.RUNNING, "video__run_token": F("run_token")}
    dead = list(ClipTask.objects.filter(status=ClipTask.Status.RUNNING, heartbeat__lt=stale, **alive))
    waiting = ClipTask.objects.filter(status=ClipTask.Status.QUEUED, heartbeat__lt=stale, **alive)
    if waiting.exists():
        # taken from the broker before `stale`: its lock runs until (taken + retry)
        taken_before = stale + timedelta(seconds=settings.Q_CLUSTER["retry"])
        held = {q.name() for q in OrmQ.objects.filter(lock__gt=now, lock__lt=taken_before)}
        dead += [t for t in waiting if f"video-{t.video_id}-clip-{t.index}" in held]
    count = 0
    for task in dead:
        if ClipTask.objects.filter(pk=task.pk, status=task.status, token=task.token).update(
                status=ClipTask.Status.QUEUED, token="", heartbeat=now):
            async_task("jobs.tasks.process_clip_task", task.video_id, task.index, task.run_token,
                       task_name=f"video-{task.video_id}-clip-{task.index}")
            count += 1
    return count
