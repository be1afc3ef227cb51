"""A video job's state machine: every change of status or phase is one conditional UPDATE here.

The Video row is the truth about a job; django-q2 only delivers work.  An attempt claims its video with a
conditional UPDATE that sets a fresh ``run_token``; every later write of the attempt is conditional on that
token (and on the job still running), so a duplicate delivery, a cancelled attempt or one taken over after
its worker died writes nothing.  ``phase`` drives control flow; ``stage`` is only the words the pages show.

    queued --claim--> running/planning --cutting--> running/cutting --finishing--> running/finishing --> done
       ^                  |  (hang, dead worker: re-queued or failed)  |                    |
       +---- retry -------+-- failed / cancelled <-------------------------------------------+
"""
from __future__ import annotations

import logging
import secrets
import time
from datetime import timedelta

from django.conf import settings
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from catalog.models import Video
from jobs.messages import enqueue
from pipeline.errors import PipelineError

log = logging.getLogger(__name__)
Status, Phase = Video.Status, Video.Phase
CUTTING_STAGE = "extracting clips"


def this_attempt(video_id: int, token: str) -> QuerySet[Video]:
    """The video while this attempt owns its running job: what every write of the attempt goes through."""
    return Video.objects.filter(pk=video_id, run_token=token, status=Status.RUNNING)


def claim(video_id: int) -> str | None:
    """Take the job for one attempt: its token, or None when it is not ours to run.

    A queued job is free once no earlier attempt holds it (a cancelled run still finishing its
    clips does, until it stops); a running job is free when its heartbeat is stale (its worker died).
    """
    stale = timezone.now() - timedelta(seconds=settings.JOB_STALE_SECONDS)
    token = secrets.token_hex(16)
    dead = Q(heartbeat__lt=stale) | Q(heartbeat__isnull=True)
    taken = Video.objects.filter(pk=video_id).filter(
        Q(status=Status.QUEUED, run_token="") | Q(status=Status.QUEUED) & dead | Q(status=Status.RUNNING) & dead
    ).update(status=Status.RUNNING, phase=Phase.PLANNING, stage="segmenting", heartbeat=timezone.now(), error="",
             attempts=F("attempts") + 1, run_token=token, started=timezone.now(), finished=None)
    return token if taken else None


def claim_when_free(video_id: int) -> str | None:
    """Claim, waiting while an earlier attempt of a re-queued job is still stopping (at most until it is stale)."""
    deadline = time.monotonic() + settings.JOB_STALE_SECONDS + 5
    while True:
        token = claim(video_id)
        if token or time.monotonic() > deadline:
            return token
        if not Video.objects.filter(pk=video_id, status=Status.QUEUED).exclude(run_token="").exists():
            return None  # not waiting for anyone: finished, cancelled or taken by another worker
        time.sleep(1)


def release(video_id: int, token: str) -> None:
    """This attempt has stopped: a retry may claim the job now."""
    Video.objects.filter(pk=video_id, run_token=token).update(run_token="")


def beat(video_id: int, token: str) -> bool:
    """The attempt's heartbeat; False once it no longer owns the job."""
    return bool(this_attempt(video_id, token).update(heartbeat=timezone.now()))


def start_cutting(video_id: int, token: str, total: int, done: int) -> bool:
    """Planned: the clips are out as tasks (the watchdog now watches them clip by clip, jobs.fanout)."""
    return bool(this_attempt(video_id, token).update(phase=Phase.CUTTING, stage=CUTTING_STAGE, clips_total=total,
                                                     clips_done=done, heartbeat=timezone.now()))


def start_finishing(video_id: int, token: str) -> bool:
    """Won by exactly one task of the attempt (the last clips may settle at once): it writes and imports."""
    return bool(this_attempt(video_id, token).exclude(phase=Phase.FINISHING).update(
        phase=Phase.FINISHING, stage="finishing", heartbeat=timezone.now()))


def finished(video_id: int, token: str, note: str) -> bool:
    now = timezone.now()
    return bool(this_attempt(video_id, token).update(status=Status.DONE, phase=Phase.IDLE, stage="done", error=note,
                                                     heartbeat=now, finished=now, clips_done=F("clips_total")))


def fail(video_id: int, token: str, exc: Exception) -> None:
    """The attempt failed: the error in words for the user (a pipeline error as it is, anything else named)."""
    if isinstance(exc, PipelineError):
        error = str(exc)
    else:
        log.exception("video %s failed", video_id)
        error = f"internal error ({type(exc).__name__}: {exc}); retry, or report it"
    this_attempt(video_id, token).update(status=Status.FAILED, phase=Phase.IDLE, error=error, finished=timezone.now())
    release(video_id, token)


def hung(video_id: int, token: str, reason: str) -> None:
    """The plan of a video hung: queue it again, or after JOB_MAX_ATTEMPTS fail it for good, saying why."""
    video = Video.objects.get(pk=video_id)
    mine = this_attempt(video_id, token)
    if video.attempts >= settings.JOB_MAX_ATTEMPTS:
        mine.update(status=Status.FAILED, phase=Phase.IDLE, run_token="",
                    error=f"reading this recording hung on {video.attempts} attempts ({reason}); it is left out")
    elif mine.update(status=Status.QUEUED, phase=Phase.IDLE, run_token="", stage="re-queued after a hang",
                     error=reason):
        enqueue(video)


def requeue_dead(stale_before) -> int:
    """The video half of the watchdog: a job planning or finishing (one task does all its work) whose heartbeat
    stopped is queued again, or after JOB_MAX_ATTEMPTS failed; a job cutting clips is watched clip by clip."""
    stuck = Video.objects.filter(status=Status.RUNNING).exclude(phase=Phase.CUTTING).filter(
        Q(heartbeat__lt=stale_before) | Q(heartbeat__isnull=True))
    count = 0
    for video in stuck:
        if video.attempts >= settings.JOB_MAX_ATTEMPTS:
            Video.objects.filter(pk=video.pk, status=Status.RUNNING).update(
                status=Status.FAILED, phase=Phase.IDLE,
                error=f"the worker stopped {video.attempts} times while processing this video (a crash, out of "
                      "memory or a hang); retry to try again")
        elif Video.objects.filter(pk=video.pk, status=Status.RUNNING, heartbeat=video.heartbeat).update(
                status=Status.QUEUED, phase=Phase.IDLE, stage="re-queued after its worker stopped"):
            enqueue(video)
            count += 1
    return count


def cancel(video_id: int) -> bool:
    """Queued or running jobs stop at their next progress report; finished ones are left alone."""
    return bool(Video.objects.filter(pk=video_id, status__in=[Status.QUEUED, Status.RUNNING]).update(
        status=Status.CANCELLED, phase=Phase.IDLE, stage="cancelled"))


def requeue(video_id: int) -> bool:
    """A failed or cancelled job back to the queue (it continues from its finished clips)."""
    return bool(Video.objects.filter(pk=video_id, status__in=[Status.FAILED, Status.CANCELLED]).update(
        status=Status.QUEUED, phase=Phase.IDLE, stage="queued", error="", attempts=0))


def requeue_idle(video_id: int, **fields) -> bool:
    """A job that is neither queued nor running nor still stopping, queued again with ``fields`` (reprocess)."""
    return bool(Video.objects.filter(pk=video_id, run_token="").exclude(
        status__in=[Status.QUEUED, Status.RUNNING]).update(
        status=Status.QUEUED, phase=Phase.IDLE, stage="queued", error="", attempts=0, **fields))
