"""The clips of one video as django-q2 tasks of their own, so any worker process on any machine takes a share.

process_video (jobs.tasks) claims the video (jobs.state), plans it (audio decoded once, speech spans, the plan written
into the output folder for the others: pipeline.dataset.clip_plan), records one ClipTask row per clip still to cut
and queues messages bound to the video, not to a clip: the worker that runs one claims the next queued
clip with a conditional UPDATE, cuts it in its own process (one MediaPipe per process), and beats while it
works.  The task that finds no clip left queued or running finishes the video (manifest, report, import)
after winning one more conditional UPDATE, so that happens exactly once.  Every write names the video
attempt (``run_token``): clips of a cancelled or superseded attempt stop at once and write nothing.
"""
from __future__ import annotations

import logging
import os
import secrets
import socket
from collections import Counter
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import close_old_connections
from django.db.models import Count, F
from django.utils import timezone

from catalog.models import Video
from jobs import finishing, state
from jobs.db_retry import DOWN, drop_connection, with_db_retry
from jobs.messages import clip_message_name, send_clip_messages
from jobs.models import ClipTask
from jobs.supervise import Supervisor

log = logging.getLogger(__name__)


def hoard_capacity() -> int:
    """How many messages the live clusters can take from the broker before any of them runs one.

    django-q2's pusher takes a message, then blocks putting it on its queue: an idle cluster holds one
    message per worker, ``queue_limit`` waiting and one in hand.  Queuing this many messages beyond the
    clips makes sure every cluster gets work, however small the video (the extra messages find nothing).
    """
    from django_q.conf import Conf

    from jobs.system_status import live_clusters

    stats = live_clusters()
    per_cluster = Conf.QUEUE_LIMIT + Conf.BULK
    if not stats:
        return Conf.WORKERS + per_cluster
    return sum(len(s.workers) + per_cluster for s in stats)


def fan_out(video: Video, token: str, plan) -> int:
    """Record one ClipTask per clip still to cut and queue the messages that cut them; returns how many clips.

    A message is bound to the video, not to a clip: the worker that runs it claims the next queued clip
    then.  So a cluster that took more messages than it has free workers does not sit on clips that an idle
    machine could cut, and a message lost with a dead cluster is replaced by count (requeue_stalled_clips).
    """
    from pipeline.dataset.clip_plan import save_plan

    save_plan(plan)
    ClipTask.objects.filter(video=video).delete()  # an earlier attempt's rows: its clips on disk are reused
    now = timezone.now()
    ClipTask.objects.bulk_create([ClipTask(video=video, index=i, seconds=span.end_s - span.start_s, run_token=token,
                                           heartbeat=now) for i, span in plan.pending], batch_size=1000)
    ClipTask.objects.bulk_create([ClipTask(video=video, index=i, seconds=meta.get("duration_s") or 0.0, run_token=token,
                                           status=ClipTask.Status.DONE, record=meta, heartbeat=now)
                                  for i, meta in plan.complete.items()], batch_size=1000)
    total = len(plan.pending) + len(plan.complete)
    state.start_cutting(video.pk, token, total, len(plan.complete))
    if plan.pending:
        send_clip_messages(video, token, len(plan.pending) + hoard_capacity())
    return len(plan.pending)


def clip_beat(task_pk: int, claim: str, video_pk: int, run_token: str):
    """The heartbeat of a clip being cut (the clip's and its video's); False once the attempt is not current."""
    def beat() -> bool:
        now = timezone.now()
        ClipTask.objects.filter(pk=task_pk, token=claim).update(heartbeat=now)
        return bool(state.this_attempt(video_pk, run_token).update(heartbeat=now))
    return beat


def give_up_or_retry(task: ClipTask, why: str) -> bool:
    """A clip attempt that hung or whose worker died: queue it again, or after CLIP_MAX_ATTEMPTS fail it for
    good with ``why``; True when it changed.  Either way a message goes out (to cut it, or to settle)."""
    if task.attempts >= settings.CLIP_MAX_ATTEMPTS:
        change = {"status": ClipTask.Status.FAILED, "error": f"{why} on {task.attempts} attempts; this clip is left out"}
    else:
        change = {"status": ClipTask.Status.QUEUED, "token": "", "heartbeat": timezone.now(), "error": why}
    changed = ClipTask.objects.filter(pk=task.pk, status=ClipTask.Status.RUNNING, token=task.token).update(**change)
    if changed:
        send_clip_messages(Video.objects.get(pk=task.video_id), task.run_token, 1)
    return bool(changed)


def claim_clip(video_id: int, run_token: str) -> ClipTask | None:
    """Take the next queued clip of this attempt with a conditional UPDATE; None when none is left.

    Longest first: the last clips to start are the short ones, so workers finish close together.  The
    claim survives a database restart: when the UPDATE's answer is lost, this attempt's claim token says
    whether it was applied, so a clip is never left "running" by a claim nobody holds.
    """
    claim = secrets.token_hex(16)
    worker = f"{socket.gethostname()}:{os.getpid()}"[:100]
    queued = ClipTask.objects.filter(video_id=video_id, run_token=run_token, status=ClipTask.Status.QUEUED)
    mine = ClipTask.objects.filter(token=claim)
    while True:
        pk = with_db_retry(lambda: queued.order_by("-seconds", "index").values_list("pk", flat=True).first())
        if pk is None:
            return None
        try:
            queued.filter(pk=pk).update(status=ClipTask.Status.RUNNING, token=claim, heartbeat=timezone.now(),
                                        attempts=F("attempts") + 1, worker=worker)
        except DOWN:
            drop_connection()  # applied or not: the claim token tells
        task = with_db_retry(lambda: mine.first())
        if task is not None:
            return task
        # another worker took that one between the two statements: try the next


def cut_clip(video_id: int, run_token: str) -> str:
    """The body of process_clip_task: claim the video's next queued clip and cut it."""
    from pipeline.dataset.clip_job import ClipFailed, process_clip
    from pipeline.dataset.clip_plan import PLAN_DIR, job_from_plan
    from jobs.lip_sync_refit import video_params

    if not with_db_retry(state.this_attempt(video_id, run_token).exists):
        with_db_retry(lambda: settle(video_id, run_token))
        return "the video's job is no longer this attempt (cancelled, retried or finished)"
    task = claim_clip(video_id, run_token)
    if task is None:
        with_db_retry(lambda: settle(video_id, run_token))
        return "no clip left to cut"
    index = task.index
    video = with_db_retry(lambda: Video.objects.get(pk=video_id))
    status, error, metadata = ClipTask.Status.DONE, "", None
    hang = lambda reason: with_db_retry(lambda: give_up_or_retry(task, f"hung: {reason}"))  # noqa: E731
    with Supervisor(clip_beat(task.pk, task.token, video_id, run_token), hang):
        try:
            plan_file = Path(video.output_dir) / PLAN_DIR / "plan.json"
            if not plan_file.is_file():  # a worker machine without the shared folder (or mounted elsewhere)
                raise ClipFailed(f"worker {socket.gethostname()} cannot see {plan_file}: mount the shared DATA_DIR "
                                 "at the same path on every machine, then retry the job")
            metadata = process_clip(job_from_plan(video.output_dir, index, video_params(video)))
        except ClipFailed as exc:
            status, error = ClipTask.Status.FAILED, str(exc)
        except Exception as exc:  # noqa: BLE001 - one clip's crash must not sink the others (as make_dataset)
            log.exception("video %s clip %s failed", video_id, index)
            status, error = ClipTask.Status.FAILED, f"{type(exc).__name__}: {exc}"
    close_old_connections()

    def record() -> None:  # repeatable: every write is conditional on this clip attempt's claim
        ClipTask.objects.filter(pk=task.pk, token=task.token).update(status=status, error=error, record=metadata)
        left = unfinished(video_id, run_token).count()
        state.this_attempt(video_id, run_token).update(
            clips_done=F("clips_total") - left, heartbeat=timezone.now())

    with_db_retry(record)
    with_db_retry(lambda: settle(video_id, run_token))
    return f"clip {index}: {status}"


def unfinished(video_id: int, run_token: str):
    """The attempt's clips still queued or being cut."""
    return ClipTask.objects.filter(video_id=video_id, run_token=run_token,
                                   status__in=[ClipTask.Status.QUEUED, ClipTask.Status.RUNNING])


def settle(video_id: int, run_token: str) -> None:
    """After a clip: finish the video if nothing is left, or let go of a cancelled attempt once it is idle."""
    left = unfinished(video_id, run_token)
    running = state.this_attempt(video_id, run_token).exists()
    if running and not left.exists():
        finishing.finish_video(video_id, run_token)
    elif not running and not left.filter(status=ClipTask.Status.RUNNING).exists():
        Video.objects.filter(pk=video_id, run_token=run_token).exclude(status=Video.Status.RUNNING).update(
            run_token="")


def requeue_stalled_clips() -> int:
    """The clip half of the watchdog; returns how many clips went back to the queue.

    A running clip whose heartbeat stopped (its worker died) is queued again.  Then every video that is
    cutting clips gets messages enough for its queued clips: messages still waiting in the broker count,
    and so do those a cluster took within JOB_STALE_SECONDS; one taken earlier and still not run is taken
    to be lost with a dead cluster (a live cluster starting it late finds the clip taken: harmless).
    """
    from django_q.models import OrmQ

    now = timezone.now()
    stale = now - timedelta(seconds=settings.JOB_STALE_SECONDS)
    alive = {"video__status": Video.Status.RUNNING, "video__run_token": F("run_token")}
    count = 0
    for task in ClipTask.objects.filter(status=ClipTask.Status.RUNNING, heartbeat__lt=stale, **alive):
        count += give_up_or_retry(task, "the worker stopped while cutting this clip (a crash, out of memory or a hang)")
    waiting = ClipTask.objects.filter(status=ClipTask.Status.QUEUED, **alive).values(
        "video_id", "run_token").annotate(queued=Count("id"))
    if not waiting:
        return count
    # a message taken before `stale` is locked until (taken + retry)
    lost_before = stale + timedelta(seconds=settings.Q_CLUSTER["retry"])
    live = Counter(message.name() for message in OrmQ.objects.exclude(lock__gt=now, lock__lt=lost_before))
    for row in waiting:
        video_id, run_token = row["video_id"], row["run_token"]
        missing = row["queued"] - live[clip_message_name(video_id)]
        if missing > 0:
            send_clip_messages(Video.objects.get(pk=video_id), run_token, missing)
    return count
